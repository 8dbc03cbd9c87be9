package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static dev.lightspeed.orchestrator.server.RpcErrors.assertRefused;
import static dev.lightspeed.orchestrator.server.RpcErrors.errorInfo;
import static dev.lightspeed.orchestrator.server.RpcErrors.violatedFields;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.v1.Boundary;
import dev.lightspeed.orchestrator.v1.Connector;
import dev.lightspeed.orchestrator.v1.ConnectorKind;
import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.DeletePipelineRequest;
import dev.lightspeed.orchestrator.v1.GetPipelineRequest;
import dev.lightspeed.orchestrator.v1.GetStatusRequest;
import dev.lightspeed.orchestrator.v1.ListPipelinesRequest;
import dev.lightspeed.orchestrator.v1.ListPipelinesResponse;
import dev.lightspeed.orchestrator.v1.ListRunsRequest;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceBlockingStub;
import dev.lightspeed.orchestrator.v1.PipelineSpec;
import dev.lightspeed.orchestrator.v1.RetryPolicy;
import io.grpc.Status.Code;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** CreatePipeline, GetPipeline, ListPipelines and DeletePipeline. */
class PipelineManagementTest {
  @RegisterExtension final GrpcServerExtension grpc = GrpcServerExtension.inProcess();

  private OrchestratorServiceBlockingStub stub;

  @BeforeEach
  void setUp() {
    stub = grpc.blocking();
  }

  private PipelineSpec create(PipelineSpec.Builder spec) {
    return stub.createPipeline(CreatePipelineRequest.newBuilder().setSpec(spec).build())
        .getPipeline();
  }

  private PipelineSpec get(String name) {
    return stub.getPipeline(GetPipelineRequest.newBuilder().setName(name).build()).getPipeline();
  }

  // ---- CreatePipeline / GetPipeline ----------------------------------------------------------

  @Test
  void createPipeline_withAbsentSettings_returnsEffectiveSpecWithEveryDefaultPresent() {
    PipelineSpec effective = create(pipeline("orders", "extract", "load"));

    assertThat(effective.getName()).isEqualTo("orders");
    assertThat(effective.getStagesList()).containsExactly("extract", "load");
    assertThat(effective.hasDedupWindowMs()).isTrue();
    assertThat(effective.getDedupWindowMs()).isEqualTo(300_000);
    assertThat(effective.hasAllowUnboundStages()).isTrue();
    assertThat(effective.getAllowUnboundStages()).isFalse();
    Boundary b = effective.getBoundary();
    assertThat(b.hasMaxInFlight() && b.hasMaxQueued() && b.hasMaxLagMs()
            && b.hasMaxInFlightRecords() && b.hasLeaseMs())
        .as("every Boundary field present in %s", b)
        .isTrue();
    assertThat(b.getMaxInFlight()).isEqualTo(64);
    assertThat(b.getMaxQueued()).isEqualTo(10_000);
    assertThat(b.getMaxLagMs()).isZero();
    assertThat(b.getMaxInFlightRecords()).isZero();
    assertThat(b.getLeaseMs()).isEqualTo(30_000);
    RetryPolicy r = effective.getRetry();
    assertThat(r.hasMaxAttempts() && r.hasInitialBackoffMs() && r.hasMaxBackoffMs()
            && r.hasMultiplier())
        .as("every RetryPolicy field present in %s", r)
        .isTrue();
    assertThat(r.getMaxAttempts()).isEqualTo(5);
    assertThat(r.getInitialBackoffMs()).isEqualTo(1_000);
    assertThat(r.getMaxBackoffMs()).isEqualTo(60_000);
    assertThat(r.getMultiplier()).isEqualTo(2.0);
    assertThat(effective.getConnectorsList()).hasSize(2);
    for (Connector c : effective.getConnectorsList()) {
      assertThat(c.hasDisabled() && c.hasMaxBatchRecords() && c.hasOrdered())
          .as("every Connector setting present in %s", c)
          .isTrue();
      assertThat(c.getDisabled()).isFalse();
      assertThat(c.getMaxBatchRecords()).isZero();
      assertThat(c.getOrdered()).isFalse();
      assertThat(c.getKind()).isEqualTo(ConnectorKind.CONNECTOR_KIND_SOURCE);
    }
    assertThat(get("orders")).isEqualTo(effective);
  }

