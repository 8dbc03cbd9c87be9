package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.disableConnector;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.lightspeed.orchestrator.core.Reason;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.v1.ApplyActionRequest;
import dev.lightspeed.orchestrator.v1.Boundary;
import dev.lightspeed.orchestrator.v1.GetPipelineRequest;
import dev.lightspeed.orchestrator.v1.ListAuditLogRequest;
import dev.lightspeed.orchestrator.v1.ListPipelinesRequest;
import dev.lightspeed.orchestrator.v1.PipelineSpec;
import dev.lightspeed.orchestrator.v1.RetryPolicy;
import dev.lightspeed.orchestrator.v1.UpdatePipelineRequest;
import com.google.protobuf.FieldMask;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code --config} on a cluster node (docs/cluster.md, "--config on a cluster"): each node
 * applies the file through the pipelines' Raft groups, with the single server's rule (a missing
 * pipeline is created; an existing one gets the file's spec, a connector an operator disabled
 * staying disabled); nodes that apply the same file at once converge; a group without a leader
 * is waited for a bounded time, then the node goes on without those pipelines. Before, a cluster
 * node refused {@code --config} at start (StartupMessagesTest checks the start-up side).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClusterConfigTest extends ClusterTestBase {
  private static final Duration WAIT_LEADERS = Duration.ofSeconds(30);

  private final List<PipelineSpec> file = List.of(
      pipeline("orders", "extract", "load").build(),
      pipeline("invoices", "extract").setRetry(RetryPolicy.newBuilder().setMaxAttempts(3))
          .build(),
      pipeline("clicks", "extract").build());

  @Test
  void everyNodeAppliesTheSameFileAtOnceAndTheyConverge() throws Exception {
    startCluster(2);
    ExecutorService starts = Executors.newFixedThreadPool(3);
    try {
      List<Future<List<String>>> applied = new ArrayList<>();
      for (String id : nodes.keySet()) {
        Callable<List<String>> apply =
            () -> nodes.get(id).server().applyClusterConfig(file, id, WAIT_LEADERS);
        applied.add(starts.submit(apply));
      }
      for (Future<List<String>> f : applied) {
        assertThat(f.get(50, TimeUnit.SECONDS)).as("pipelines not applied").isEmpty();
      }
    } finally {
      starts.shutdownNow();
    }
    for (String id : nodes.keySet()) {
      assertThat(stub(id).listPipelines(ListPipelinesRequest.getDefaultInstance())
          .getPipelinesList()).extracting(PipelineSpec::getName)
          .containsExactly("clicks", "invoices", "orders");
    }
    assertThat(get("n2", "invoices").getRetry().getMaxAttempts()).isEqualTo(3);
    assertThat(get("n3", "orders").getStagesList()).containsExactly("extract", "load");
    // the same spec three times: created once, never changed (no UpdatePipeline in the audit)
    assertThat(stub("n1").listAuditLog(ListAuditLogRequest.newBuilder().setPipeline("orders")
        .build()).getEntriesList()).isEmpty();
  }

  @Test
  void anExistingPipelineGetsTheFilesSpecAsOnOneServerAndADisabledConnectorStaysDisabled()
      throws Exception {
    startCluster(2);
    assertThat(nodes.get("n1").server().applyClusterConfig(file, "n1", WAIT_LEADERS)).isEmpty();
    long fileMaxQueued = get("n1", "invoices").getBoundary().getMaxQueued();
    assertThat(fileMaxQueued).isNotEqualTo(77);
    // Through other nodes: an API change of the spec, and an operator's disabled connector.
    stub("n2").updatePipeline(UpdatePipelineRequest.newBuilder()
        .setPipeline(get("n2", "invoices").toBuilder()
            .setBoundary(Boundary.newBuilder().setMaxQueued(77)))
        .setUpdateMask(FieldMask.newBuilder().addPaths("boundary")).build());
    stub("n3").applyAction(ApplyActionRequest.newBuilder().setPipeline("clicks")
        .setAction(disableConnector("extract-in")).build());
    assertThat(get("n1", "invoices").getBoundary().getMaxQueued()).isEqualTo(77);

    // n3 restarts with the file: the file wins (as on one server), the disabled connector stays.
    nodes.remove("n3").stop();
    startNode("n3", ServerSettings.defaults(), null);
    assertThat(nodes.get("n3").server().applyClusterConfig(file, "n3", WAIT_LEADERS)).isEmpty();
    assertThat(get("n1", "invoices").getBoundary().getMaxQueued()).isEqualTo(fileMaxQueued);
    assertThat(stub("n1").listAuditLog(ListAuditLogRequest.newBuilder().setPipeline("invoices")
        .build()).getEntriesList()).as("the API's update and the file's, both audited")
        .hasSize(2);
    assertThat(get("n2", "invoices").getRetry().getMaxAttempts()).isEqualTo(3);
    assertThat(get("n2", "clicks").getConnectors(0).getDisabled()).isTrue();
  }

  @Test
  void aChangeTheRulesRefuseIsThrownNamingThePipeline() throws Exception {
    startCluster(1);
    assertThat(nodes.get("n1").server().applyClusterConfig(file, "n1", WAIT_LEADERS)).isEmpty();
    List<PipelineSpec> reordered = List.of(pipeline("orders", "load", "extract").build());
    Rejection r = catchThrowableOfType(Rejection.class,
        () -> nodes.get("n2").server().applyClusterConfig(reordered, "n2", WAIT_LEADERS));
    assertThat(r).isNotNull();
    assertThat(r.reason()).isEqualTo(Reason.INVALID_PIPELINE_SPEC);
    assertThat(r.getMessage()).contains("pipeline 'orders' (pipelines[0])").contains("stages");
    assertThat(get("n1", "orders").getStagesList()).containsExactly("extract", "load");
  }

  @Test
  void withoutAMajorityTheNodeWaitsABoundedTimeThenGoesOnWithoutThePipelines() throws Exception {
    startCluster(1);
    untilAccepted("the group has a leader", () -> stub("n1").listPipelines(
        ListPipelinesRequest.getDefaultInstance()));
    nodes.remove("n2").stop();
    nodes.remove("n3").stop();
    long t0 = System.nanoTime();
    List<String> notApplied =
        nodes.get("n1").server().applyClusterConfig(file, "n1", Duration.ofSeconds(3));
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertThat(notApplied).containsExactly("orders", "invoices", "clicks");
    assertThat(tookMs).as("bounded by the wait").isBetween(2_900L, 20_000L);

    // Once a majority is back, applying the file again creates them.
    startNode("n2", ServerSettings.defaults(), null);
    assertThat(nodes.get("n1").server().applyClusterConfig(file, "n1", WAIT_LEADERS)).isEmpty();
    assertThat(get("n2", "clicks").getName()).isEqualTo("clicks");
  }

  private PipelineSpec get(String node, String name) {
    return stub(node).getPipeline(GetPipelineRequest.newBuilder().setName(name).build())
        .getPipeline();
  }
}
