package dev.lightspeed.orchestrator.client;

import static dev.lightspeed.orchestrator.client.ServerExtension.batch;
import static dev.lightspeed.orchestrator.client.ServerExtension.spec;
import static dev.lightspeed.orchestrator.client.ServerExtension.uniqueName;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.lightspeed.orchestrator.client.errors.AlreadyExistsException;
import dev.lightspeed.orchestrator.client.errors.ErrorReason;
import dev.lightspeed.orchestrator.client.errors.FailedPreconditionException;
import dev.lightspeed.orchestrator.client.errors.InvalidArgumentException;
import dev.lightspeed.orchestrator.client.errors.LagExceededException;
import dev.lightspeed.orchestrator.client.errors.NotFoundException;
import dev.lightspeed.orchestrator.client.errors.OrchestratorErrors;
import dev.lightspeed.orchestrator.client.errors.OrchestratorException;
import dev.lightspeed.orchestrator.client.errors.QueueFullException;
import dev.lightspeed.orchestrator.client.errors.StaleAttemptException;
import dev.lightspeed.orchestrator.v1.AckItem;
import dev.lightspeed.orchestrator.v1.AckResult;
import dev.lightspeed.orchestrator.v1.BatchState;
import dev.lightspeed.orchestrator.v1.Boundary;
import dev.lightspeed.orchestrator.v1.EnqueueResult;
import dev.lightspeed.orchestrator.v1.ListAuditLogRequest;
import dev.lightspeed.orchestrator.v1.ListBatchesRequest;
import dev.lightspeed.orchestrator.v1.ListDeadLettersRequest;
import dev.lightspeed.orchestrator.v1.ListPipelinesRequest;
import dev.lightspeed.orchestrator.v1.ListRetriesRequest;
import dev.lightspeed.orchestrator.v1.ListRunsRequest;
import dev.lightspeed.orchestrator.v1.OperatorAction;
import dev.lightspeed.orchestrator.v1.PipelineMode;
import dev.lightspeed.orchestrator.v1.PipelineSpec;
import dev.lightspeed.orchestrator.v1.ProcessOutcome;
import dev.lightspeed.orchestrator.v1.RunSummary;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import io.grpc.Status;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class OrchestratorClientTest {
  @RegisterExtension static final ServerExtension server = new ServerExtension();

  private final OrchestratorClient client = server.client();

  @Test
  void pipelines_createGetListDelete() {
    String name = uniqueName("pipes");
    PipelineSpec effective = client.createPipeline(spec(name, 3, 30_000).build());
    assertThat(effective.getBoundary().getMaxInFlight()).isEqualTo(64); // default filled in
    assertThat(client.getPipeline(name)).isEqualTo(effective);
    assertThat(client.listPipelines(ListPipelinesRequest.newBuilder().setPageSize(1000).build())
            .getPipelinesList())
        .extracting(PipelineSpec::getName)
        .contains(name);

    client.enqueueBatch(name, batch("b1", 1));
    FailedPreconditionException notEmpty =
        catchThrowableOfType(
            FailedPreconditionException.class, () -> client.deletePipeline(name, false));
    assertThat(notEmpty.reason()).isEqualTo(ErrorReason.PIPELINE_NOT_EMPTY);
    client.deletePipeline(name, true);
    assertThat(catchThrowableOfType(NotFoundException.class, () -> client.getPipeline(name))
            .reason())
        .isEqualTo(ErrorReason.PIPELINE_NOT_FOUND);
  }

  @Test
  void enqueueStartExtendAck_processesABatch_andRepeatsAreHarmless() {
    String p = server.createPipeline("ack", 3, 30_000);
    assertThat(client.enqueueBatch(p, batch("b1", 1))).isFalse();
    assertThat(client.enqueueBatch(p, batch("b1", 1))).isTrue(); // same idempotency key

    List<StartedBatch> started = client.startAvailable(p, 0);
    assertThat(started).hasSize(1);
    StartedBatch s = started.get(0);
    assertThat(s.getAttempt()).isEqualTo(1);
    assertThat(s.getLeaseDeadlineMs() - s.getStartedAtMs()).isEqualTo(30_000);

    assertThat(client.extendLease(p, "b1", 1)).isGreaterThanOrEqualTo(s.getLeaseDeadlineMs());
    ProcessOutcome outcome = client.ackBatch(p, "b1", 1);
    assertThat(outcome.getProcessed().getBatchKey()).isEqualTo("b1");
    assertThat(outcome.getProcessed().getAttempt()).isEqualTo(1);
    assertThat(client.ackBatch(p, "b1", 0)).isEqualTo(outcome);
    assertThat(client.getStatus(p).getInFlightCount()).isZero();
  }

  @Test
  void failRetryDeadLetterRedrive_operatorsAndRuns() {
    String p = server.createPipeline("fail", 2, 30_000);
    RunSummary run = client.startRun(p);
    assertThat(run.getRunId()).isEqualTo(1);
    client.enqueueBatch(p, batch("b1", 1));
    client.startAvailable(p, 1);

    ProcessOutcome retry = client.failBatch(p, "b1", 1, "sink timeout", false);
    assertThat(retry.getRetryScheduled().getNextAttempt()).isEqualTo(2);
    assertThat(client.listRetries(ListRetriesRequest.newBuilder().setPipeline(p).build())
            .getRetriesList())
        .hasSize(1);
    assertThat(client.startAvailable(p, 1).get(0).getAttempt()).isEqualTo(2);
    ProcessOutcome dead = client.failBatch(p, "b1", 2, "sink timeout", false);
    assertThat(dead.getDeadLettered().getDestination()).isEqualTo(p + ".work.dlq");
    assertThat(client.failBatch(p, "b1", 2, "late", false).hasFailureRejected()).isTrue();

    assertThat(client.listDeadLetters(ListDeadLettersRequest.newBuilder().setPipeline(p).build())
            .getDeadLettersList())
        .singleElement()
        .satisfies(d -> assertThat(d.getReason()).isEqualTo("sink timeout"));
    client.applyAction(
        p,
        OperatorAction.newBuilder()
            .setRedriveDeadLetter(OperatorAction.RedriveDeadLetter.newBuilder().setKey("b1"))
            .build());
    client.applyAction(
        p, OperatorAction.newBuilder().setPause(OperatorAction.Pause.getDefaultInstance()).build());
    assertThat(client.getStatus(p).getMode()).isEqualTo(PipelineMode.PIPELINE_MODE_PAUSED);
    assertThat(client.listBatches(
                ListBatchesRequest.newBuilder()
                    .setPipeline(p)
                    .setState(BatchState.BATCH_STATE_QUEUED)
                    .build())
            .getBatchesList())
        .singleElement()
        .satisfies(b -> assertThat(b.getAttempt()).isZero());
    assertThat(client.listAuditLog(ListAuditLogRequest.newBuilder().setPipeline(p).build())
            .getEntriesList())
        .hasSize(2);

    assertThat(client.completeRun(p)).get().satisfies(r -> {
      assertThat(r.getRunId()).isEqualTo(1);
      assertThat(r.getRetriesScheduled()).isEqualTo(1);
      assertThat(r.getDeadLettered()).isEqualTo(1);
    });
    assertThat(client.completeRun(p)).isEmpty();
    assertThat(client.listRuns(ListRunsRequest.newBuilder().setPipeline(p).build())
            .getRunsList())
        .hasSize(1);
  }

  @Test
  void bulkCalls_answerEachItem_andItemErrorsMapToTypedExceptions() {
    String p = server.createPipeline("bulk", 3, 30_000);
    List<EnqueueResult> results =
        client.enqueueBatches(
            p,
            List.of(
                batch("a", 1),
                batch("b", 2),
                batch("a", 3).toBuilder().setIdempotencyKey("a-2").build()));
    assertThat(results).hasSize(3);
    assertThat(results.get(0).hasError()).isFalse();
    assertThat(results.get(1).hasError()).isFalse();
    OrchestratorException third = OrchestratorErrors.fromStatus(results.get(2).getError());
    assertThat(third).isInstanceOf(AlreadyExistsException.class);
    assertThat(third.reason()).isEqualTo(ErrorReason.BATCH_KEY_EXISTS);

    client.startAvailable(p, 0);
    List<AckResult> acks =
        client.ackBatches(
            p,
            List.of(
                AckItem.newBuilder().setKey("a").setAttempt(1).build(),
                AckItem.newBuilder().setKey("b").setAttempt(7).build()));
    assertThat(acks.get(0).getOutcome().hasProcessed()).isTrue();
    assertThat(OrchestratorErrors.fromStatus(acks.get(1).getError()))
        .isInstanceOf(StaleAttemptException.class);
  }

  @Test
  void enqueue_whenQueueFull_throwsQueueFullException_withTheRetryDelayOfOneSecond() {
    String p = uniqueName("full");
    client.createPipeline(
        spec(p, 3, 30_000).setBoundary(Boundary.newBuilder().setMaxQueued(1)).build());
    client.enqueueBatch(p, batch("b1", 1));

    QueueFullException e =
        catchThrowableOfType(QueueFullException.class, () -> client.enqueueBatch(p, batch("b2", 2)));
    assertThat(e.code()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(e.reason()).isEqualTo(ErrorReason.QUEUE_FULL);
    assertThat(e.retryDelay()).isEqualTo(Duration.ofSeconds(1));
    assertThat(e.metadata()).containsEntry("pipeline", p);
  }

  @Test
  void enqueue_withTooMuchLag_throwsLagExceededException() {
    String p = uniqueName("lag");
    client.createPipeline(
        spec(p, 3, 30_000).setBoundary(Boundary.newBuilder().setMaxLagMs(100)).build());
    LagExceededException e =
        catchThrowableOfType(
            LagExceededException.class,
            () -> client.enqueueBatch(p, batch("b1", 1).toBuilder().setLagMs(101).build()));
    assertThat(e.retryDelay()).isPositive();
  }

  @Test
  void ack_withAnOldAttempt_throwsStaleAttemptException() {
    String p = server.createPipeline("stale", 3, 30_000);
    client.enqueueBatch(p, batch("b1", 1));
    client.startAvailable(p, 0);
    client.failBatch(p, "b1", 1, "boom", false);
    client.startAvailable(p, 0);

    StaleAttemptException e =
        catchThrowableOfType(StaleAttemptException.class, () -> client.ackBatch(p, "b1", 1));
    assertThat(e.code()).isEqualTo(Status.Code.ABORTED);
    assertThat(e.reasonName()).isEqualTo("STALE_ATTEMPT");
  }

  @Test
  void invalidSpec_throwsInvalidArgumentException_namingTheField() {
    InvalidArgumentException e =
        catchThrowableOfType(
            InvalidArgumentException.class,
            () -> client.createPipeline(spec("Bad Name", 3, 30_000).build()));
    assertThat(e.reason()).isEqualTo(ErrorReason.INVALID_PIPELINE_SPEC);
    assertThat(e.fieldViolations()).isNotEmpty();
    assertThat(e.fieldViolations().get(0).getField()).startsWith("spec.");
  }

  @Test
  void unknownPipeline_throwsNotFoundException() {
    NotFoundException e =
        catchThrowableOfType(NotFoundException.class, () -> client.getStatus("no-such-pipeline"));
    assertThat(e.reason()).isEqualTo(ErrorReason.PIPELINE_NOT_FOUND);
    assertThat(e.getMessage()).contains("no-such-pipeline");
  }

  @Test
  void unreachableServer_throwsUnavailable_withoutAReason() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    try (OrchestratorClient down =
        OrchestratorClient.builder()
            .target("127.0.0.1:" + closedPort)
            .retryPolicy(2, Duration.ofMillis(10), Duration.ofMillis(10), 1.0)
            .build()) {
      OrchestratorException e =
          catchThrowableOfType(OrchestratorException.class, () -> down.getStatus("any"));
      assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(e.reason()).isEqualTo(ErrorReason.UNKNOWN);
      assertThat(e.reasonName()).isEqualTo("UNAVAILABLE");
    }
  }
}
