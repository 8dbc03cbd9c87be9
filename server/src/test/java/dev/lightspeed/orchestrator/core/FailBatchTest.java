package dev.lightspeed.orchestrator.core;

import static dev.lightspeed.orchestrator.core.Fixtures.EXTRACT;
import static dev.lightspeed.orchestrator.core.Fixtures.LOAD;
import static dev.lightspeed.orchestrator.core.Fixtures.assertRefused;
import static dev.lightspeed.orchestrator.core.Fixtures.batch;
import static dev.lightspeed.orchestrator.core.Fixtures.enqueue;
import static dev.lightspeed.orchestrator.core.Fixtures.enqueueAndStart;
import static dev.lightspeed.orchestrator.core.Fixtures.runtime;
import static dev.lightspeed.orchestrator.core.Fixtures.runtimeWithBoundary;
import static dev.lightspeed.orchestrator.core.Fixtures.runtimeWithRetry;
import static dev.lightspeed.orchestrator.core.Fixtures.sink;
import static dev.lightspeed.orchestrator.core.Fixtures.source;
import static dev.lightspeed.orchestrator.core.Fixtures.startOnly;
import static dev.lightspeed.orchestrator.core.Fixtures.stateOf;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** SPEC 3.4: fail_batch, FailureRejected, backoff and dead letters. */
class FailBatchTest {

  // ---- errors --------------------------------------------------------------------------------

  @Test
  void fail_withEmptyReason_isInvalidFailure() {
    PipelineRuntime rt = runtime();
    enqueueAndStart(rt, "k1", 1, 0);
    Rejection r = assertRefused(rt, Reason.INVALID_FAILURE, () -> rt.failBatch("k1", 1, "", false, 0));
    assertThat(r.field()).isEqualTo("reason");
    assertRefused(rt, Reason.INVALID_FAILURE, () -> rt.failBatch("k1", 1, null, false, 0));
  }

  @Test
  void fail_withAttemptBelowOne_isInvalidFailure() {
    PipelineRuntime rt = runtime();
    enqueueAndStart(rt, "k1", 1, 0);
    Rejection r =
        assertRefused(rt, Reason.INVALID_FAILURE, () -> rt.failBatch("k1", 0, "boom", false, 0));
    assertThat(r.field()).isEqualTo("attempt");
    assertRefused(rt, Reason.INVALID_FAILURE, () -> rt.failBatch("k1", -1, "boom", false, 0));
  }

  @Test
  void fail_unknownKey_isBatchNotFound() {
    PipelineRuntime rt = runtime();
    assertRefused(rt, Reason.BATCH_NOT_FOUND, () -> rt.failBatch("nope", 1, "boom", false, 0));
  }

  @Test
  void fail_checksRunInSpecOrder_invalidFailureBeforeBatchNotFound() {
    PipelineRuntime rt = runtime();
    assertRefused(rt, Reason.INVALID_FAILURE, () -> rt.failBatch("nope", 1, "", false, 0));
    assertRefused(rt, Reason.INVALID_FAILURE, () -> rt.failBatch("nope", 0, "boom", false, 0));
  }

  // ---- FailureRejected -----------------------------------------------------------------------

  @Nested
  class Rejected {
    private ProcessOutcome assertRejectedUnchanged(
        PipelineRuntime rt, String key, int attempt, String expectedReason) {
      String sig = rt.queries().signature();
      long lastNow = rt.queries().lastNowMs();
      ProcessOutcome out = rt.failBatch(key, attempt, "late report", false, lastNow + 5_000);
      assertThat(out).isEqualTo(new ProcessOutcome.FailureRejected(expectedReason));
      assertThat(out.label()).isEqualTo("failure_rejected");
      assertThat(rt.queries().signature()).isEqualTo(sig);
      assertThat(rt.queries().lastNowMs()).isEqualTo(lastNow);
      return out;
    }

    @Test
    void fail_staleAttempt_isFailureRejectedNamingBothAttempts() {
      PipelineRuntime rt = runtime();
      enqueueAndStart(rt, "k1", 1, 0);
      rt.failBatch("k1", 1, "boom", false, 0);
      rt.startAvailable(1_000); // attempt 2 in flight

      assertRejectedUnchanged(rt, "k1", 1, "stale attempt 1: batch is at attempt 2");
      assertRejectedUnchanged(rt, "k1", 3, "stale attempt 3: batch is at attempt 2");
      assertThat(stateOf(rt, "k1")).isEqualTo(BatchState.IN_FLIGHT);
    }

    @Test
    void fail_retryWaitBatchAtItsAttempt_isFailureRejectedNotInFlight() {
      PipelineRuntime rt = runtime();
      enqueueAndStart(rt, "k1", 1, 0);
      rt.failBatch("k1", 1, "boom", false, 0);

      assertRejectedUnchanged(rt, "k1", 1, "batch is RETRY_WAIT, not in flight");
    }

