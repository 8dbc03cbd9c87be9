package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static dev.lightspeed.orchestrator.server.RpcErrors.assertRefused;
import static dev.lightspeed.orchestrator.server.RpcErrors.errorInfo;
import static dev.lightspeed.orchestrator.server.RpcErrors.violatedFields;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.FieldMask;
import dev.lightspeed.orchestrator.v1.ApplyActionRequest;
import dev.lightspeed.orchestrator.v1.AuditLogEntry;
import dev.lightspeed.orchestrator.v1.Boundary;
import dev.lightspeed.orchestrator.v1.Connector;
import dev.lightspeed.orchestrator.v1.ConnectorKind;
import dev.lightspeed.orchestrator.v1.GetPipelineRequest;
import dev.lightspeed.orchestrator.v1.ListAuditLogRequest;
import dev.lightspeed.orchestrator.v1.OperatorAction;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceBlockingStub;
import dev.lightspeed.orchestrator.v1.PipelineSpec;
import dev.lightspeed.orchestrator.v1.UpdatePipelineRequest;
import dev.lightspeed.orchestrator.v1.UpdatePipelineResponse;
import io.grpc.Status.Code;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** UpdatePipeline over gRPC: its errors (codes, reasons, BadRequest paths) and its effects. */
class UpdatePipelineRpcTest {
  @RegisterExtension final GrpcServerExtension grpc = GrpcServerExtension.inProcess();

  private OrchestratorServiceBlockingStub stub;
  private PipelineClient p;

  @BeforeEach
  void setUp() {
    stub = grpc.blocking();
    p = PipelineClient.create(stub, pipeline("orders", "extract", "load").build());
  }

  private UpdatePipelineResponse update(PipelineSpec.Builder values, String... paths) {
    return stub.updatePipeline(
        UpdatePipelineRequest.newBuilder()
            .setPipeline(values)
            .setUpdateMask(FieldMask.newBuilder().addAllPaths(List.of(paths)))
            .build());
  }

  private PipelineSpec.Builder values() {
    return PipelineSpec.newBuilder().setName("orders");
  }

  private List<AuditLogEntry> auditLog() {
    return stub.listAuditLog(ListAuditLogRequest.newBuilder().setPipeline("orders").build())
        .getEntriesList();
  }

  /** Must be refused with code and reason, and change nothing; returns the rich status. */
  private com.google.rpc.Status refused(
      PipelineSpec.Builder values, Code code, String reason, String... paths) {
    String signature = p.status().getSignature();
    var status = assertRefused(() -> update(values, paths), code, reason);
    assertThat(p.status().getSignature()).isEqualTo(signature);
    return status;
  }

  @Test
  void update_changesTheNamedFields_andReturnsTheEffectiveSpec() {
    var reply = update(
        values().setBoundary(Boundary.newBuilder().setMaxQueued(50_000).setMaxInFlight(999)),
        "boundary.max_queued");
    assertThat(reply.getPipeline().getBoundary().getMaxQueued()).isEqualTo(50_000);
    assertThat(reply.getPipeline().getBoundary().getMaxInFlight()).isEqualTo(64); // not named
    assertThat(stub.getPipeline(GetPipelineRequest.newBuilder().setName("orders").build())
        .getPipeline()).isEqualTo(reply.getPipeline());
    AuditLogEntry entry = auditLog().get(0);
    assertThat(entry.getAction().getUpdatePipeline().getUpdateMask().getPathsList())
        .containsExactly("boundary.max_queued");
    assertThat(entry.getMessage()).contains("boundary.max_queued 10000 → 50000");
  }

  @Test
  void anUpdateThatChangesNothing_isAcceptedAndNotAudited() {
    String signature = p.status().getSignature();
    update(values().setBoundary(Boundary.newBuilder().setMaxQueued(10_000)), "boundary");
    assertThat(p.status().getSignature()).isEqualTo(signature);
    assertThat(auditLog()).isEmpty();
  }

  @Test
  void unknownPipeline_isPipelineNotFound() {
    assertRefused(
        () -> update(PipelineSpec.newBuilder().setName("nope"), "boundary"),
        Code.NOT_FOUND, "PIPELINE_NOT_FOUND");
  }

