package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static dev.lightspeed.orchestrator.server.RpcErrors.assertRefused;
import static dev.lightspeed.orchestrator.server.RpcErrors.assertStatus;
import static dev.lightspeed.orchestrator.server.RpcErrors.violatedFields;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.v1.AckBatchesRequest;
import dev.lightspeed.orchestrator.v1.AckBatchesResponse;
import dev.lightspeed.orchestrator.v1.AckItem;
import dev.lightspeed.orchestrator.v1.AckResult;
import dev.lightspeed.orchestrator.v1.BatchState;
import dev.lightspeed.orchestrator.v1.Boundary;
import dev.lightspeed.orchestrator.v1.CompleteRunRequest;
import dev.lightspeed.orchestrator.v1.Connector;
import dev.lightspeed.orchestrator.v1.ConnectorKind;
import dev.lightspeed.orchestrator.v1.DeadLetterRecord;
import dev.lightspeed.orchestrator.v1.ListDeadLettersRequest;
import dev.lightspeed.orchestrator.v1.ListRetriesRequest;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceBlockingStub;
import dev.lightspeed.orchestrator.v1.PipelineSpec;
import dev.lightspeed.orchestrator.v1.ProcessOutcome.OutcomeCase;
import dev.lightspeed.orchestrator.v1.ProcessOutcome;
import dev.lightspeed.orchestrator.v1.ProcessResult;
import dev.lightspeed.orchestrator.v1.RetryPolicy;
import dev.lightspeed.orchestrator.v1.RetryRecord;
import dev.lightspeed.orchestrator.v1.RunSummary;
import dev.lightspeed.orchestrator.v1.StartRunRequest;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import io.grpc.Status.Code;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** AckBatch, AckBatches, FailBatch and ExtendLease (SPEC 3.3 to 3.5). */
class AckFailLeaseTest {
  @RegisterExtension final GrpcServerExtension grpc = GrpcServerExtension.inProcess();

  private OrchestratorServiceBlockingStub stub;
  /** Lease 10 s; retry: 3 attempts, backoff 1 s × 2 up to 1.5 s. */
  private PipelineClient p;

  @BeforeEach
  void setUp() {
    stub = grpc.blocking();
    p =
        PipelineClient.create(
            stub,
            pipeline("orders", "extract", "load")
                .setBoundary(Boundary.newBuilder().setLeaseMs(10_000))
                .setRetry(
                    RetryPolicy.newBuilder()
                        .setMaxAttempts(3)
                        .setInitialBackoffMs(1_000)
                        .setMaxBackoffMs(1_500)
                        .setMultiplier(2.0))
                .build());
  }

  /** Enqueues {@code key} on stage extract and starts it; returns its start. */
  private StartedBatch started(String key, long sequence) {
    p.enqueue(batch(key, "extract", sequence));
    return p.startOne(key);
  }

  /** Fails {@code key}'s attempt retryably, then waits out the backoff and restarts it. */
  private StartedBatch failAndRestart(String key, int attempt) {
    RetryRecord retry = p.fail(key, attempt, "boom", false).getRetryScheduled();
    grpc.clock().set(retry.getRetryAtMs());
    return p.startOne(key);
  }

  @Nested
  class Ack {
    @Test
    void ackBatch_ofAnInFlightBatch_isProcessedAndTheBatchIsDone() {
      StartedBatch s = started("b1", 1);
      long ackAt = grpc.clock().advance(250);

      ProcessResult result = p.ackProcessed("b1", 1);

      assertThat(result)
          .isEqualTo(
              ProcessResult.newBuilder()
                  .setBatchKey("b1")
                  .setStage("extract")
                  .setRecords(10)
                  .setAttempt(1)
                  .setRunId(0)
                  .setStartedAtMs(s.getStartedAtMs())
                  .setCompletedAtMs(ackAt)
                  .build());
      assertThat(p.batches()).isEmpty();
      assertThat(p.status().getInFlightCount()).isZero();
    }

    @Test
    void ackBatch_withAttemptZero_acksAnyAttempt() {
      started("b1", 1);
      assertThat(p.ackProcessed("b1", 0).getAttempt()).isEqualTo(1);
    }

