package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static dev.lightspeed.orchestrator.server.RpcErrors.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchRequest;
import dev.lightspeed.orchestrator.v1.GetPipelineRequest;
import dev.lightspeed.orchestrator.v1.GetStatusRequest;
import dev.lightspeed.orchestrator.v1.GetStatusResponse;
import dev.lightspeed.orchestrator.v1.ListBatchesRequest;
import dev.lightspeed.orchestrator.v1.ListPipelinesRequest;
import dev.lightspeed.orchestrator.v1.PipelineSpec;
import io.grpc.Status;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The {@code stale_ok} read option on a cluster node (docs/cluster.md, "Reads"): answered by the
 * node's own replica as it is, with no Raft round, so a node cut off from its group's majority
 * still answers it; a read without it stays linearizable.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClusterStaleReadsTest extends ClusterTestBase {
  @Test
  void aNodeLeftAloneAnswersStaleReadsFromItsReplicaAndRefusesLinearizableOnes() throws Exception {
    tuning = TUNING.withClientRetries("50ms, 20"); // about 1 s of retries: refusals come soon
    startCluster(1);
    // With retries that short, a call made while the group elects its first leader fails.
    untilAccepted("the pipeline is created", () -> stub("n1").createPipeline(
        CreatePipelineRequest.newBuilder().setSpec(pipeline("orders", "extract")).build()));
    untilAccepted("b1 is enqueued", () -> stub("n1").enqueueBatch(EnqueueBatchRequest.newBuilder()
        .setPipeline("orders").setBatch(batch("b1", "extract", 1)).build()));
    // n1 may be a follower that has not applied b1 yet when the reply comes (from the leader).
    awaitTrue("n1's replica has applied b1", () -> staleStatus("n1").getQueuedCount() == 1);

    nodes.remove("n2").stop();
    nodes.remove("n3").stop();
    awaitTrue("n1 no longer leads on its own", () -> {
      try {
        return !nodes.get("n1").host().node().isLeader(0);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });

    assertRefused(() -> stub("n1").getStatus(
            GetStatusRequest.newBuilder().setPipeline("orders").build()),
        Status.Code.UNAVAILABLE, "JOURNAL_UNAVAILABLE");
    assertThat(staleStatus("n1").getQueuedCount())
        .as("the batch acknowledged before, from n1's own replica").isEqualTo(1);
    assertThat(stub("n1").listBatches(ListBatchesRequest.newBuilder()
            .setPipeline("orders").setStaleOk(true).build()).getBatchesList())
        .extracting(b -> b.getBatch().getKey()).containsExactly("b1");
    assertThat(stub("n1").getPipeline(GetPipelineRequest.newBuilder()
            .setName("orders").setStaleOk(true).build()).getPipeline().getName())
        .isEqualTo("orders");
    assertThat(stub("n1").listPipelines(ListPipelinesRequest.newBuilder().setStaleOk(true).build())
            .getPipelinesList())
        .as("every group n1 is a member of, from its replicas").extracting(PipelineSpec::getName)
        .containsExactly("orders");
    assertRefused(() -> stub("n1").getPipeline(GetPipelineRequest.newBuilder()
            .setName("missing").setStaleOk(true).build()),
        Status.Code.NOT_FOUND, "PIPELINE_NOT_FOUND");
  }

  @Test
  void aFollowersStaleReadCatchesUpWhileALinearizableReadAlwaysSeesTheAcknowledgedWrite()
      throws Exception {
    startCluster(1);
    stub("n1").createPipeline(CreatePipelineRequest.newBuilder()
        .setSpec(pipeline("orders", "extract")).build());
    String follower = null;
    for (String id : nodes.keySet()) {
      if (!nodes.get(id).host().node().isLeader(0)) {
        follower = id;
        break;
      }
    }
    assertThat(follower).as("two of three nodes follow").isNotNull();

    for (int i = 1; i <= 3; i++) {
      stub("n1").enqueueBatch(EnqueueBatchRequest.newBuilder()
          .setPipeline("orders").setBatch(batch("b" + i, "extract", i)).build());
      int enqueued = i;
      assertThat(stub(follower).getStatus(GetStatusRequest.newBuilder().setPipeline("orders")
              .build()).getQueuedCount())
          .as("a linearizable read right after the write's reply").isEqualTo(enqueued);
      String on = follower;
      awaitTrue("the follower's replica applies b" + i,
          () -> staleStatus(on).getQueuedCount() == enqueued);
    }
  }

  private GetStatusResponse staleStatus(String node) {
    return stub(node).getStatus(
        GetStatusRequest.newBuilder().setPipeline("orders").setStaleOk(true).build());
  }
}
