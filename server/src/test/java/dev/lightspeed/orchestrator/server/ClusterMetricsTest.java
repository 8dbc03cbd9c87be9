package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesRequest;
import dev.lightspeed.orchestrator.v1.FailBatchRequest;
import dev.lightspeed.orchestrator.v1.StartAvailableRequest;
import dev.lightspeed.orchestrator.v1.StartAvailableResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code /metrics} of a cluster node (docs/operations.md, "Cluster metrics"): the per-pipeline
 * gauges and counters a single server exports, for the pipelines of the groups the node is a
 * member of, as its own replica applied them (so every member counts the same), and the Raft
 * figures of each of its groups, labelled {@code group}. Before, a node exported
 * {@code lightspeed_pipelines 0} and no pipeline or Raft series at all.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClusterMetricsTest extends ClusterTestBase {
  @Test
  void eachNodeExportsItsReplicasPipelinesAndItsGroupsRaftState() throws Exception {
    startCluster(2, ServerSettings.defaults().withMetrics("127.0.0.1", 0), null);
    untilAccepted("create through n1", () -> stub("n1").createPipeline(
        CreatePipelineRequest.newBuilder().setSpec(pipeline("orders", "extract")).build()));
    for (int i = 1; i <= 3; i++) {
      stub("n2").enqueueBatch(EnqueueBatchRequest.newBuilder().setPipeline("orders")
          .setBatch(batch("b" + i, "extract", i)).build());
    }
    stub("n3").enqueueBatch(EnqueueBatchRequest.newBuilder().setPipeline("orders")
        .setBatch(batch("b1", "extract", 1)).build()); // deduplicated
    List<StartAvailableResponse> started = new ArrayList<>();
    stub("n3").startAvailable(StartAvailableRequest.newBuilder().setPipeline("orders")
        .setMaxBatches(1).build()).forEachRemaining(started::add);
    assertThat(started).hasSize(1);
    stub("n1").failBatch(FailBatchRequest.newBuilder().setPipeline("orders")
        .setKey(started.get(0).getStarted().getBatch().getKey())
        .setAttempt(started.get(0).getStarted().getAttempt()).setReason("boom").build());

    // A bulk call's refused item: counted by the node that took the call, not by the replicas.
    stub("n2").enqueueBatches(EnqueueBatchesRequest.newBuilder().setPipeline("orders")
        .addBatches(batch("x1", "no-such-stage", 10)).build());
    assertThat(MetricsScrape.of(nodes.get("n2").server().metricsPort()).value(
        "lightspeed_rejections_total", "method", "EnqueueBatches", "reason", "UNKNOWN_STAGE"))
        .isEqualTo(1);
    assertThat(MetricsScrape.of(nodes.get("n1").server().metricsPort()).values(
        "lightspeed_rejections_total", "method", "EnqueueBatches")).isEmpty();

    int group = layout.placement().groupOf("orders");
    String g = Integer.toString(group);
    // Every node is a member of both groups (3 nodes, factor 3): each replica's view, once it
    // has applied the failure, is the same.
    for (String id : nodes.keySet()) {
      int port = nodes.get(id).server().metricsPort();
      awaitTrue(id + "'s replica applies the failure", () -> {
        try {
          return MetricsScrape.of(port).sum("lightspeed_batches_failed_total",
              "pipeline", "orders") == 1;
        } catch (Exception e) {
          return false;
        }
      });
      MetricsScrape m = MetricsScrape.of(port);
      assertThat(m.value("lightspeed_pipelines")).as(id).isEqualTo(1);
      assertThat(m.value("lightspeed_batches_enqueued_total", "pipeline", "orders")).as(id)
          .isEqualTo(3);
      assertThat(m.value("lightspeed_batches_deduplicated_total", "pipeline", "orders")).as(id)
          .isEqualTo(1);
      assertThat(m.value("lightspeed_batches_started_total", "pipeline", "orders")).as(id)
          .isEqualTo(1);
      assertThat(m.value("lightspeed_batches_retried_total", "pipeline", "orders")).as(id)
          .isEqualTo(1);
      assertThat(m.value("lightspeed_pipeline_queued_batches", "pipeline", "orders")).as(id)
          .isEqualTo(2);
      assertThat(m.value("lightspeed_pipeline_retry_waiting_batches", "pipeline", "orders"))
          .as(id).isEqualTo(1);
      assertThat(m.value("lightspeed_pipeline_mode", "pipeline", "orders", "mode", "running"))
          .as(id).isEqualTo(1);

      // Raft: one series per group of the node
      assertThat(m.values("lightspeed_raft_term")).as(id).hasSize(2);
      assertThat(m.value("lightspeed_raft_term", "group", g)).as(id).isGreaterThanOrEqualTo(1);
      double commit = m.value("lightspeed_raft_commit_index", "group", g);
      assertThat(commit).as(id).isGreaterThanOrEqualTo(7); // create, 5 enqueues, start, fail
      assertThat(m.value("lightspeed_raft_applied_index", "group", g)).as(id)
          .isLessThanOrEqualTo(commit).isGreaterThanOrEqualTo(7);
      assertThat(m.value("lightspeed_raft_last_log_index", "group", g)).as(id)
          .isGreaterThanOrEqualTo(commit);
      assertThat(m.value("lightspeed_raft_snapshot_index", "group", g)).as(id).isEqualTo(-1);
      assertThat(m.value("lightspeed_raft_leader_changes_total", "group", g)).as(id)
          .isGreaterThanOrEqualTo(1);
      assertThat(m.values("lightspeed_raft_election_timeouts_total", "group", g)).as(id)
          .hasSize(1);
      assertThat(m.values("lightspeed_raft_leadership_transfers_total", "group", g)).as(id)
          .hasSize(1);
      assertThat(m.values("lightspeed_raft_snapshots_installed_total", "group", g)).as(id)
          .hasSize(1);
    }
    // Exactly one leader per group; only it reports the followers' lag, and its elections won
    // (Ratis' own counter) count at least the one that made it leader, unless it got the
    // leadership by a transfer.
    for (int grp = 0; grp < layout.groups(); grp++) {
      String label = Integer.toString(grp);
      awaitTrue("one leader of group " + grp, () -> leaders(label) == 1);
      for (String id : nodes.keySet()) {
        MetricsScrape m = MetricsScrape.of(nodes.get(id).server().metricsPort());
        boolean leads = m.value("lightspeed_raft_is_leader", "group", label) == 1;
        assertThat(m.values("lightspeed_raft_follower_max_lag_entries", "group", label))
            .as("%s, group %d", id, grp).hasSize(leads ? 1 : 0);
        if (leads) {
          assertThat(m.value("lightspeed_raft_elections_won_total", "group", label)
              + m.value("lightspeed_raft_leadership_transfers_total", "group", label))
              .as("%s, group %d", id, grp).isGreaterThanOrEqualTo(1);
        }
      }
    }
  }

  private int leaders(String group) {
    int leaders = 0;
    for (var n : nodes.values()) {
      try {
        leaders += (int) MetricsScrape.of(n.server().metricsPort())
            .value("lightspeed_raft_is_leader", "group", group);
      } catch (Exception e) {
        return -1;
      }
    }
    return leaders;
  }
}