    @Test
    void fail_deadLetteredBatchAtItsAttempt_isFailureRejectedNotInFlight() {
      PipelineRuntime rt = runtime();
      enqueueAndStart(rt, "k1", 1, 0);
      rt.failBatch("k1", 1, "bad", true, 0);

      assertRejectedUnchanged(rt, "k1", 1, "batch is DEAD_LETTERED, not in flight");
    }

    @Test
    void fail_neverStartedBatch_isFailureRejectedAsStale() {
      PipelineRuntime rt = runtime();
      enqueue(rt, batch("k1", 1, 1), 0);
      assertRejectedUnchanged(rt, "k1", 1, "stale attempt 1: batch is at attempt 0");
    }

    @Test
    void fail_afterLeaseExpiredAtAStart_isFailureRejected() {
      PipelineRuntime rt = runtimeWithBoundary(b -> b.withLeaseMs(100));
      enqueueAndStart(rt, "k1", 1, 0);
      rt.startAvailable(100); // expired: RETRY_WAIT until 1100

      assertRejectedUnchanged(rt, "k1", 1, "batch is RETRY_WAIT, not in flight");
    }

    @Test
    void fail_doneBatchWithinTheWindow_isAnsweredTheSameWay() {
      PipelineRuntime rt = runtime();
      enqueueAndStart(rt, "k1", 1, 0);
      rt.ackBatch("k1", 1, 10);

      assertRejectedUnchanged(rt, "k1", 1, "batch is DONE, not in flight");
      assertRejectedUnchanged(rt, "k1", 2, "stale attempt 2: batch is at attempt 1");
    }

    @Test
    void fail_doneBatchAfterTheWindow_isBatchNotFound() {
      PipelineRuntime rt = runtime(s -> s.dedupWindowMs(1_000));
      enqueueAndStart(rt, "k1", 1, 0);
      rt.ackBatch("k1", 1, 10);

      assertRefused(rt, Reason.BATCH_NOT_FOUND, () -> rt.failBatch("k1", 1, "x", false, 1_010));
    }
  }

  // ---- retry ---------------------------------------------------------------------------------

  @Test
  void fail_retryableBeforeTheLastAttempt_schedulesARetry() {
    PipelineRuntime rt = runtime();
    enqueueAndStart(rt, "k1", 1, 100);

    ProcessOutcome out = rt.failBatch("k1", 1, "boom", false, 500);

    assertThat(out)
        .isEqualTo(new ProcessOutcome.RetryScheduled(new RetryRecord("k1", 2, "boom", 1_500)));
    assertThat(out.label()).isEqualTo("retry_scheduled");
    assertThat(rt.queries().batch("k1"))
        .isEqualTo(new BatchView(batch("k1", 1, 1), BatchState.RETRY_WAIT, 1, 1_500, 0));
    assertThat(rt.queries().retries()).containsExactly(new RetryRecord("k1", 2, "boom", 1_500));
    assertThat(rt.queries().queuedCount()).isEqualTo(1);
    assertThat(rt.queries().retryWaitCount()).isEqualTo(1);
    assertThat(rt.queries().inFlightCount()).isZero();
  }

  @Test
  void fail_afterTheLeaseDeadlineBeforeTheNextStart_isAcceptedAsInTime() {
    PipelineRuntime rt = runtimeWithBoundary(b -> b.withLeaseMs(100));
    enqueueAndStart(rt, "k1", 1, 0);
    ProcessOutcome out = rt.failBatch("k1", 1, "worker error", false, 5_000);
    assertThat(out)
        .isEqualTo(
            new ProcessOutcome.RetryScheduled(new RetryRecord("k1", 2, "worker error", 6_000)));
  }

  @Test
  void fail_withEarlierNow_usesTheLastNow() {
    PipelineRuntime rt = runtime();
    enqueueAndStart(rt, "k1", 1, 5_000);
    ProcessOutcome out = rt.failBatch("k1", 1, "boom", false, 0);
    assertThat(((ProcessOutcome.RetryScheduled) out).record().retryAtMs()).isEqualTo(6_000);
  }

