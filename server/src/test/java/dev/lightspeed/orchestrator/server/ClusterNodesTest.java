package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static dev.lightspeed.orchestrator.server.RpcErrors.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.cluster.ClusterLayout;
import dev.lightspeed.orchestrator.cluster.RaftTuning;
import dev.lightspeed.orchestrator.grpc.Reads;
import dev.lightspeed.orchestrator.host.PipelineStore;
import dev.lightspeed.orchestrator.replication.ClusterHost;
import dev.lightspeed.orchestrator.replication.GroupState;
import dev.lightspeed.orchestrator.v1.AckBatchRequest;
import dev.lightspeed.orchestrator.security.TokenFile;
import dev.lightspeed.orchestrator.v1.ClusterConfig;
import dev.lightspeed.orchestrator.v1.ClusterGroupStatus;
import dev.lightspeed.orchestrator.v1.GetClusterStatusRequest;
import dev.lightspeed.orchestrator.v1.GetClusterStatusResponse;
import dev.lightspeed.orchestrator.v1.ClusterPeer;
import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.DeletePipelineRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchResponse;
import dev.lightspeed.orchestrator.v1.GetStatusRequest;
import dev.lightspeed.orchestrator.v1.GetStatusResponse;
import dev.lightspeed.orchestrator.v1.ListPipelinesRequest;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceBlockingStub;
import dev.lightspeed.orchestrator.v1.StartAvailableRequest;
import dev.lightspeed.orchestrator.v1.StartAvailableResponse;
import dev.lightspeed.orchestrator.v1.WatchStartedRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three cluster nodes in one JVM, each a Raft node and a gRPC server on loopback ports picked
 * free: a call through any node is replicated through its pipeline's group and answered from the
 * leader's apply; refusals are those of one node; every replica applies the same commands at the
 * same times, so each reaches the same signature; a stopped leader is replaced.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClusterNodesTest extends ClusterTestBase {
  @Test
  void callsThroughAnyNodeAreReplicatedAndEveryReplicaReachesTheSameSignature() throws Exception {
    startCluster(2);
    stub("n1").createPipeline(CreatePipelineRequest.newBuilder()
        .setSpec(pipeline("orders", "extract")).build());

    EnqueueBatchResponse enqueued = stub("n2").enqueueBatch(EnqueueBatchRequest.newBuilder()
        .setPipeline("orders").setBatch(batch("b1", "extract", 1)).build());
    assertThat(enqueued.getDeduplicated()).isFalse();
    EnqueueBatchResponse again = stub("n3").enqueueBatch(EnqueueBatchRequest.newBuilder()
        .setPipeline("orders").setBatch(batch("b1", "extract", 1)).build());
    assertThat(again.getDeduplicated()).as("a retried enqueue through another node").isTrue();

    List<StartAvailableResponse> started = new ArrayList<>();
    stub("n3").startAvailable(StartAvailableRequest.newBuilder().setPipeline("orders").build())
        .forEachRemaining(started::add);
    assertThat(started).hasSize(1);
    assertThat(started.get(0).getStarted().getBatch().getKey()).isEqualTo("b1");
    int attempt = started.get(0).getStarted().getAttempt();
    stub("n3").ackBatch(AckBatchRequest.newBuilder().setPipeline("orders").setKey("b1")
        .setAttempt(attempt).build());

    // Every node answers GetStatus (read index on the leader) with the same signature ...
    String signature = status("n1").getSignature();
    for (String node : nodes.keySet()) {
      assertThat(status(node).getSignature()).as("GetStatus through %s", node)
          .isEqualTo(signature);
    }
    // ... and every replica's own state reaches it: the same commands at the same times.
    int group = layout.placement().groupOf("orders");
    for (String node : nodes.keySet()) {
      GroupState replica =
          (GroupState) nodes.get(node).host().node().stateMachine(group).state();
      awaitTrue("replica " + node + " applies the ack", () -> {
        try {
          return Reads.getStatus(replica.registry().get("orders")).getSignature()
              .equals(signature);
        } catch (RuntimeException notYetCreated) {
          return false;
        }
      });
    }
    assertThat(stub("n2").listPipelines(ListPipelinesRequest.getDefaultInstance())
        .getPipelinesList()).extracting(p -> p.getName()).containsExactly("orders");
  }

  @Test
  void refusalsAreThoseOfOneNode() throws Exception {
    startCluster(2);
    assertRefused(() -> stub("n1").enqueueBatch(EnqueueBatchRequest.newBuilder()
            .setPipeline("nope").setBatch(batch("b1", "extract", 1)).build()),
        Status.Code.NOT_FOUND, "PIPELINE_NOT_FOUND");
    // a request that fails its own checks on a missing pipeline is still PIPELINE_NOT_FOUND
    assertRefused(() -> stub("n2").ackBatch(AckBatchRequest.newBuilder()
            .setPipeline("nope").setKey("").build()),
        Status.Code.NOT_FOUND, "PIPELINE_NOT_FOUND");
    stub("n1").createPipeline(CreatePipelineRequest.newBuilder()
        .setSpec(pipeline("orders", "extract")).build());
    assertRefused(() -> stub("n3").createPipeline(CreatePipelineRequest.newBuilder()
            .setSpec(pipeline("orders", "extract")).build()),
        Status.Code.ALREADY_EXISTS, "PIPELINE_EXISTS");
    assertRefused(() -> stub("n2").enqueueBatch(EnqueueBatchRequest.newBuilder()
            .setPipeline("orders").setBatch(batch("b1", "no-such-stage", 1)).build()),
        Status.Code.FAILED_PRECONDITION, "UNKNOWN_STAGE");
    assertRefused(() -> stub("n3").ackBatch(AckBatchRequest.newBuilder()
            .setPipeline("orders").setKey("never-enqueued").setAttempt(1).build()),
        Status.Code.NOT_FOUND, "BATCH_NOT_FOUND");
    stub("n1").enqueueBatch(EnqueueBatchRequest.newBuilder()
        .setPipeline("orders").setBatch(batch("b1", "extract", 1)).build());
    assertRefused(() -> stub("n2").deletePipeline(
            DeletePipelineRequest.newBuilder().setName("orders").build()),
        Status.Code.FAILED_PRECONDITION, "PIPELINE_NOT_EMPTY");
    stub("n2").deletePipeline(DeletePipelineRequest.newBuilder().setName("orders")
        .setForce(true).build());
    assertRefused(() -> stub("n3").getStatus(
            GetStatusRequest.newBuilder().setPipeline("orders").build()),
        Status.Code.NOT_FOUND, "PIPELINE_NOT_FOUND");

    // a watch of a pipeline that does not exist is refused as on one node
    StatusRuntimeException watch = org.junit.jupiter.api.Assertions.assertThrows(
        StatusRuntimeException.class, () -> stub("n1").watchStarted(
            WatchStartedRequest.newBuilder().setPipeline("orders").build()).hasNext());
    assertThat(watch.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
  }

  @Test
  void everyReplicaFeedsItsWatchersFromWhatItApplies() throws Exception {
    startCluster(1);
    var spec = pipeline("orders", "extract", WatchRecorder.PROBE_STAGE).build();
    stub("n1").createPipeline(CreatePipelineRequest.newBuilder().setSpec(spec).build());
    PipelineClient through1 = new PipelineClient(stub("n1"), "orders");
    // a watcher on each node, fed by that node's own replica
    Map<String, WatchRecorder> watchers = new LinkedHashMap<>();
    for (String node : nodes.keySet()) {
      WatchRecorder recorder = new WatchRecorder();
      OrchestratorServiceGrpc.newStub(nodes.get(node).channel()).watchStarted(
          WatchStartedRequest.newBuilder().setPipeline("orders").build(), recorder);
      recorder.awaitEstablished(through1);
      watchers.put(node, recorder);
    }
    stub("n2").enqueueBatch(EnqueueBatchRequest.newBuilder()
        .setPipeline("orders").setBatch(batch("b1", "extract", 1)).build());
    List<StartAvailableResponse> started = new ArrayList<>();
    stub("n3").startAvailable(StartAvailableRequest.newBuilder().setPipeline("orders")
        .addStages("extract").build()).forEachRemaining(started::add);
    assertThat(started).hasSize(1);
    for (var e : watchers.entrySet()) {
      var seen = e.getValue().next();
      assertThat(seen).as("the watcher on %s", e.getKey()).isEqualTo(started.get(0).getStarted());
    }
  }

  @Test
  void aStoppedLeaderIsReplacedAndWritesGoOn() throws Exception {
    startCluster(1);
    stub("n1").createPipeline(CreatePipelineRequest.newBuilder()
        .setSpec(pipeline("orders", "extract")).build());
    String leader = null;
    for (var e : nodes.entrySet()) {
      if (e.getValue().host().node().isLeader(0)) {
        leader = e.getKey();
      }
    }
    assertThat(leader).as("the group has a leader after a write").isNotNull();
    nodes.remove(leader).stop();

    String survivor = nodes.keySet().iterator().next();
    EnqueueBatchResponse enqueued = stub(survivor).enqueueBatch(EnqueueBatchRequest.newBuilder()
        .setPipeline("orders").setBatch(batch("b1", "extract", 1)).build());
    assertThat(enqueued.getDeduplicated()).isFalse();
    for (String node : nodes.keySet()) {
      GetStatusResponse status = status(node);
      assertThat(status.getQueuedCount()).as("through %s", node).isEqualTo(1);
    }
  }

  /**
   * Issue 17's minority side: a node left alone (the other two stopped, as a partition looks from
   * its side) refuses writes UNAVAILABLE with a reason, and refuses linearizable reads rather than
   * answer from its own, possibly stale, replica; once a second node is back, the same calls
   * succeed and see the write acknowledged before the partition.
   */
  @Test
  void aNodeLeftAloneRefusesWritesAndReadsUntilAMajorityIsBack() throws Exception {
    tuning = TUNING.withClientRetries("50ms, 20"); // about 1 s of retries: refusals come soon
    startCluster(1);
    // With retries that short, a call made while the group elects its first leader fails.
    untilAccepted("the pipeline is created", () -> stub("n1").createPipeline(
        CreatePipelineRequest.newBuilder().setSpec(pipeline("orders", "extract")).build()));
    untilAccepted("b1 is enqueued", () -> stub("n1").enqueueBatch(EnqueueBatchRequest.newBuilder()
        .setPipeline("orders").setBatch(batch("b1", "extract", 1)).build()));

    nodes.remove("n2").stop();
    nodes.remove("n3").stop();
    // A leader that hears from no majority steps down within about an election timeout; a write
    // reaching it before that would be appended and could still commit once the others are back.
    awaitTrue("n1 no longer leads on its own", () -> {
      try {
        return !nodes.get("n1").host().node().isLeader(0);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });

    com.google.rpc.Status write = assertRefused(() -> stub("n1").enqueueBatch(
        EnqueueBatchRequest.newBuilder().setPipeline("orders")
            .setBatch(batch("b2", "extract", 2)).build()),
        Status.Code.UNAVAILABLE, "JOURNAL_UNAVAILABLE");
    assertThat(write.getMessage()).as("says which group and what it needs")
        .contains("Raft group 0").contains("majority");
    assertRefused(() -> status("n1"), Status.Code.UNAVAILABLE, "JOURNAL_UNAVAILABLE");

    startNode("n2", ServerSettings.defaults(), null);
    untilAccepted("a write through n1 is accepted again", () -> stub("n1").enqueueBatch(
        EnqueueBatchRequest.newBuilder().setPipeline("orders")
            .setBatch(batch("b2", "extract", 2)).build()));
    assertThat(status("n1").getQueuedCount()).as("b1 from before the partition and b2")
        .isEqualTo(2);
  }

  @Test
  void clusterStatusIsEachNodesOwnViewAndTheReplicasSignaturesAgreeOnceApplied() throws Exception {
    startCluster(2, ServerSettings.defaults().withTokens(TokenFile.parse(
        AuthTest.ROOT + " producer,worker,admin,reader\n" + AuthTest.READER + " reader",
        "tokens.txt")), AuthTest.ROOT);
    List<String> names = List.of("orders", "invoices", "emails", "reports", "events");
    assertThat(names.stream().map(layout.placement()::groupOf).distinct().count())
        .as("the pipelines fill both groups").isEqualTo(2);
    for (String name : names) {
      stub("n1").createPipeline(CreatePipelineRequest.newBuilder()
          .setSpec(pipeline(name, "extract")).build());
      stub("n2").enqueueBatch(EnqueueBatchRequest.newBuilder()
          .setPipeline(name).setBatch(batch("b1", "extract", 1)).build());
    }
    stub("n3").startAvailable(StartAvailableRequest.newBuilder().setPipeline("orders").build())
        .forEachRemaining(s -> stub("n3").ackBatch(AckBatchRequest.newBuilder()
            .setPipeline("orders").setKey(s.getStarted().getBatch().getKey())
            .setAttempt(s.getStarted().getAttempt()).build()));

    Map<String, GetClusterStatusResponse> views = quietClusterStatus();
    for (var view : views.entrySet()) {
      GetClusterStatusResponse v = view.getValue();
      assertThat(v.getNodeId()).as("answered by the node asked").isEqualTo(view.getKey());
      assertThat(v.getClusterName()).isEqualTo("test");
      assertThat(v.getGroupsList()).extracting(ClusterGroupStatus::getGroup).containsExactly(0, 1);
      for (ClusterGroupStatus g : v.getGroupsList()) {
        ClusterGroupStatus onN1 = views.get("n1").getGroups(g.getGroup());
        assertThat(g.getMembersList()).containsExactlyElementsOf(
            layout.placement().membersOf(g.getGroup()));
        assertThat(g.getLeaderId()).as("group %s on %s", g.getGroup(), view.getKey())
            .isNotEmpty().isEqualTo(onN1.getLeaderId());
        assertThat(g.getTerm()).isPositive().isEqualTo(onN1.getTerm());
        assertThat(g.getRole()).isEqualTo(
            g.getLeaderId().equals(view.getKey()) ? "LEADER" : "FOLLOWER");
        assertThat(g.getValid()).isTrue();
        assertThat(g.getSignature()).as("group %s on %s at index %s", g.getGroup(),
            view.getKey(), g.getAppliedIndex()).isEqualTo(onN1.getSignature());
        assertThat(g.getPipelineCount()).isEqualTo(onN1.getPipelineCount());
        // The documented formula, from the pipelines' own GetStatus signatures.
        assertThat(g.getSignature()).isEqualTo(groupSignature(g.getGroup(), names));
      }
    }
    assertThat(views.get("n1").getGroupsList().stream()
        .mapToInt(ClusterGroupStatus::getPipelineCount).sum()).isEqualTo(names.size());

    // The signature is of the replica's state: a write changes its group's, not the other's.
    int ordersGroup = layout.placement().groupOf("orders");
    stub("n2").enqueueBatch(EnqueueBatchRequest.newBuilder()
        .setPipeline("orders").setBatch(batch("b2", "extract", 2)).build());
    Map<String, GetClusterStatusResponse> after = quietClusterStatus();
    assertThat(after.get("n3").getGroups(ordersGroup).getSignature())
        .isNotEqualTo(views.get("n3").getGroups(ordersGroup).getSignature())
        .isEqualTo(groupSignature(ordersGroup, names));
    assertThat(after.get("n3").getGroups(1 - ordersGroup).getSignature())
        .isEqualTo(views.get("n3").getGroups(1 - ordersGroup).getSignature());

    // An admin RPC: a reader's token is refused.
    var reader = OrchestratorServiceGrpc.newBlockingStub(AuthTest.withHeader(
        nodes.get("n1").channel(), "Bearer " + AuthTest.READER));
    assertRefused(() -> reader.getClusterStatus(GetClusterStatusRequest.getDefaultInstance()),
        Status.Code.PERMISSION_DENIED, "ROLE_REQUIRED");
  }

  /**
   * Every node's GetClusterStatus, once each group's replicas all report the same applied index
   * (a bounded poll: followers apply shortly after the leader). Only then are they comparable.
   */
  private Map<String, GetClusterStatusResponse> quietClusterStatus() throws Exception {
    Map<String, GetClusterStatusResponse> views = new LinkedHashMap<>();
    awaitTrue("every group's replicas reach the same applied index", () -> {
      views.clear();
      for (String node : nodes.keySet()) {
        views.put(node, stub(node).getClusterStatus(GetClusterStatusRequest.getDefaultInstance()));
      }
      GetClusterStatusResponse first = views.values().iterator().next();
      for (GetClusterStatusResponse v : views.values()) {
        for (int g = 0; g < first.getGroupsCount(); g++) {
          ClusterGroupStatus mine = v.getGroups(g);
          if (mine.getAppliedIndex() != first.getGroups(g).getAppliedIndex()
              || mine.getAppliedIndex() < mine.getCommitIndex() || mine.getLeaderId().isEmpty()) {
            return false;
          }
        }
      }
      return true;
    });
    return views;
  }

  /** docs/cluster.md's replica signature, computed from GetStatus of each of the group's pipelines. */
  private String groupSignature(int group, List<String> names) throws Exception {
    java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
    for (String name : names.stream().filter(n -> layout.placement().groupOf(n) == group)
        .sorted().toList()) {
      String signature = stub("n1").getStatus(GetStatusRequest.newBuilder().setPipeline(name)
          .build()).getSignature();
      sha.update((name + "\n" + signature + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    return java.util.HexFormat.of().formatHex(sha.digest());
  }

  private GetStatusResponse status(String node) {
    return stub(node).getStatus(GetStatusRequest.newBuilder().setPipeline("orders").build());
  }

}
