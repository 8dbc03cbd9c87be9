package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.disableConnector;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.lightspeed.orchestrator.core.Reason;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.v1.ApplyActionRequest;
import dev.lightspeed.orchestrator.v1.AuditLogEntry;
import dev.lightspeed.orchestrator.v1.Boundary;
import dev.lightspeed.orchestrator.v1.GetPipelineRequest;
import dev.lightspeed.orchestrator.v1.ListAuditLogRequest;
import dev.lightspeed.orchestrator.v1.PipelineSpec;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The config file at start-up, for a pipeline that exists already (recovered from the data
 * directory): a changed spec is applied as an UpdatePipeline, a refused change stops start-up.
 */
class ConfigReconcileTest {
  @RegisterExtension final GrpcServerExtension grpc = GrpcServerExtension.inProcess();

  private PipelineSpec get() {
    return grpc.blocking().getPipeline(GetPipelineRequest.newBuilder().setName("orders").build())
        .getPipeline();
  }

  private List<AuditLogEntry> auditLog() {
    return grpc.blocking().listAuditLog(
        ListAuditLogRequest.newBuilder().setPipeline("orders").build()).getEntriesList();
  }

  @Test
  void anExistingPipeline_withTheSameSpec_isLeftAlone() {
    PipelineSpec spec = pipeline("orders", "extract").build();
    grpc.server().createPipelines(List.of(spec));
    String signature = new PipelineClient(grpc.blocking(), "orders").status().getSignature();
    grpc.server().createPipelines(List.of(spec));
    assertThat(new PipelineClient(grpc.blocking(), "orders").status().getSignature())
        .isEqualTo(signature);
    assertThat(auditLog()).isEmpty();
  }

  @Test
  void anExistingPipeline_withAChangedSpec_isUpdatedAndAudited() {
    grpc.server().createPipelines(List.of(pipeline("orders", "extract").build()));
    PipelineSpec edited = pipeline("orders", "extract", "load")
        .setBoundary(Boundary.newBuilder().setMaxQueued(50_000)).build();
    grpc.server().createPipelines(List.of(edited));
    assertThat(get().getStagesList()).containsExactly("extract", "load");
    assertThat(get().getBoundary().getMaxQueued()).isEqualTo(50_000);
    assertThat(auditLog()).hasSize(1);
    assertThat(auditLog().get(0).getMessage())
        .contains("boundary.max_queued").contains("stages").contains("connectors");
  }

  @Test
  void aConnectorDisabledByAnOperator_staysDisabled_unlessTheConfigSaysSo() {
    grpc.server().createPipelines(List.of(pipeline("orders", "extract").build()));
    grpc.blocking().applyAction(ApplyActionRequest.newBuilder().setPipeline("orders")
        .setAction(disableConnector("extract-in")).build());
    grpc.server().createPipelines(List.of(pipeline("orders", "extract").build()));
    assertThat(get().getConnectors(0).getDisabled()).isTrue();

    PipelineSpec.Builder enabled = pipeline("orders", "extract");
    enabled.getConnectorsBuilder(0).setDisabled(false);
    grpc.server().createPipelines(List.of(enabled.build()));
    assertThat(get().getConnectors(0).getDisabled()).isFalse();
  }

  @Test
  void aChangeTheRulesRefuse_stopsStartUp_namingThePipelineAndTheField() {
    grpc.server().createPipelines(List.of(pipeline("orders", "extract", "load").build()));
    PipelineSpec reordered = pipeline("orders", "load", "extract").build();
    Rejection r = catchThrowableOfType(Rejection.class,
        () -> grpc.server().createPipelines(List.of(reordered)));
    assertThat(r).isNotNull();
    assertThat(r.reason()).isEqualTo(Reason.INVALID_PIPELINE_SPEC);
    assertThat(r.getMessage()).contains("pipeline 'orders' (pipelines[0])").contains("stages");
    assertThat(get().getStagesList()).containsExactly("extract", "load");
  }
}