  @Test
  void fail_defaultPolicy_backsOffExponentiallyThenDeadLettersAtMaxAttempts() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("k1", 1, 1), 0);
    long now = 0;
    long[] expectedBackoff = {1_000, 2_000, 4_000, 8_000};
    for (int attempt = 1; attempt <= 4; attempt++) {
      assertThat(startOnly(rt, "k1", now).attempt()).isEqualTo(attempt);
      ProcessOutcome out = rt.failBatch("k1", attempt, "boom " + attempt, false, now);
      assertThat(out)
          .isEqualTo(
              new ProcessOutcome.RetryScheduled(
                  new RetryRecord(
                      "k1", attempt + 1, "boom " + attempt, now + expectedBackoff[attempt - 1])));
      now += expectedBackoff[attempt - 1];
    }
    assertThat(startOnly(rt, "k1", now).attempt()).isEqualTo(5);

    ProcessOutcome last = rt.failBatch("k1", 5, "boom 5", false, now);

    assertThat(last)
        .isEqualTo(
            new ProcessOutcome.DeadLettered(
                new DeadLetterRecord("k1", "orders.extract.dlq", "boom 5", now)));
    assertThat(last.label()).isEqualTo("dead_lettered");
  }

  @ParameterizedTest(name = "initial={0} multiplier={1} max={2} attempt={3} -> {4}")
  @CsvSource({
    // the defaults: 1000 * 2^(a-1), capped at 60000
    "1000, 2.0, 60000, 1, 1000",
    "1000, 2.0, 60000, 2, 2000",
    "1000, 2.0, 60000, 6, 32000",
    "1000, 2.0, 60000, 7, 60000",
    "1000, 2.0, 60000, 40, 60000",
    // floor, not round: 1000 * 1.5^4 = 5062.5
    "1000, 1.5, 60000, 5, 5062",
    "1000, 1.5, 60000, 3, 2250",
    "1, 1.5, 60000, 2, 1",
    // 100 * 1.1^2 = 121.00000000000003 in doubles: floor gives 121
    "100, 1.1, 60000, 3, 121",
    // 1000 * 1.3^3 = 2197.0000000000005
    "1000, 1.3, 60000, 4, 2197",
    // multiplier 1: constant
    "700, 1.0, 60000, 9, 700",
    // cap below initial: the cap wins from the first attempt
    "1000, 2.0, 300, 1, 300",
    // no backoff
    "0, 2.0, 60000, 3, 0",
    // a huge power overflows to infinity: the cap wins
    "1000, 10.0, 60000, 400, 60000",
    "1000, 10.0, 9223372036854775807, 400, 9223372036854775807"
  })
  void backoff_isMinOfCapAndFlooredExponential(
      long initial, double multiplier, long max, int attempt, long expected) {
    RetryPolicy policy = new RetryPolicy(100, initial, max, multiplier);
    assertThat(policy.backoffMs(attempt)).isEqualTo(expected);
  }

  @Test
  void backoff_usesStrictMathPow() {
    // For many inputs the result must be exactly the StrictMath formula of SPEC section 2.
    for (double m : List.of(1.0, 1.1, 1.25, 1.3, 1.7, 2.0, 2.5, 3.14159, 7.77)) {
      for (long initial : List.of(1L, 3L, 100L, 1_000L, 12_345L)) {
        for (int a = 1; a <= 60; a++) {
          long expected =
              Math.min(Long.MAX_VALUE / 2, (long) Math.floor(initial * StrictMath.pow(m, a - 1)));
          assertThat(new RetryPolicy(100, initial, Long.MAX_VALUE / 2, m).backoffMs(a))
              .as("m=%s initial=%s a=%s", m, initial, a)
              .isEqualTo(expected);
        }
      }
    }
  }

  @Test
  void fail_retryAt_usesTheBackoffOfTheFailedAttempt() {
    PipelineRuntime rt = runtimeWithRetry(r -> new RetryPolicy(10, 1_000, 5_000, 1.5));
    enqueue(rt, batch("k1", 1, 1), 0);
    long now = 0;
    long[] expected = {1_000, 1_500, 2_250, 3_375, 5_000, 5_000};
    for (int attempt = 1; attempt <= expected.length; attempt++) {
      startOnly(rt, "k1", now);
      RetryRecord r =
          ((ProcessOutcome.RetryScheduled) rt.failBatch("k1", attempt, "x", false, now)).record();
      assertThat(r.retryAtMs() - now).as("backoff after attempt %s", attempt).isEqualTo(expected[attempt - 1]);
      now = r.retryAtMs();
    }
  }

  // ---- dead letters --------------------------------------------------------------------------

  @Test
  void fail_nonRetryable_deadLettersAtOnce() {
    PipelineRuntime rt = runtime();
    enqueueAndStart(rt, "k1", 1, 0);

    ProcessOutcome out = rt.failBatch("k1", 1, "poison", true, 700);

    assertThat(out)
        .isEqualTo(
            new ProcessOutcome.DeadLettered(
                new DeadLetterRecord("k1", "orders.extract.dlq", "poison", 700)));
    assertThat(rt.queries().batch("k1"))
        .isEqualTo(new BatchView(batch("k1", 1, 1), BatchState.DEAD_LETTERED, 1, 0, 0));
    assertThat(rt.queries().deadLetters())
        .containsExactly(new DeadLetterRecord("k1", "orders.extract.dlq", "poison", 700));
    assertThat(rt.queries().deadLetterCount()).isEqualTo(1);
    assertThat(rt.queries().queuedCount()).isZero();
    assertThat(rt.queries().inFlightCount()).isZero();
  }

  @Test
  void fail_withMaxAttemptsOne_deadLettersTheFirstFailure() {
    PipelineRuntime rt = runtimeWithRetry(r -> r.withMaxAttempts(1));
    enqueueAndStart(rt, "k1", 1, 0);
    assertThat(rt.failBatch("k1", 1, "boom", false, 0))
        .isInstanceOf(ProcessOutcome.DeadLettered.class);
  }

  @Test
  void fail_atMaxAttempts_deadLettersEvenIfRetryable() {
    PipelineRuntime rt = runtimeWithRetry(r -> new RetryPolicy(2, 0, 0, 1.0));
    enqueueAndStart(rt, "k1", 1, 0);
    assertThat(rt.failBatch("k1", 1, "boom", false, 0))
        .isInstanceOf(ProcessOutcome.RetryScheduled.class);
    startOnly(rt, "k1", 0);
    assertThat(rt.failBatch("k1", 2, "boom", false, 0))
        .isEqualTo(
            new ProcessOutcome.DeadLettered(
                new DeadLetterRecord("k1", "orders.extract.dlq", "boom", 0)));
  }

  private static String destination(List<Connector> connectors, String stage) {
    PipelineRuntime rt =
        runtime(s -> s.connectors(connectors).allowUnboundStages(true));
    enqueue(rt, batch("k", stage, 1, 1), 0);
    startOnly(rt, "k", 0);
    return ((ProcessOutcome.DeadLettered) rt.failBatch("k", 1, "x", true, 0))
        .record()
        .destination();
  }

  @Test
  void deadLetterDestination_isTheSinksWhenSet() {
    assertThat(
            destination(
                List.of(
                    source(LOAD).withDeadLetterDestination("src-dlq"),
                    sink(LOAD).withDeadLetterDestination("sink-dlq")),
                LOAD))
        .isEqualTo("sink-dlq");
  }

  @Test
  void deadLetterDestination_fallsBackToTheSourcesWhenTheSinksIsEmpty() {
    assertThat(
            destination(
                List.of(source(LOAD).withDeadLetterDestination("src-dlq"), sink(LOAD)), LOAD))
        .isEqualTo("src-dlq");
    assertThat(destination(List.of(source(LOAD).withDeadLetterDestination("src-dlq")), LOAD))
        .isEqualTo("src-dlq");
  }

  @Test
  void deadLetterDestination_fallsBackToPipelineStageDlq() {
    assertThat(destination(List.of(source(LOAD), sink(LOAD)), LOAD)).isEqualTo("orders.load.dlq");
    assertThat(destination(List.of(sink(LOAD)), LOAD)).isEqualTo("orders.load.dlq");
    // an unbound stage has no connector at all
    assertThat(destination(List.of(source(LOAD)), EXTRACT)).isEqualTo("orders.extract.dlq");
  }

  @Test
  void deadLetterDestination_ignoresOtherStagesConnectors() {
    assertThat(
            destination(
                List.of(sink(LOAD).withDeadLetterDestination("load-dlq"), source(EXTRACT)),
                EXTRACT))
        .isEqualTo("orders.extract.dlq");
  }

  @Test
  void deadLetters_areListedInEmitOrder() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("a", 1, 1), 0);
    enqueue(rt, batch("b", 1, 2), 0);
    enqueue(rt, batch("c", 1, 3), 0);
    rt.startAvailable(0);
    rt.failBatch("c", 1, "x", true, 1);
    rt.failBatch("a", 1, "y", true, 2);
    rt.failBatch("b", 1, "z", true, 3);

    assertThat(rt.queries().deadLetters())
        .extracting(DeadLetterRecord::batchKey)
        .containsExactly("c", "a", "b");
  }

  @Test
  void fail_inActiveRun_countsRetriesAndDeadLetters() {
    PipelineRuntime rt = runtimeWithBoundary(b -> b.withLeaseMs(100));
    rt.startRun(0);
    enqueue(rt, batch("a", 1, 1), 0);
    enqueue(rt, batch("b", 1, 2), 0);
    enqueue(rt, batch("c", 1, 3), 0);
    rt.startAvailable(0);
    rt.failBatch("a", 1, "x", false, 10);
    rt.failBatch("b", 1, "x", true, 10);
    rt.startAvailable(100); // c's lease expires: a retry too

    RunSummary run = rt.completeRun(200).orElseThrow();
    assertThat(run.retriesScheduled()).isEqualTo(2);
    assertThat(run.deadLettered()).isEqualTo(1);
    assertThat(run.batchesProcessed()).isZero();
  }
}
