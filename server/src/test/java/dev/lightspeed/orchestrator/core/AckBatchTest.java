package dev.lightspeed.orchestrator.core;

import static dev.lightspeed.orchestrator.core.Fixtures.EXTRACT;
import static dev.lightspeed.orchestrator.core.Fixtures.LOAD;
import static dev.lightspeed.orchestrator.core.Fixtures.TRANSFORM;
import static dev.lightspeed.orchestrator.core.Fixtures.assertRefused;
import static dev.lightspeed.orchestrator.core.Fixtures.batch;
import static dev.lightspeed.orchestrator.core.Fixtures.enqueue;
import static dev.lightspeed.orchestrator.core.Fixtures.enqueueAndStart;
import static dev.lightspeed.orchestrator.core.Fixtures.runtime;
import static dev.lightspeed.orchestrator.core.Fixtures.runtimeWithBoundary;
import static dev.lightspeed.orchestrator.core.Fixtures.stateOf;
import static dev.lightspeed.orchestrator.core.Fixtures.withIdem;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** SPEC 3.3: ack_batch, its fencing, its idempotency and its counters. */
class AckBatchTest {

  @Test
  void ack_inFlightBatch_isProcessedWithTheFullResult() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("k1", TRANSFORM, 7, 1), 100);
    rt.startAvailable(200);

    ProcessOutcome.Processed out = rt.ackBatch("k1", 1, 900);

    assertThat(out.result()).isEqualTo(new ProcessResult("k1", TRANSFORM, 7, 1, 0, 200, 900));
    assertThat(out.label()).isEqualTo("processed");
    assertThat(rt.queries().batch("k1")).isNull();
    assertThat(rt.queries().liveCount()).isZero();
    assertThat(rt.queries().inFlightCount()).isZero();
    assertThat(rt.queries().lastNowMs()).isEqualTo(900);
  }

  @Test
  void ack_withAttemptZero_acksWhateverAttemptIsInFlight() {
    PipelineRuntime rt = runtime();
    enqueueAndStart(rt, "k1", 1, 0);
    rt.failBatch("k1", 1, "boom", false, 0);
    rt.startAvailable(1_000); // attempt 2

    assertThat(rt.ackBatch("k1", 0, 1_500).result().attempt()).isEqualTo(2);
  }

  @Test
  void ack_withEarlierNow_completesAtTheLastNow() {
    PipelineRuntime rt = runtime();
    enqueueAndStart(rt, "k1", 1, 5_000);
    assertThat(rt.ackBatch("k1", 1, 10).result().completedAtMs()).isEqualTo(5_000);
  }

  @Test
  void ack_unknownKey_isBatchNotFound() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("k1", 1, 1), 0);
    assertRefused(rt, Reason.BATCH_NOT_FOUND, () -> rt.ackBatch("nope", 0, 0));
  }

  @Test
  void ack_withOtherAttemptThanTheCurrent_isStaleAttempt() {
    PipelineRuntime rt = runtime();
    enqueueAndStart(rt, "k1", 1, 0);
    rt.failBatch("k1", 1, "boom", false, 0);
    rt.startAvailable(1_000); // attempt 2

    assertRefused(rt, Reason.STALE_ATTEMPT, () -> rt.ackBatch("k1", 1, 1_000));
    assertRefused(rt, Reason.STALE_ATTEMPT, () -> rt.ackBatch("k1", 3, 1_000));
    assertThat(rt.ackBatch("k1", 2, 1_000).result().attempt()).isEqualTo(2);
  }

  @Test
  void ack_queuedBatch_isNotInFlight() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("k1", 1, 1), 0);
    Rejection r = assertRefused(rt, Reason.NOT_IN_FLIGHT, () -> rt.ackBatch("k1", 0, 0));
    assertThat(r.getMessage()).contains("QUEUED");
  }

  @Test
  void ack_retryWaitBatchWithItsAttempt_isNotInFlight() {
    PipelineRuntime rt = runtime();
    enqueueAndStart(rt, "k1", 1, 0);
    rt.failBatch("k1", 1, "boom", false, 0);
    Rejection r = assertRefused(rt, Reason.NOT_IN_FLIGHT, () -> rt.ackBatch("k1", 1, 0));
    assertThat(r.getMessage()).contains("RETRY_WAIT");
  }

  @Test
  void ack_deadLetteredBatch_isNotInFlight() {
    PipelineRuntime rt = runtime();
    enqueueAndStart(rt, "k1", 1, 0);
    rt.failBatch("k1", 1, "bad", true, 0);
    assertRefused(rt, Reason.NOT_IN_FLIGHT, () -> rt.ackBatch("k1", 0, 0));
  }

  @Test
  void ack_checksRunInSpecOrder_staleAttemptBeforeNotInFlight() {
    PipelineRuntime rt = runtime();
    enqueueAndStart(rt, "r", 1, 0);
    rt.failBatch("r", 1, "boom", false, 0); // RETRY_WAIT at attempt 1
    assertRefused(rt, Reason.STALE_ATTEMPT, () -> rt.ackBatch("r", 2, 0));
    enqueue(rt, batch("q", 1, 2), 0); // QUEUED at attempt 0
    assertRefused(rt, Reason.STALE_ATTEMPT, () -> rt.ackBatch("q", 1, 0));
  }

  @Test
  void ack_afterTheLeaseDeadlineBeforeTheNextStart_isAcceptedAsInTime() {
    PipelineRuntime rt = runtimeWithBoundary(b -> b.withLeaseMs(1_000));
    enqueueAndStart(rt, "k1", 1, 0);

    ProcessOutcome.Processed out = rt.ackBatch("k1", 1, 50_000);

    assertThat(out.result().completedAtMs()).isEqualTo(50_000);
    assertThat(rt.startAvailable(50_000).expired()).isEmpty();
  }

  @Test
  void ack_afterTheLeaseExpiredAtAStart_isStaleOrNotInFlight() {
    PipelineRuntime rt = runtimeWithBoundary(b -> b.withLeaseMs(1_000));
    enqueueAndStart(rt, "k1", 1, 0);
    rt.startAvailable(1_000); // expires: RETRY_WAIT until 2000

    assertRefused(rt, Reason.NOT_IN_FLIGHT, () -> rt.ackBatch("k1", 1, 1_100));
    rt.startAvailable(2_000); // attempt 2
    assertRefused(rt, Reason.STALE_ATTEMPT, () -> rt.ackBatch("k1", 1, 2_100));
  }

  // ---- idempotent acks -----------------------------------------------------------------------

  @Test
  void ack_again_withinTheWindow_answersTheSameOutcomeAndChangesNothing() {
    PipelineRuntime rt = runtime(s -> s.dedupWindowMs(10_000));
    enqueueAndStart(rt, "k1", 1, 0);
    ProcessOutcome.Processed first = rt.ackBatch("k1", 1, 1_000);
    String sig = rt.queries().signature();

    assertThat(rt.ackBatch("k1", 0, 2_000)).isEqualTo(first);
    assertThat(rt.ackBatch("k1", 1, 10_999)).isEqualTo(first);

    assertThat(rt.queries().signature()).isEqualTo(sig);
    assertThat(rt.queries().lastNowMs()).isEqualTo(1_000);
  }

  @Test
  void ack_again_withOtherAttempt_isStaleAttempt() {
    PipelineRuntime rt = runtime();
    enqueueAndStart(rt, "k1", 1, 0);
    rt.ackBatch("k1", 1, 1_000);

    Rejection r = assertRefused(rt, Reason.STALE_ATTEMPT, () -> rt.ackBatch("k1", 2, 1_000));
    assertThat(r.getMessage()).contains("stale attempt 2: batch is at attempt 1");
  }

  @Test
  void ack_again_exactlyAtTheEndOfTheWindow_isBatchNotFound() {
    PipelineRuntime rt = runtime(s -> s.dedupWindowMs(10_000));
    enqueueAndStart(rt, "k1", 1, 0);
    rt.ackBatch("k1", 1, 1_000);

    assertRefused(rt, Reason.BATCH_NOT_FOUND, () -> rt.ackBatch("k1", 0, 11_000));
    assertRefused(rt, Reason.BATCH_NOT_FOUND, () -> rt.ackBatch("k1", 1, 99_000));
  }

  @Test
  void ack_keyReusedAfterDone_namesTheLiveBatch() {
    PipelineRuntime rt = runtime();
    enqueueAndStart(rt, "k1", 1, 0);
    rt.ackBatch("k1", 1, 100);
    enqueue(rt, withIdem(batch("k1", 3, 2), "second"), 200);

    assertRefused(rt, Reason.NOT_IN_FLIGHT, () -> rt.ackBatch("k1", 0, 300));
    assertRefused(rt, Reason.STALE_ATTEMPT, () -> rt.ackBatch("k1", 1, 300));

    rt.startAvailable(300);
    assertThat(rt.ackBatch("k1", 1, 400).result())
        .isEqualTo(new ProcessResult("k1", EXTRACT, 3, 1, 0, 300, 400));
    // the second ack is now the remembered one
    assertThat(rt.ackBatch("k1", 0, 500).result().records()).isEqualTo(3);
  }

  // ---- run id and counters -------------------------------------------------------------------

  @Test
  void ack_inActiveRun_carriesTheRunIdAndCountsInTheRun() {
    PipelineRuntime rt = runtime();
    rt.startRun(0);
    enqueue(rt, batch("a", 4, 1), 0);
    enqueue(rt, batch("b", 6, 2), 0);
    rt.startAvailable(0);

    assertThat(rt.ackBatch("a", 1, 10).result().runId()).isEqualTo(1);
    rt.ackBatch("b", 1, 20);

    RunSummary run = rt.completeRun(30).orElseThrow();
    assertThat(run.batchesProcessed()).isEqualTo(2);
    assertThat(run.recordsProcessed()).isEqualTo(10);
  }

  @Test
  void ack_withNoActiveRun_hasRunIdZero() {
    PipelineRuntime rt = runtime();
    rt.startRun(0);
    rt.completeRun(0);
    enqueueAndStart(rt, "a", 1, 0);
    assertThat(rt.ackBatch("a", 1, 10).result().runId()).isZero();
  }

  @Test
  void ack_growsThePerStageCounters() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("e1", EXTRACT, 3, 1), 0);
    enqueue(rt, batch("e2", EXTRACT, 4, 2), 0);
    enqueue(rt, batch("l1", LOAD, 10, 1), 0);
    enqueue(rt, batch("t1", TRANSFORM, 99, 1), 0);
    rt.startAvailable(0);
    rt.ackBatch("e1", 1, 0);
    rt.ackBatch("e2", 1, 0);
    rt.ackBatch("l1", 1, 0);
    rt.failBatch("t1", 1, "boom", true, 0);

    assertThat(rt.queries().stageCounters())
        .containsExactly(
            new PipelineQueries.StageCounters(EXTRACT, 2, 7, false),
            new PipelineQueries.StageCounters(TRANSFORM, 0, 0, false),
            new PipelineQueries.StageCounters(LOAD, 1, 10, false));
  }

  @Test
  void ack_repeated_doesNotCountTwice() {
    PipelineRuntime rt = runtime();
    enqueueAndStart(rt, "e1", 1, 0);
    rt.ackBatch("e1", 1, 0);
    rt.ackBatch("e1", 1, 0);
    assertThat(rt.queries().stageCounters().get(0).batchesProcessed()).isEqualTo(1);
    assertThat(stateOf(rt, "e1")).isNull();
  }
}