    @Test
    void ackBatch_repeated_returnsTheSameProcessedAndChangesNothing() {
      started("b1", 1);
      ProcessOutcome first = p.ack("b1", 1);
      String signature = p.status().getSignature();
      grpc.clock().advance(1_000);

      assertThat(p.ack("b1", 1)).isEqualTo(first);
      assertThat(p.ack("b1", 0)).isEqualTo(first);
      assertThat(p.status().getSignature()).isEqualTo(signature);
    }

    @Test
    void ackBatch_repeatedWithAnotherAttempt_isAbortedStaleAttempt() {
      started("b1", 1);
      p.ack("b1", 1);

      assertRefused(() -> p.ack("b1", 2), Code.ABORTED, "STALE_ATTEMPT");
    }

    @Test
    void ackBatch_withAStaleAttempt_isAbortedStaleAttempt() {
      started("b1", 1);
      failAndRestart("b1", 1);
      String signature = p.status().getSignature();

      assertRefused(() -> p.ack("b1", 1), Code.ABORTED, "STALE_ATTEMPT");
      assertThat(p.status().getSignature()).isEqualTo(signature);
      assertThat(p.ackProcessed("b1", 2).getAttempt()).isEqualTo(2);
    }

    @Test
    void ackBatch_ofAQueuedBatch_isFailedPreconditionNotInFlight() {
      p.enqueue(batch("b1", "extract", 1));

      assertRefused(() -> p.ack("b1", 0), Code.FAILED_PRECONDITION, "NOT_IN_FLIGHT");
    }

    @Test
    void ackBatch_ofARetryWaitBatch_isFailedPreconditionNotInFlight() {
      started("b1", 1);
      p.fail("b1", 1, "boom", false);

      assertRefused(() -> p.ack("b1", 1), Code.FAILED_PRECONDITION, "NOT_IN_FLIGHT");
    }

    @Test
    void ackBatch_ofAnUnknownKey_isNotFoundBatchNotFound() {
      assertRefused(() -> p.ack("nope", 0), Code.NOT_FOUND, "BATCH_NOT_FOUND");
    }

    @Test
    void ackBatch_afterTheDedupWindow_isNotFoundBatchNotFound() {
      started("b1", 1);
      p.ack("b1", 1);
      grpc.clock().advance(300_000);

      assertRefused(() -> p.ack("b1", 1), Code.NOT_FOUND, "BATCH_NOT_FOUND");
    }

    @Test
    void ackBatch_withNegativeAttempt_isInvalidArgumentInvalidRequest() {
      started("b1", 1);

      var status = assertRefused(() -> p.ack("b1", -1), Code.INVALID_ARGUMENT, "INVALID_REQUEST");
      assertThat(violatedFields(status)).containsExactly("attempt");
      assertThat(p.state("b1")).isEqualTo(BatchState.BATCH_STATE_IN_FLIGHT);
    }

    @Test
    void ackBatch_afterTheLeaseDeadlineButBeforeTheNextStart_isAccepted() {
      StartedBatch s = started("b1", 1);
      grpc.clock().set(s.getLeaseDeadlineMs() + 5_000);

      assertThat(p.ackProcessed("b1", 1).getAttempt()).isEqualTo(1);
    }

    @Test
    void ackBatch_whenPipelineUnknown_isNotFoundPipelineNotFound() {
      assertRefused(
          () -> new PipelineClient(stub, "nope").ack("b1", 0), Code.NOT_FOUND,
          "PIPELINE_NOT_FOUND");
    }

    @Test
    void ackBatch_duringARun_isLabelledWithAndCountedInTheRun() {
      stub.startRun(StartRunRequest.newBuilder().setPipeline("orders").build());
      started("b1", 1);

      assertThat(p.ackProcessed("b1", 1).getRunId()).isEqualTo(1);
      RunSummary run =
          stub.completeRun(CompleteRunRequest.newBuilder().setPipeline("orders").build()).getRun();
      assertThat(run.getBatchesProcessed()).isEqualTo(1);
      assertThat(run.getRecordsProcessed()).isEqualTo(10);
    }
  }