  @Test
  void createPipeline_withExplicitZeros_keepsThem() {
    PipelineSpec effective =
        create(
            pipeline("zeros", "s")
                .setDedupWindowMs(0)
                .setAllowUnboundStages(false)
                .setBoundary(Boundary.newBuilder().setLeaseMs(0).setMaxLagMs(0))
                .setRetry(
                    RetryPolicy.newBuilder()
                        .setInitialBackoffMs(0)
                        .setMaxBackoffMs(0)
                        .setMaxAttempts(1)
                        .setMultiplier(1.0)));

    assertThat(effective.getDedupWindowMs()).isZero();
    assertThat(effective.getBoundary().getLeaseMs()).isZero();
    assertThat(effective.getBoundary().getMaxInFlight()).as("absent ⇒ default").isEqualTo(64);
    assertThat(effective.getRetry().getInitialBackoffMs()).isZero();
    assertThat(effective.getRetry().getMaxBackoffMs()).isZero();
    assertThat(effective.getRetry().getMaxAttempts()).isEqualTo(1);
    assertThat(effective.getRetry().getMultiplier()).isEqualTo(1.0);
  }

  @Test
  void createPipeline_withLeaseMsZero_startsBatchesWhoseLeaseNeverExpires() {
    create(pipeline("forever", "s").setBoundary(Boundary.newBuilder().setLeaseMs(0)));
    PipelineClient p = new PipelineClient(stub, "forever");
    p.enqueue(batch("b1", "s", 1));

    var started = p.startOne("b1");
    assertThat(started.getLeaseDeadlineMs()).isZero();
    assertThat(p.batch("b1").getLeaseDeadlineMs()).isZero();

    grpc.clock().advance(365L * 24 * 3600 * 1000);
    assertThat(p.startAll()).isEmpty();
    assertThat(p.batch("b1").getState())
        .isEqualTo(dev.lightspeed.orchestrator.v1.BatchState.BATCH_STATE_IN_FLIGHT);
    assertThat(p.batch("b1").getAttempt()).isEqualTo(1);
    assertThat(p.extendLease("b1", 1)).isZero();
  }

  @Test
  void createPipeline_whenNameExists_isAlreadyExistsPipelineExists() {
    create(pipeline("orders", "extract"));

    var status =
        assertRefused(
            () -> create(pipeline("orders", "other")), Code.ALREADY_EXISTS, "PIPELINE_EXISTS");
    assertThat(status.getMessage()).contains("orders");
    assertThat(get("orders").getStagesList()).as("the first pipeline is kept").containsExactly(
        "extract");
  }

  static Stream<Arguments> invalidSpecs() {
    return Stream.of(
        invalid("missing spec", s -> PipelineSpec.newBuilder(), "spec.name"),
        invalid("bad name", s -> s.setName("Orders!"), "spec.name"),
        invalid("no stages", s -> PipelineSpec.newBuilder().setName("p")
            .setAllowUnboundStages(true), "spec.stages"),
        invalid("duplicate stage", s -> s.addStages("extract"), "spec.stages[1]"),
        invalid("bad stage name", s -> s.setStages(0, "Extract"), "spec.stages[0]"),
        invalid("no connectors", s -> s.clearConnectors(), "spec.connectors"),
        invalid("unknown connector stage",
            s -> s.setConnectors(0, s.getConnectors(0).toBuilder().setStage("nope")),
            "spec.connectors[0].stage"),
        invalid("duplicate connector name",
            s -> s.addConnectors(s.getConnectors(0).toBuilder()
                .setKind(ConnectorKind.CONNECTOR_KIND_SINK)),
            "spec.connectors[1].name"),
        invalid("two SOURCEs on one stage",
            s -> s.addConnectors(s.getConnectors(0).toBuilder().setName("second")),
            "spec.connectors[1].kind"),
        invalid("connector kind unspecified",
            s -> s.setConnectors(0, s.getConnectors(0).toBuilder()
                .setKind(ConnectorKind.CONNECTOR_KIND_UNSPECIFIED)),
            "spec.connectors[0].kind"),
        invalid("negative max_batch_records",
            s -> s.setConnectors(0, s.getConnectors(0).toBuilder().setMaxBatchRecords(-1)),
            "spec.connectors[0].max_batch_records"),
        invalid("max_in_flight 0",
            s -> s.setBoundary(Boundary.newBuilder().setMaxInFlight(0)),
            "spec.boundary.max_in_flight"),
        invalid("max_queued 0",
            s -> s.setBoundary(Boundary.newBuilder().setMaxQueued(0)),
            "spec.boundary.max_queued"),
        invalid("negative max_lag_ms",
            s -> s.setBoundary(Boundary.newBuilder().setMaxLagMs(-1)),
            "spec.boundary.max_lag_ms"),
        invalid("negative max_in_flight_records",
            s -> s.setBoundary(Boundary.newBuilder().setMaxInFlightRecords(-1)),
            "spec.boundary.max_in_flight_records"),
        invalid("negative lease_ms",
            s -> s.setBoundary(Boundary.newBuilder().setLeaseMs(-1)),
            "spec.boundary.lease_ms"),
        invalid("max_attempts 0",
            s -> s.setRetry(RetryPolicy.newBuilder().setMaxAttempts(0)),
            "spec.retry.max_attempts"),
        invalid("negative initial_backoff_ms",
            s -> s.setRetry(RetryPolicy.newBuilder().setInitialBackoffMs(-1)),
            "spec.retry.initial_backoff_ms"),
        invalid("negative max_backoff_ms",
            s -> s.setRetry(RetryPolicy.newBuilder().setMaxBackoffMs(-1)),
            "spec.retry.max_backoff_ms"),
        invalid("multiplier below 1",
            s -> s.setRetry(RetryPolicy.newBuilder().setMultiplier(0.5)),
            "spec.retry.multiplier"),
        invalid("negative dedup_window_ms", s -> s.setDedupWindowMs(-1), "spec.dedup_window_ms"));
  }

