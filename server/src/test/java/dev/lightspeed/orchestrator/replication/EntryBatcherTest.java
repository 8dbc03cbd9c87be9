package dev.lightspeed.orchestrator.replication;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.cluster.GroupClient;
import dev.lightspeed.orchestrator.core.Command;
import dev.lightspeed.orchestrator.core.ItemResults;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.grpc.ClusterEntries;
import dev.lightspeed.orchestrator.grpc.ProtoMapper;
import dev.lightspeed.orchestrator.grpc.ReplyCodec;
import dev.lightspeed.orchestrator.host.Limits;
import dev.lightspeed.orchestrator.host.ServerReason;
import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.Connector;
import dev.lightspeed.orchestrator.v1.ConnectorKind;
import dev.lightspeed.orchestrator.v1.PipelineSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/**
 * A node's writes to one group: sent alone while the group is idle, several as one log entry while
 * others are in flight, each call answered with its own reply ({@link EntryBatcher}); and the
 * replica applying such an entry exactly as it would apply its commands one by one
 * ({@link GroupState}).
 */
class EntryBatcherTest {
  /** The Raft side, held: each send waits until the test answers it by applying it to a replica. */
  private final List<byte[]> sent = new ArrayList<>();
  private final List<CompletableFuture<GroupClient.Reply>> inFlight = new ArrayList<>();
  private final GroupState replica = new GroupState(Limits.DEFAULTS);
  private long index;

  private CompletableFuture<GroupClient.Reply> send(byte[] entry) {
    CompletableFuture<GroupClient.Reply> f = new CompletableFuture<>();
    sent.add(entry);
    inFlight.add(f);
    return f;
  }

  /** Applies the oldest sent entry at the next index and completes its send. */
  private void commitOldest() {
    byte[] entry = sent.remove(0);
    long at = ++index;
    inFlight.remove(0).complete(new GroupClient.Reply(replica.apply(at, entry), at));
  }

  private static byte[] create(String name) {
    PipelineSpec spec = PipelineSpec.newBuilder().setName(name).addStages("s")
        .addConnectors(Connector.newBuilder().setName("c").setStage("s")
            .setKind(ConnectorKind.CONNECTOR_KIND_SOURCE))
        .build();
    return ClusterEntries.entry(name, 1_000, new Command.CreatePipeline(ProtoMapper.toCore(spec)),
        (byte) 0);
  }

  private static byte[] enqueue(String pipeline, String key) {
    return ClusterEntries.entry(pipeline, 2_000, Command.Enqueue.of(ProtoMapper.toCore(
        Batch.newBuilder().setKey(key).setStage("s").setRecords(1).setIdempotencyKey(key)
            .build())), (byte) 0);
  }

  @Test
  void anIdleGroupGetsEachWriteAloneInTheSingleEntryFormat() throws Exception {
    EntryBatcher batcher = new EntryBatcher(this::send, 2);
    byte[] entry = create("p");

    CompletableFuture<GroupClient.Reply> reply = batcher.write(entry);

    assertThat(sent).containsExactly(entry);
    commitOldest();
    assertThat(ReplyCodec.decode(reply.get().bytes())).isNotInstanceOf(Rejection.class);
  }

  @Test
  void writesArrivingWhileOthersAreInFlightGoAsOneEntryAndEachGetsItsOwnReply()
      throws Exception {
    EntryBatcher batcher = new EntryBatcher(this::send, 1);
    CompletableFuture<GroupClient.Reply> created = batcher.write(create("p"));
    // Waiting behind the create: an enqueue, an enqueue of a pipeline that does not exist, and
    // the first enqueue again (deduplicated by its idempotency key).
    CompletableFuture<GroupClient.Reply> a = batcher.write(enqueue("p", "a"));
    CompletableFuture<GroupClient.Reply> missing = batcher.write(enqueue("nope", "b"));
    CompletableFuture<GroupClient.Reply> again = batcher.write(enqueue("p", "a"));
    assertThat(sent).hasSize(1);

    commitOldest();
    assertThat(created.get()).isNotNull();
    assertThat(sent).hasSize(1);
    assertThat(ClusterEntries.isBatch(sent.get(0))).isTrue();
    assertThat(ClusterEntries.parseBatch(sent.get(0))).hasSize(3);
    commitOldest();

    assertThat(firstItemDeduplicated(a)).isFalse();
    assertThat(((Rejection) ReplyCodec.decode(missing.get().bytes())).reason())
        .isEqualTo(ServerReason.PIPELINE_NOT_FOUND);
    assertThat(firstItemDeduplicated(again)).isTrue();
    assertThat(a.get().index()).isEqualTo(2).isEqualTo(again.get().index());
    assertThat(replica.lastAppliedIndex()).isEqualTo(2);
  }

  @SuppressWarnings("unchecked")
  private static boolean firstItemDeduplicated(CompletableFuture<GroupClient.Reply> reply)
      throws ExecutionException, InterruptedException {
    Object result = ReplyCodec.decode(reply.get().bytes());
    assertThat(result).isInstanceOf(ItemResults.class);
    return ((ItemResults<Boolean>) result).value(0);
  }

  @Test
  void aBatchLeavesTheReplicaExactlyAsTheSameCommandsOneByOne() {
    GroupState oneByOne = new GroupState(Limits.DEFAULTS);
    List<byte[]> commands = List.of(create("p"), enqueue("p", "a"), enqueue("p", "b"),
        enqueue("nope", "c"), enqueue("p", "a"));
    for (byte[] c : commands) {
      oneByOne.apply(7, c);
    }

    replica.apply(7, ClusterEntries.batch(commands));

    assertThat(replica.summary()).isEqualTo(oneByOne.summary());
    assertThat(replica.summary().pipelines()).isEqualTo(1);
  }

  @Test
  void aFailedSendFailsEveryCallInItAndTheNextWritesStillGo() {
    EntryBatcher batcher = new EntryBatcher(this::send, 1);
    CompletableFuture<GroupClient.Reply> first = batcher.write(create("p"));
    CompletableFuture<GroupClient.Reply> second = batcher.write(enqueue("p", "a"));
    CompletableFuture<GroupClient.Reply> third = batcher.write(enqueue("p", "b"));

    sent.remove(0);
    inFlight.remove(0).completeExceptionally(new IllegalStateException("no leader"));
    assertThat(first).isCompletedExceptionally();
    // The two that waited were sent together after the failure, and fail together.
    sent.remove(0);
    inFlight.remove(0).completeExceptionally(new IllegalStateException("no leader"));
    assertThat(second).isCompletedExceptionally();
    assertThat(third).isCompletedExceptionally();

    CompletableFuture<GroupClient.Reply> later = batcher.write(create("q"));
    assertThat(sent).hasSize(1);
    commitOldest();
    assertThat(later).isCompleted();
  }

  @Test
  void anUnreadableBatchIsRefusedAsAWholeAndEveryCallGetsTheRefusal() throws Exception {
    byte[] broken = ClusterEntries.batch(List.of(create("p")));
    broken[4] = 9; // claims nine entries

    byte[] reply = replica.apply(1, broken);

    List<byte[]> replies = ClusterEntries.parseReplies(reply);
    assertThat(replies).hasSize(1);
    assertThat(((Rejection) ReplyCodec.decode(replies.get(0))).reason())
        .isEqualTo(ServerReason.MALFORMED_REQUEST);
    assertThat(replica.summary().pipelines()).isZero();
  }
}