  @Nested
  class AckMany {
    @Test
    void ackBatches_answersEachItemInOrder_aRefusedItemDoesNotRefuseTheOthers() {
      started("a", 1);
      started("b", 2);
      p.enqueue(batch("queued", "extract", 3));

      AckBatchesResponse resp =
          stub.ackBatches(
              AckBatchesRequest.newBuilder()
                  .setPipeline("orders")
                  .addAcks(AckItem.newBuilder().setKey("a").setAttempt(1))
                  .addAcks(AckItem.newBuilder().setKey("nope"))
                  .addAcks(AckItem.newBuilder().setKey("queued"))
                  .addAcks(AckItem.newBuilder().setKey("a"))
                  .addAcks(AckItem.newBuilder().setKey("b").setAttempt(-1))
                  .addAcks(AckItem.newBuilder().setKey("b").setAttempt(7))
                  .addAcks(AckItem.newBuilder().setKey("b").setAttempt(1))
                  .build());

      List<AckResult> r = resp.getResultsList();
      assertThat(r).extracting(AckResult::getKey)
          .containsExactly("a", "nope", "queued", "a", "b", "b", "b");
      assertThat(r.get(0).getOutcome().getProcessed().getBatchKey()).isEqualTo("a");
      assertThat(r.get(0).hasError()).isFalse();
      assertStatus(r.get(1).getError(), Code.NOT_FOUND, "BATCH_NOT_FOUND");
      assertThat(r.get(1).hasOutcome()).isFalse();
      assertStatus(r.get(2).getError(), Code.FAILED_PRECONDITION, "NOT_IN_FLIGHT");
      assertThat(r.get(3).getOutcome()).as("a repeated ack").isEqualTo(r.get(0).getOutcome());
      var invalid = assertStatus(r.get(4).getError(), Code.INVALID_ARGUMENT, "INVALID_REQUEST");
      assertThat(violatedFields(invalid)).containsExactly("acks[4].attempt");
      assertStatus(r.get(5).getError(), Code.ABORTED, "STALE_ATTEMPT");
      assertThat(r.get(6).getOutcome().getOutcomeCase()).isEqualTo(OutcomeCase.PROCESSED);
      assertThat(p.batches()).extracting(v -> v.getBatch().getKey()).containsExactly("queued");
    }

    @Test
    void ackBatches_whenPipelineUnknown_refusesTheWholeCall() {
      assertRefused(
          () -> stub.ackBatches(
              AckBatchesRequest.newBuilder()
                  .setPipeline("nope")
                  .addAcks(AckItem.newBuilder().setKey("a"))
                  .build()),
          Code.NOT_FOUND,
          "PIPELINE_NOT_FOUND");
    }

    @Test
    void ackBatches_withNoAcks_answersNoResults() {
      assertThat(
              stub.ackBatches(AckBatchesRequest.newBuilder().setPipeline("orders").build())
                  .getResultsList())
          .isEmpty();
    }
  }

  @Nested
  class Fail {
    @Test
    void failBatch_retryable_isRetryScheduledAfterTheBackoff() {
      started("b1", 1);
      long failedAt = grpc.clock().advance(100);

      ProcessOutcome outcome = p.fail("b1", 1, "db timeout", false);

      RetryRecord expected =
          RetryRecord.newBuilder()
              .setBatchKey("b1")
              .setNextAttempt(2)
              .setReason("db timeout")
              .setRetryAtMs(failedAt + 1_000)
              .build();
      assertThat(outcome.getRetryScheduled()).isEqualTo(expected);
      assertThat(p.state("b1")).isEqualTo(BatchState.BATCH_STATE_RETRY_WAIT);
      assertThat(p.batch("b1").getReadyAtMs()).isEqualTo(failedAt + 1_000);
      assertThat(
              stub.listRetries(ListRetriesRequest.newBuilder().setPipeline("orders").build())
                  .getRetriesList())
          .containsExactly(expected);
    }

    @Test
    void failBatch_secondFailure_backsOffLongerUpToTheMax() {
      started("b1", 1);
      failAndRestart("b1", 1);
      long now = grpc.clock().millis();

      RetryRecord second = p.fail("b1", 2, "boom", false).getRetryScheduled();

      assertThat(second.getNextAttempt()).isEqualTo(3);
      assertThat(second.getRetryAtMs()).as("min(1500, 1000 * 2^1)").isEqualTo(now + 1_500);
    }

