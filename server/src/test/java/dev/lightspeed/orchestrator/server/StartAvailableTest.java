package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.disableConnector;
import static dev.lightspeed.orchestrator.server.Fixtures.pause;
import static dev.lightspeed.orchestrator.server.Fixtures.pauseStage;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static dev.lightspeed.orchestrator.server.RpcErrors.assertRefused;
import static dev.lightspeed.orchestrator.server.RpcErrors.violatedFields;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.v1.BatchState;
import dev.lightspeed.orchestrator.v1.Boundary;
import dev.lightspeed.orchestrator.v1.ListRetriesRequest;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceBlockingStub;
import dev.lightspeed.orchestrator.v1.PipelineSpec;
import dev.lightspeed.orchestrator.v1.RetryRecord;
import dev.lightspeed.orchestrator.v1.StartRunRequest;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import io.grpc.Status.Code;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** StartAvailable: one streamed message per started batch, limits, filters and lease expiry. */
class StartAvailableTest {
  @RegisterExtension final GrpcServerExtension grpc = GrpcServerExtension.inProcess();

  private OrchestratorServiceBlockingStub stub;
  private PipelineClient orders;

  @BeforeEach
  void setUp() {
    stub = grpc.blocking();
    orders = PipelineClient.create(stub, pipeline("orders", "extract", "load").build());
  }

  private static List<String> keys(List<StartedBatch> started) {
    return started.stream().map(s -> s.getBatch().getKey()).toList();
  }

  @Test
  void startAvailable_streamsOneMessagePerStartedBatchInReadyOrder() {
    orders.enqueue(batch("b1", "extract", 1).setRecords(5));
    grpc.clock().advance(10);
    orders.enqueue(batch("b2", "load", 1));
    grpc.clock().advance(10);
    orders.enqueue(batch("b3", "extract", 2));
    long now = grpc.clock().advance(10);

    List<StartedBatch> started = orders.startAll();

    assertThat(keys(started)).containsExactly("b1", "b2", "b3");
    StartedBatch first = started.get(0);
    assertThat(first.getBatch()).isEqualTo(batch("b1", "extract", 1).setRecords(5).build());
    assertThat(first.getAttempt()).isEqualTo(1);
    assertThat(first.getStartedAtMs()).isEqualTo(now);
    assertThat(first.getLeaseDeadlineMs()).isEqualTo(now + 30_000);
    assertThat(first.getRunId()).isZero();
    assertThat(orders.status().getInFlightCount()).isEqualTo(3);
    assertThat(orders.batch("b2").getState()).isEqualTo(BatchState.BATCH_STATE_IN_FLIGHT);
    assertThat(orders.batch("b2").getLeaseDeadlineMs()).isEqualTo(now + 30_000);
  }

  @Test
  void startAvailable_withMaxBatches_startsAtMostThatMany() {
    for (int i = 1; i <= 3; i++) {
      orders.enqueue(batch("b" + i, "extract", i));
    }

    assertThat(keys(orders.start(2))).containsExactly("b1", "b2");
    assertThat(keys(orders.start(2))).containsExactly("b3");
    assertThat(orders.start(2)).isEmpty();
  }

  @Test
  void startAvailable_withStagesFilter_startsOnlyThoseStages() {
    orders.enqueue(batch("e1", "extract", 1));
    orders.enqueue(batch("l1", "load", 1));
    orders.enqueue(batch("e2", "extract", 2));

    assertThat(keys(orders.start(0, "load"))).containsExactly("l1");
    assertThat(keys(orders.start(0, "extract", "load"))).containsExactly("e1", "e2");
  }

  @Test
  void startAvailable_withUnknownStageInFilter_isFailedPreconditionUnknownStageAndStartsNothing() {
    orders.enqueue(batch("e1", "extract", 1));
    String signature = orders.status().getSignature();

    var status =
        assertRefused(
            () -> orders.start(0, "extract", "nope"), Code.FAILED_PRECONDITION, "UNKNOWN_STAGE");

    assertThat(status.getMessage()).contains("nope");
    assertThat(orders.status().getSignature()).isEqualTo(signature);
    assertThat(orders.state("e1")).isEqualTo(BatchState.BATCH_STATE_QUEUED);
  }

  @Test
  void startAvailable_withNegativeMaxBatches_isInvalidArgumentInvalidRequest() {
    orders.enqueue(batch("e1", "extract", 1));

    var status =
        assertRefused(() -> orders.start(-1), Code.INVALID_ARGUMENT, "INVALID_REQUEST");

    assertThat(violatedFields(status)).containsExactly("max_batches");
    assertThat(orders.state("e1")).isEqualTo(BatchState.BATCH_STATE_QUEUED);
  }

  @Test
  void startAvailable_whenPipelineUnknown_isNotFoundPipelineNotFound() {
    assertRefused(
        () -> new PipelineClient(stub, "nope").startAll(), Code.NOT_FOUND, "PIPELINE_NOT_FOUND");
  }

