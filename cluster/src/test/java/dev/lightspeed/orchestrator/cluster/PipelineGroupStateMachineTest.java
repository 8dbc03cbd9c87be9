package dev.lightspeed.orchestrator.cluster;

import static dev.lightspeed.orchestrator.cluster.AppendOnlyTestState.command;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.lang.reflect.Proxy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.StateMachineLogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.SizeInBytes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The adapter alone, driven as Ratis drives it, on a real Ratis storage directory. */
class PipelineGroupStateMachineTest {
  @TempDir Path dir;

  private RaftStorage storage() throws Exception {
    RaftStorage storage = RaftStorage.newBuilder()
        .setDirectory(dir.toFile())
        .setOption(RaftStorage.StartupOption.RECOVER)
        .setStorageFreeSpaceMin(SizeInBytes.ONE_MB)
        .build();
    storage.initialize();
    return storage;
  }

  private static PipelineGroupStateMachine started(AppendOnlyTestState state, RaftStorage storage)
      throws Exception {
    PipelineGroupStateMachine machine = new PipelineGroupStateMachine(state);
    machine.initialize(server(), RaftGroupId.randomId(), storage);
    return machine;
  }

  /** The adapter asks its server only for its id (to name its log lines). */
  private static RaftServer server() {
    return (RaftServer) Proxy.newProxyInstance(RaftServer.class.getClassLoader(),
        new Class<?>[] {RaftServer.class},
        (proxy, method, args) -> method.getName().equals("getId")
            ? RaftPeerId.valueOf("test")
            : null);
  }

  private static String apply(PipelineGroupStateMachine machine, long term, long index,
      byte[] bytes) throws Exception {
    LogEntryProto entry = LogEntryProto.newBuilder()
        .setTerm(term)
        .setIndex(index)
        .setStateMachineLogEntry(
            StateMachineLogEntryProto.newBuilder().setLogData(ByteString.copyFrom(bytes)))
        .build();
    TransactionContext trx = TransactionContext.newBuilder()
        .setStateMachine(machine)
        .setLogEntry(entry)
        .build();
    Message reply = machine.applyTransaction(trx).get(10, TimeUnit.SECONDS);
    return reply.getContent().toStringUtf8();
  }

  private static Message text(String s) {
    return Message.valueOf(ByteString.copyFromUtf8(s));
  }

  @Test
  void aCommittedEntryIsAppliedOnceAtItsIndexWithTheTimeInsideItsBytes() throws Exception {
    AppendOnlyTestState state = new AppendOnlyTestState();
    PipelineGroupStateMachine machine = started(state, storage());
    assertThat(apply(machine, 1, 3, command(42, "a"))).isEqualTo("1");
    assertThat(apply(machine, 2, 7, command(43, "b"))).isEqualTo("2");
    assertThat(state.lines()).containsExactly("3@42:a", "7@43:b");
    assertThat(machine.getLastAppliedTermIndex()).isEqualTo(TermIndex.valueOf(2, 7));
    assertThat(machine.query(text("last")).get().getContent().toStringUtf8()).isEqualTo("7@43:b");
  }

  @Test
  void aSnapshotAtTheAppliedIndexIsRestoredByTheNextStart() throws Exception {
    RaftStorage storage = storage();
    AppendOnlyTestState first = new AppendOnlyTestState();
    PipelineGroupStateMachine machine = started(first, storage);
    apply(machine, 1, 1, command(10, "x"));
    apply(machine, 1, 2, command(11, "y"));
    // A Raft entry the state never sees (e.g. a configuration change) also moves the index.
    machine.notifyTermIndexUpdated(1, 3);

    assertThat(machine.takeSnapshot()).isEqualTo(3);
    File sm = storage.getStorageDir().getStateMachineDir();
    assertThat(sm.list()).contains("snapshot.1_3", "snapshot.1_3.md5");
    assertThat(machine.getLatestSnapshot().getTermIndex()).isEqualTo(TermIndex.valueOf(1, 3));

    AppendOnlyTestState second = new AppendOnlyTestState();
    PipelineGroupStateMachine restarted = started(second, storage);
    assertThat(second.lines()).isEqualTo(first.lines());
    assertThat(second.restoredAt()).containsExactly(2L);
    assertThat(restarted.getLastAppliedTermIndex()).isEqualTo(TermIndex.valueOf(1, 3));
  }