    @Test
    void failBatch_ofTheLastAttempt_isDeadLetteredToTheDefaultDestination() {
      started("b1", 1);
      failAndRestart("b1", 1);
      failAndRestart("b1", 2);
      long now = grpc.clock().millis();

      ProcessOutcome outcome = p.fail("b1", 3, "still broken", false);

      DeadLetterRecord expected =
          DeadLetterRecord.newBuilder()
              .setBatchKey("b1")
              .setDestination("orders.extract.dlq")
              .setReason("still broken")
              .setAtMs(now)
              .build();
      assertThat(outcome.getDeadLettered()).isEqualTo(expected);
      assertThat(p.state("b1")).isEqualTo(BatchState.BATCH_STATE_DEAD_LETTERED);
      assertThat(p.batch("b1").getReadyAtMs()).isZero();
      assertThat(
              stub.listDeadLetters(
                      ListDeadLettersRequest.newBuilder().setPipeline("orders").build())
                  .getDeadLettersList())
          .containsExactly(expected);
      assertThat(p.status().getDeadLetterCount()).isEqualTo(1);
    }

    @Test
    void failBatch_nonRetryable_isDeadLetteredAtOnce() {
      started("b1", 1);

      ProcessOutcome outcome = p.fail("b1", 1, "poison", true);

      assertThat(outcome.getOutcomeCase()).isEqualTo(OutcomeCase.DEAD_LETTERED);
      assertThat(outcome.getDeadLettered().getReason()).isEqualTo("poison");
    }

    @Test
    void failBatch_deadLetterDestination_isTheSinksThenTheSourcesOfTheStage() {
      Connector source =
          Connector.newBuilder()
              .setName("src")
              .setKind(ConnectorKind.CONNECTOR_KIND_SOURCE)
              .setStage("s")
              .setDeadLetterDestination("s3://source-dlq")
              .build();
      Connector sink =
          Connector.newBuilder()
              .setName("sink")
              .setKind(ConnectorKind.CONNECTOR_KIND_SINK)
              .setStage("s")
              .setDeadLetterDestination("s3://sink-dlq")
              .build();
      PipelineClient both =
          PipelineClient.create(
              stub,
              PipelineSpec.newBuilder().setName("both").addStages("s").addConnectors(source)
                  .addConnectors(sink).build());
      PipelineClient sourceOnly =
          PipelineClient.create(
              stub,
              PipelineSpec.newBuilder().setName("source-only").addStages("s")
                  .addConnectors(source)
                  .addConnectors(sink.toBuilder().setDeadLetterDestination(""))
                  .build());

      for (PipelineClient c : List.of(both, sourceOnly)) {
        c.enqueue(batch("b1", "s", 1));
        c.startOne("b1");
      }

      assertThat(both.fail("b1", 1, "x", true).getDeadLettered().getDestination())
          .isEqualTo("s3://sink-dlq");
      assertThat(sourceOnly.fail("b1", 1, "x", true).getDeadLettered().getDestination())
          .isEqualTo("s3://source-dlq");
    }

    @Test
    void failBatch_withAStaleAttempt_isFailureRejectedAndChangesNothing() {
      started("b1", 1);
      failAndRestart("b1", 1);
      String signature = p.status().getSignature();

      ProcessOutcome outcome = p.fail("b1", 1, "late report", false);

      assertThat(outcome.getFailureRejected().getReason())
          .isEqualTo("stale attempt 1: batch is at attempt 2");
      assertThat(p.status().getSignature()).isEqualTo(signature);
      assertThat(p.state("b1")).isEqualTo(BatchState.BATCH_STATE_IN_FLIGHT);
    }

    @Test
    void failBatch_ofARetryWaitBatch_isFailureRejected() {
      started("b1", 1);
      p.fail("b1", 1, "boom", false);

      assertThat(p.fail("b1", 1, "again", false).getFailureRejected().getReason())
          .isEqualTo("batch is RETRY_WAIT, not in flight");
    }

    @Test
    void failBatch_ofAnAckedBatchWithinTheWindow_isFailureRejected() {
      started("b1", 1);
      p.ack("b1", 1);

      assertThat(p.fail("b1", 1, "too late", false).getOutcomeCase())
          .isEqualTo(OutcomeCase.FAILURE_REJECTED);
    }

    @Test
    void failBatch_withEmptyReason_isInvalidArgumentInvalidFailure() {
      started("b1", 1);

      var status =
          assertRefused(() -> p.fail("b1", 1, "", false), Code.INVALID_ARGUMENT,
              "INVALID_FAILURE");
      assertThat(violatedFields(status)).containsExactly("reason");
    }

    @Test
    void failBatch_withAttemptBelowOne_isInvalidArgumentInvalidFailure() {
      started("b1", 1);

      var status =
          assertRefused(() -> p.fail("b1", 0, "boom", false), Code.INVALID_ARGUMENT,
              "INVALID_FAILURE");
      assertThat(violatedFields(status)).containsExactly("attempt");
    }