  private static Arguments invalid(
      String what, UnaryOperator<PipelineSpec.Builder> breakIt, String field) {
    return Arguments.of(what, breakIt, field);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidSpecs")
  void createPipeline_withInvalidSpec_isInvalidArgumentNamingTheField(
      String what, UnaryOperator<PipelineSpec.Builder> breakIt, String field) {
    PipelineSpec.Builder spec = breakIt.apply(pipeline("p", "extract"));

    var status =
        assertRefused(() -> create(spec), Code.INVALID_ARGUMENT, "INVALID_PIPELINE_SPEC");

    assertThat(violatedFields(status)).containsExactly(field);
    String relative = field.substring("spec.".length());
    assertThat(status.getMessage()).as("the message names the field").contains(relative);
    assertThat(stub.listPipelines(ListPipelinesRequest.getDefaultInstance()).getPipelinesList())
        .as("nothing was created")
        .isEmpty();
  }

  @Test
  void getPipeline_whenUnknown_isNotFoundPipelineNotFound() {
    var status = assertRefused(() -> get("nope"), Code.NOT_FOUND, "PIPELINE_NOT_FOUND");
    assertThat(status.getMessage()).contains("nope");
  }

  // ---- ListPipelines --------------------------------------------------------------------------

  @Test
  void listPipelines_withPageSize1OverThreePipelines_pagesInNameOrderAndEndsWithEmptyToken() {
    create(pipeline("charlie", "s"));
    create(pipeline("alpha", "s"));
    create(pipeline("bravo", "s"));

    ListPipelinesResponse first =
        stub.listPipelines(ListPipelinesRequest.newBuilder().setPageSize(1).build());
    ListPipelinesResponse second =
        stub.listPipelines(
            ListPipelinesRequest.newBuilder()
                .setPageSize(1)
                .setPageToken(first.getNextPageToken())
                .build());
    ListPipelinesResponse third =
        stub.listPipelines(
            ListPipelinesRequest.newBuilder()
                .setPageSize(1)
                .setPageToken(second.getNextPageToken())
                .build());

    assertThat(first.getPipelinesList()).extracting(PipelineSpec::getName).containsExactly("alpha");
    assertThat(first.getNextPageToken()).isNotEmpty();
    assertThat(second.getPipelinesList()).extracting(PipelineSpec::getName)
        .containsExactly("bravo");
    assertThat(second.getNextPageToken()).isNotEmpty();
    assertThat(third.getPipelinesList()).extracting(PipelineSpec::getName)
        .containsExactly("charlie");
    assertThat(third.getNextPageToken()).as("last page").isEmpty();
    assertThat(third.getPipelines(0).getBoundary().getMaxInFlight())
        .as("listed as effective spec")
        .isEqualTo(64);
  }

  @Test
  void listPipelines_withDefaultPageSize_returnsAllOnOnePage() {
    create(pipeline("alpha", "s"));
    create(pipeline("bravo", "s"));

    ListPipelinesResponse all = stub.listPipelines(ListPipelinesRequest.getDefaultInstance());

    assertThat(all.getPipelinesList()).extracting(PipelineSpec::getName)
        .containsExactly("alpha", "bravo");
    assertThat(all.getNextPageToken()).isEmpty();
  }

  @Test
  void listPipelines_withNegativePageSize_isInvalidArgumentInvalidRequest() {
    var status =
        assertRefused(
            () -> stub.listPipelines(ListPipelinesRequest.newBuilder().setPageSize(-1).build()),
            Code.INVALID_ARGUMENT,
            "INVALID_REQUEST");
    assertThat(violatedFields(status)).containsExactly("page_size");
  }

  @Test
  void listPipelines_withForeignPageToken_isInvalidArgumentInvalidRequest() {
    create(pipeline("alpha", "s"));
    for (int i = 0; i < 2; i++) {
      stub.startRun(
          dev.lightspeed.orchestrator.v1.StartRunRequest.newBuilder().setPipeline("alpha").build());
      stub.completeRun(
          dev.lightspeed.orchestrator.v1.CompleteRunRequest.newBuilder()
              .setPipeline("alpha")
              .build());
    }
    String runsToken =
        stub.listRuns(ListRunsRequest.newBuilder().setPipeline("alpha").setPageSize(1).build())
            .getNextPageToken();
    assertThat(runsToken).isNotEmpty();

    for (String foreign : new String[] {runsToken, "not-a-token", "!!!"}) {
      var status =
          assertRefused(
              () -> stub.listPipelines(
                  ListPipelinesRequest.newBuilder().setPageToken(foreign).build()),
              Code.INVALID_ARGUMENT,
              "INVALID_REQUEST");
      assertThat(violatedFields(status)).containsExactly("page_token");
    }
  }

  // ---- DeletePipeline -------------------------------------------------------------------------

  @Test
  void deletePipeline_whenEmpty_deletesItAndFreesTheName() {
    create(pipeline("orders", "extract"));

    stub.deletePipeline(DeletePipelineRequest.newBuilder().setName("orders").build());

    assertRefused(() -> get("orders"), Code.NOT_FOUND, "PIPELINE_NOT_FOUND");
    assertRefused(
        () -> stub.getStatus(GetStatusRequest.newBuilder().setPipeline("orders").build()),
        Code.NOT_FOUND,
        "PIPELINE_NOT_FOUND");
    assertThat(create(pipeline("orders", "again")).getStagesList()).containsExactly("again");
  }

  @Test
  void deletePipeline_withLiveBatches_isFailedPreconditionPipelineNotEmpty() {
    PipelineClient p = PipelineClient.create(stub, pipeline("orders", "extract").build());
    p.enqueue(batch("b1", "extract", 1));

    var status =
        assertRefused(
            () -> stub.deletePipeline(DeletePipelineRequest.newBuilder().setName("orders").build()),
            Code.FAILED_PRECONDITION,
            "PIPELINE_NOT_EMPTY");
    assertThat(errorInfo(status).getMetadataMap()).containsEntry("pipeline", "orders");
    assertThat(p.batches()).hasSize(1);
  }

  @Test
  void deletePipeline_withOnlyADeadLetter_isPipelineNotEmpty() {
    PipelineClient p = PipelineClient.create(stub, pipeline("orders", "extract").build());
    p.enqueue(batch("b1", "extract", 1));
    p.startOne("b1");
    p.fail("b1", 1, "boom", true);

    assertRefused(
        () -> stub.deletePipeline(DeletePipelineRequest.newBuilder().setName("orders").build()),
        Code.FAILED_PRECONDITION,
        "PIPELINE_NOT_EMPTY");
  }

  @Test
  void deletePipeline_withForce_dropsLiveBatches() {
    PipelineClient p = PipelineClient.create(stub, pipeline("orders", "extract").build());
    p.enqueue(batch("b1", "extract", 1));
    p.enqueue(batch("b2", "extract", 2));
    p.startOne("b1");

    stub.deletePipeline(
        DeletePipelineRequest.newBuilder().setName("orders").setForce(true).build());

    assertRefused(() -> get("orders"), Code.NOT_FOUND, "PIPELINE_NOT_FOUND");
    PipelineClient again = PipelineClient.create(stub, pipeline("orders", "extract").build());
    assertThat(again.batches()).as("a new pipeline of the same name starts empty").isEmpty();
    assertThat(again.enqueue(batch("b1", "extract", 1))).isFalse();
  }

  @Test
  void deletePipeline_whenUnknown_isNotFoundPipelineNotFound() {
    assertRefused(
        () -> stub.deletePipeline(DeletePipelineRequest.newBuilder().setName("nope").build()),
        Code.NOT_FOUND,
        "PIPELINE_NOT_FOUND");
  }
}