  @Test
  void aDamagedSnapshotFileFailsTheStartInsteadOfBecomingTheState() throws Exception {
    RaftStorage storage = storage();
    PipelineGroupStateMachine machine = started(new AppendOnlyTestState(), storage);
    apply(machine, 1, 1, command(10, "x"));
    machine.takeSnapshot();
    Path file = storage.getStorageDir().getStateMachineDir().toPath().resolve("snapshot.1_1");
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length - 1] ^= 1;
    Files.write(file, bytes);

    assertThatThrownBy(() -> started(new AppendOnlyTestState(), storage))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("snapshot " + file + " does not match its MD5 file");
  }

  @Test
  void reinitializeAfterAnInstalledSnapshotReplacesTheState() throws Exception {
    RaftStorage storage = storage();
    // A follower started before any snapshot existed: its state is empty.
    AppendOnlyTestState followerState = new AppendOnlyTestState();
    PipelineGroupStateMachine follower = started(followerState, storage);

    // The leader's snapshot arrives in the follower's state machine directory (here written by
    // a second adapter on the same directory); Ratis pauses the follower, then reinitializes it.
    AppendOnlyTestState leaderState = new AppendOnlyTestState();
    PipelineGroupStateMachine leader = started(leaderState, storage);
    apply(leader, 1, 1, command(1, "from-leader"));
    leader.takeSnapshot();

    follower.pause();
    assertThat(follower.getLifeCycleState()).isEqualTo(LifeCycle.State.PAUSED);
    follower.reinitialize();
    assertThat(followerState.lines()).containsExactly("1@1:from-leader");
    assertThat(follower.getLastAppliedTermIndex()).isEqualTo(TermIndex.valueOf(1, 1));
    assertThat(follower.getLifeCycleState()).isEqualTo(LifeCycle.State.RUNNING);
  }

  @Test
  void aStaleReadWaitsUntilTheReplicaHasAppliedItsMinimumIndex() throws Exception {
    AppendOnlyTestState state = new AppendOnlyTestState();
    PipelineGroupStateMachine machine = started(state, storage());
    apply(machine, 1, 1, command(1, "one"));

    assertThat(machine.queryStale(text("last"), 1).get(10, TimeUnit.SECONDS)
        .getContent().toStringUtf8()).isEqualTo("1@1:one");
    CompletableFuture<Message> waiting = machine.queryStale(text("last"), 3);
    CompletableFuture<Message> waitingForRaftEntry = machine.queryStale(text("size"), 4);
    assertThat(waiting).isNotDone();

    apply(machine, 1, 2, command(2, "two"));
    assertThat(waiting).isNotDone();
    apply(machine, 1, 3, command(3, "three"));
    assertThat(waiting.get(10, TimeUnit.SECONDS).getContent().toStringUtf8())
        .isEqualTo("3@3:three");

    assertThat(waitingForRaftEntry).isNotDone();
    machine.notifyTermIndexUpdated(2, 4);
    assertThat(waitingForRaftEntry.get(10, TimeUnit.SECONDS).getContent().toStringUtf8())
        .isEqualTo("3");
    assertThat(new String(state.query("size".getBytes(StandardCharsets.UTF_8)),
        StandardCharsets.UTF_8)).isEqualTo("3");
  }

  /**
   * A read that is slow to finish (a large status's signature) neither runs on the thread that
   * asked (Ratis asks from the leader's append-entries reply handler: blocking it cost the leader
   * its leadership) nor holds up applies while it finishes.
   */
  @Test
  void aSlowReadRunsOffTheCallersThread_andAppliesGoOnWhileItFinishes() throws Exception {
    java.util.concurrent.CountDownLatch prepared = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    AppendOnlyTestState slowReads = new AppendOnlyTestState() {
      @Override
      public java.util.function.Supplier<byte[]> prepareQuery(byte[] request) {
        byte[] reply = query(request);
        prepared.countDown();
        return () -> {
          try {
            release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return reply;
        };
      }
    };
    PipelineGroupStateMachine machine = started(slowReads, storage());
    apply(machine, 1, 1, command(100, "a"));

    CompletableFuture<Message> read = CompletableFuture.supplyAsync(() -> machine.query(text("size")))
        .get(5, TimeUnit.SECONDS); // returned at once: the caller's thread is free
    assertThat(read).isNotDone();
    // Its consistent part (under the lock) has run; the apply must not wait for the rest.
    assertThat(prepared.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(apply(machine, 1, 2, command(200, "b"))).isEqualTo("2"); // not blocked by the read
    release.countDown();
    assertThat(read.get(5, TimeUnit.SECONDS).getContent().toStringUtf8()).isEqualTo("1");
  }
}