    @Test
    void failBatch_ofAnUnknownKey_isNotFoundBatchNotFound_afterTheValidation() {
      assertRefused(() -> p.fail("nope", 1, "boom", false), Code.NOT_FOUND, "BATCH_NOT_FOUND");
      assertRefused(
          () -> p.fail("nope", 1, "", false), Code.INVALID_ARGUMENT, "INVALID_FAILURE");
    }

    @Test
    void failBatch_afterTheLeaseDeadlineButBeforeTheNextStart_isAccepted() {
      StartedBatch s = started("b1", 1);
      grpc.clock().set(s.getLeaseDeadlineMs() + 1);

      assertThat(p.fail("b1", 1, "slow", false).getOutcomeCase())
          .isEqualTo(OutcomeCase.RETRY_SCHEDULED);
    }

    @Test
    void failBatch_whenPipelineUnknown_isNotFoundPipelineNotFound() {
      assertRefused(
          () -> new PipelineClient(stub, "nope").fail("b1", 1, "x", false), Code.NOT_FOUND,
          "PIPELINE_NOT_FOUND");
    }
  }

  @Nested
  class ExtendLease {
    @Test
    void extendLease_movesTheDeadlineToNowPlusLeaseMs_andTheBatchOutlivesItsFirstDeadline() {
      StartedBatch s = started("b1", 1);
      long now = grpc.clock().advance(8_000);

      long deadline = p.extendLease("b1", 1);

      assertThat(deadline).isEqualTo(now + 10_000);
      assertThat(p.batch("b1").getLeaseDeadlineMs()).isEqualTo(deadline);
      grpc.clock().set(s.getLeaseDeadlineMs() + 1);
      assertThat(p.startAll()).isEmpty();
      assertThat(p.state("b1")).isEqualTo(BatchState.BATCH_STATE_IN_FLIGHT);
      assertThat(p.extendLease("b1", 0)).as("attempt 0 = no fencing")
          .isEqualTo(s.getLeaseDeadlineMs() + 1 + 10_000);
    }

    @Test
    void extendLease_afterTheDeadlineButBeforeTheNextStart_isAccepted() {
      StartedBatch s = started("b1", 1);
      long late = grpc.clock().set(s.getLeaseDeadlineMs() + 3_000);

      assertThat(p.extendLease("b1", 1)).isEqualTo(late + 10_000);
      assertThat(p.startAll()).isEmpty();
      assertThat(p.state("b1")).isEqualTo(BatchState.BATCH_STATE_IN_FLIGHT);
    }

    @Test
    void extendLease_withAStaleAttempt_isAbortedStaleAttempt() {
      started("b1", 1);
      failAndRestart("b1", 1);

      assertRefused(() -> p.extendLease("b1", 1), Code.ABORTED, "STALE_ATTEMPT");
    }

    @Test
    void extendLease_ofAQueuedBatch_isFailedPreconditionNotInFlight() {
      p.enqueue(batch("b1", "extract", 1));

      assertRefused(() -> p.extendLease("b1", 0), Code.FAILED_PRECONDITION, "NOT_IN_FLIGHT");
    }

    @Test
    void extendLease_ofAnAckedBatch_isFailedPreconditionNotInFlight() {
      started("b1", 1);
      p.ack("b1", 1);

      assertRefused(() -> p.extendLease("b1", 0), Code.FAILED_PRECONDITION, "NOT_IN_FLIGHT");
    }

    @Test
    void extendLease_ofAnUnknownKey_isNotFoundBatchNotFound() {
      assertRefused(() -> p.extendLease("nope", 0), Code.NOT_FOUND, "BATCH_NOT_FOUND");
    }

    @Test
    void extendLease_withNegativeAttempt_isInvalidArgumentInvalidRequest() {
      started("b1", 1);

      var status =
          assertRefused(() -> p.extendLease("b1", -2), Code.INVALID_ARGUMENT, "INVALID_REQUEST");
      assertThat(violatedFields(status)).containsExactly("attempt");
    }

    @Test
    void extendLease_whenPipelineUnknown_isNotFoundPipelineNotFound() {
      assertRefused(
          () -> new PipelineClient(stub, "nope").extendLease("b1", 0), Code.NOT_FOUND,
          "PIPELINE_NOT_FOUND");
    }
  }
}