  @Test
  void startAvailable_whenNothingIsAvailable_endsAtOnceAndKeepsTheSignature() {
    String signature = orders.status().getSignature();
    grpc.clock().advance(5_000);

    assertThat(orders.startAll()).isEmpty();
    assertThat(orders.status().getSignature()).isEqualTo(signature);
  }

  @Test
  void startAvailable_stopsAtMaxInFlight() {
    PipelineClient p =
        PipelineClient.create(
            stub, pipeline("narrow", "s").setBoundary(Boundary.newBuilder().setMaxInFlight(2))
                .build());
    for (int i = 1; i <= 3; i++) {
      p.enqueue(batch("b" + i, "s", i));
    }

    assertThat(keys(p.startAll())).containsExactly("b1", "b2");
    assertThat(p.startAll()).isEmpty();
    p.ackProcessed("b1", 1);
    assertThat(keys(p.startAll())).containsExactly("b3");
  }

  @Test
  void startAvailable_atMaxInFlightRecords_stopsWithoutOvertaking() {
    PipelineClient p =
        PipelineClient.create(
            stub,
            pipeline("budget", "s")
                .setBoundary(Boundary.newBuilder().setMaxInFlightRecords(100))
                .build());
    p.enqueue(batch("big1", "s", 1).setRecords(60));
    p.enqueue(batch("big2", "s", 2).setRecords(60));
    p.enqueue(batch("small", "s", 3).setRecords(10));

    assertThat(keys(p.startAll())).containsExactly("big1");
    p.ackProcessed("big1", 1);
    assertThat(keys(p.startAll())).containsExactly("big2", "small");
  }

  @Test
  void startAvailable_whilePaused_startsNothing() {
    orders.enqueue(batch("e1", "extract", 1));
    orders.apply(pause());

    assertThat(orders.startAll()).isEmpty();
  }

  @Test
  void startAvailable_skipsPausedStagesAndStagesWithADisabledConnector() {
    orders.enqueue(batch("e1", "extract", 1));
    orders.enqueue(batch("l1", "load", 1));
    orders.apply(pauseStage("extract"));

    assertThat(keys(orders.startAll())).containsExactly("l1");

    orders.apply(Fixtures.resumeStage("extract"));
    orders.apply(disableConnector("extract-in"));
    assertThat(orders.startAll()).isEmpty();

    orders.apply(Fixtures.enableConnector("extract-in"));
    assertThat(keys(orders.startAll())).containsExactly("e1");
  }

  @Test
  void startAvailable_onAnOrderedStage_startsOneAtATimeInEnqueueOrder() {
    PipelineSpec.Builder spec = pipeline("seq", "s");
    spec.setConnectors(0, spec.getConnectors(0).toBuilder().setOrdered(true));
    PipelineClient p = PipelineClient.create(stub, spec.build());
    p.enqueue(batch("b1", "s", 1));
    p.enqueue(batch("b2", "s", 2));

    assertThat(keys(p.startAll())).containsExactly("b1");
    assertThat(p.startAll()).isEmpty();
    p.ackProcessed("b1", 1);
    assertThat(keys(p.startAll())).containsExactly("b2");
  }

  @Test
  void startAvailable_afterALeaseDeadline_failsTheBatchWithLeaseExpiredAndRetriesItLater() {
    PipelineClient p =
        PipelineClient.create(
            stub,
            pipeline("leased", "s").setBoundary(Boundary.newBuilder().setLeaseMs(1_000)).build());
    p.enqueue(batch("b1", "s", 1));
    StartedBatch first = p.startOne("b1");
    long expiry = grpc.clock().advance(1_000);
    assertThat(expiry).isEqualTo(first.getLeaseDeadlineMs());

    assertThat(p.startAll()).as("expired, waiting out the 1 s backoff").isEmpty();

    List<RetryRecord> retries =
        stub.listRetries(ListRetriesRequest.newBuilder().setPipeline("leased").build())
            .getRetriesList();
    assertThat(retries)
        .containsExactly(
            RetryRecord.newBuilder()
                .setBatchKey("b1")
                .setNextAttempt(2)
                .setReason("lease expired")
                .setRetryAtMs(expiry + 1_000)
                .build());
    assertThat(p.state("b1")).isEqualTo(BatchState.BATCH_STATE_RETRY_WAIT);
    assertThat(p.status().getRetryWaitCount()).isEqualTo(1);

    grpc.clock().advance(999);
    assertThat(p.startAll()).as("retry time not reached").isEmpty();
    grpc.clock().advance(1);
    StartedBatch second = p.startOne("b1");
    assertThat(second.getAttempt()).isEqualTo(2);
  }

  @Test
  void startAvailable_inAnActiveRun_labelsStartedBatchesWithTheRun() {
    long runId =
        stub.startRun(StartRunRequest.newBuilder().setPipeline("orders").build())
            .getRun()
            .getRunId();
    orders.enqueue(batch("e1", "extract", 1));

    assertThat(orders.startOne("e1").getRunId()).isEqualTo(runId).isEqualTo(1);
  }
}