  @Test
  void emptyMask_isInvalidUpdateMask_namingUpdateMask() {
    var status = refused(values(), Code.INVALID_ARGUMENT, "INVALID_UPDATE_MASK");
    assertThat(violatedFields(status)).containsExactly("update_mask");
  }

  @Test
  void unknownPath_isInvalidUpdateMask_namingTheMaskPath() {
    var status = refused(values(), Code.INVALID_ARGUMENT, "INVALID_UPDATE_MASK",
        "retry", "boundary.max_queue");
    assertThat(violatedFields(status)).containsExactly("update_mask.paths[1]");
    assertThat(status.getMessage()).contains("boundary.max_queue");
  }

  @Test
  void name_isInvalidUpdateMask() {
    var status = refused(values(), Code.INVALID_ARGUMENT, "INVALID_UPDATE_MASK", "name");
    assertThat(violatedFields(status)).containsExactly("update_mask.paths[0]");
  }

  @Test
  void invalidValue_isInvalidPipelineSpec_namingThePipelineField() {
    var status = refused(values().setBoundary(Boundary.newBuilder().setMaxInFlight(0)),
        Code.INVALID_ARGUMENT, "INVALID_PIPELINE_SPEC", "boundary.max_in_flight");
    assertThat(violatedFields(status)).containsExactly("pipeline.boundary.max_in_flight");
    assertThat(errorInfo(status).getMetadataMap()).containsEntry(
        "field", "pipeline.boundary.max_in_flight");
  }

  @Test
  void removedStage_isInvalidPipelineSpec_namingStages() {
    var status = refused(pipeline("orders", "extract"),
        Code.INVALID_ARGUMENT, "INVALID_PIPELINE_SPEC", "stages", "connectors");
    assertThat(violatedFields(status)).containsExactly("pipeline.stages");
    assertThat(status.getMessage()).contains("'load'");
  }

  @Test
  void batchTooLarge_isFailedPrecondition() {
    p.enqueue(batch("big", "extract", 0)); // 10 records
    var status = refused(values().setBoundary(Boundary.newBuilder().setMaxInFlightRecords(9)),
        Code.FAILED_PRECONDITION, "BATCH_TOO_LARGE", "boundary.max_in_flight_records");
    assertThat(status.getMessage()).contains("'big'");
  }

  @Test
  void stageInFlight_isFailedPrecondition() {
    p.enqueue(batch("a", "extract", 0));
    p.enqueue(batch("b", "extract", 0));
    p.startAll();
    PipelineSpec.Builder ordered = pipeline("orders", "extract", "load");
    ordered.getConnectorsBuilder(0).setOrdered(true);
    var status = refused(ordered, Code.FAILED_PRECONDITION, "STAGE_IN_FLIGHT", "connectors");
    assertThat(status.getMessage()).contains("'extract'").contains("2 batches");
  }

  @Test
  void appendedStage_andConnector_takeBatches() {
    PipelineSpec.Builder grown = pipeline("orders", "extract", "load", "publish");
    var reply = update(grown, "stages", "connectors");
    assertThat(reply.getPipeline().getStagesList()).containsExactly("extract", "load", "publish");
    p.enqueue(batch("x", "publish", 0));
    assertThat(p.state("x").name()).isEqualTo("BATCH_STATE_QUEUED");
  }

  @Test
  void applyAction_refusesUpdatePipeline() {
    assertRefused(
        () -> stub.applyAction(ApplyActionRequest.newBuilder().setPipeline("orders")
            .setAction(OperatorAction.newBuilder().setUpdatePipeline(
                OperatorAction.UpdatePipeline.newBuilder().setUpdateMask(
                    FieldMask.newBuilder().addPaths("boundary"))))
            .build()),
        Code.INVALID_ARGUMENT, "INVALID_ACTION");
  }

  @Test
  void disabledConnectorInTheValues_disablesIt() {
    PipelineSpec.Builder values = pipeline("orders", "extract", "load");
    values.setConnectors(0, Connector.newBuilder().setName("extract-in")
        .setKind(ConnectorKind.CONNECTOR_KIND_SOURCE).setStage("extract").setDisabled(true));
    update(values, "connectors");
    assertRefused(() -> p.enqueue(batch("a", "extract", 0)),
        Code.FAILED_PRECONDITION, "CONNECTOR_DISABLED");
  }
}
