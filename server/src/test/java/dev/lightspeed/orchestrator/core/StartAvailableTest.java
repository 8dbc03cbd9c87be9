package dev.lightspeed.orchestrator.core;

import static dev.lightspeed.orchestrator.core.Fixtures.EXTRACT;
import static dev.lightspeed.orchestrator.core.Fixtures.LOAD;
import static dev.lightspeed.orchestrator.core.Fixtures.TRANSFORM;
import static dev.lightspeed.orchestrator.core.Fixtures.assertRefused;
import static dev.lightspeed.orchestrator.core.Fixtures.batch;
import static dev.lightspeed.orchestrator.core.Fixtures.enqueue;
import static dev.lightspeed.orchestrator.core.Fixtures.keys;
import static dev.lightspeed.orchestrator.core.Fixtures.runtime;
import static dev.lightspeed.orchestrator.core.Fixtures.runtimeWithBoundary;
import static dev.lightspeed.orchestrator.core.Fixtures.setMaxInFlight;
import static dev.lightspeed.orchestrator.core.Fixtures.sink;
import static dev.lightspeed.orchestrator.core.Fixtures.source;
import static dev.lightspeed.orchestrator.core.Fixtures.stages;
import static dev.lightspeed.orchestrator.core.Fixtures.startOnly;
import static dev.lightspeed.orchestrator.core.Fixtures.stateOf;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** SPEC 3.2: start_available, lease expiry and the order in which batches start. */
class StartAvailableTest {

  private static final RetryPolicy NO_BACKOFF = new RetryPolicy(5, 0, 0, 1.0);

  // ---- step 5: starting ----------------------------------------------------------------------

  @Test
  void start_queuedBatch_isInFlightAtAttemptOneWithLease() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("k1", 10, 1), 1_000);

    StartResult result = rt.startAvailable(2_000);

    assertThat(result.started())
        .containsExactly(new StartedBatch(batch("k1", 10, 1), 1, 2_000, 32_000, 0));
    assertThat(result.expired()).isEmpty();
    assertThat(rt.queries().batch("k1"))
        .isEqualTo(new BatchView(batch("k1", 10, 1), BatchState.IN_FLIGHT, 1, 1_000, 32_000));
    assertThat(rt.queries().inFlightCount()).isEqualTo(1);
    assertThat(rt.queries().queuedCount()).isZero();
  }

  @Test
  void start_withEarlierNow_startsAtTheLastNow() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("k1", 1, 1), 5_000);

    StartedBatch s = startOnly(rt, "k1", 10);

    assertThat(s.startedAtMs()).isEqualTo(5_000);
    assertThat(s.leaseDeadlineMs()).isEqualTo(35_000);
  }

  @Test
  void start_withLeaseZero_reportsDeadlineZeroAndNeverExpires() {
    PipelineRuntime rt = runtimeWithBoundary(b -> b.withLeaseMs(0));
    enqueue(rt, batch("k1", 1, 1), 0);

    StartedBatch s = startOnly(rt, "k1", 0);

    assertThat(s.leaseDeadlineMs()).isZero();
    assertThat(rt.queries().batch("k1").leaseDeadlineMs()).isZero();
    StartResult later = rt.startAvailable(Long.MAX_VALUE);
    assertThat(later.expired()).isEmpty();
    assertThat(stateOf(rt, "k1")).isEqualTo(BatchState.IN_FLIGHT);
  }

  @Test
  void start_inActiveRun_labelsTheStartWithTheRun() {
    PipelineRuntime rt = runtime();
    rt.startRun(0);
    enqueue(rt, batch("k1", 1, 1), 0);
    assertThat(startOnly(rt, "k1", 0).runId()).isEqualTo(1);
  }

  @Test
  void start_withNothingAvailable_startsNothingAndKeepsTheSignature() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("k1", 1, 1), 0);
    rt.startAvailable(0);
    String sig = rt.queries().signature();

    StartResult result = rt.startAvailable(100);

    assertThat(result.started()).isEmpty();
    assertThat(result.expired()).isEmpty();
    assertThat(rt.queries().signature()).isEqualTo(sig);
    assertThat(rt.queries().lastNowMs()).isEqualTo(100);
  }

  // ---- step 1: lease expiry ------------------------------------------------------------------

  @Nested
  class LeaseExpiry {
    @Test
    void start_expiresLeaseExactlyAtItsDeadlineNotBefore() {
      PipelineRuntime rt = runtimeWithBoundary(b -> b.withLeaseMs(1_000));
      enqueue(rt, batch("k1", 1, 1), 0);
      rt.startAvailable(0);

      assertThat(rt.startAvailable(999).expired()).isEmpty();
      assertThat(stateOf(rt, "k1")).isEqualTo(BatchState.IN_FLIGHT);

      StartResult r = rt.startAvailable(1_000);
      assertThat(r.expired())
          .containsExactly(
              new ProcessOutcome.RetryScheduled(
                  new RetryRecord("k1", 2, "lease expired", 2_000)));
      assertThat(PipelineRuntime.LEASE_EXPIRED).isEqualTo("lease expired");
      assertThat(stateOf(rt, "k1")).isEqualTo(BatchState.RETRY_WAIT);
      assertThat(rt.queries().inFlightCount()).isZero();
    }

    @Test
    void start_expiresLeasesFirstInDeadlineThenEnqueueOrder() {
      PipelineRuntime rt =
          runtime(s -> s.boundary(Boundary.DEFAULT.withLeaseMs(1_000)).retry(NO_BACKOFF));
      enqueue(rt, batch("a", 1, 1), 0);
      enqueue(rt, batch("b", 1, 2), 0);
      enqueue(rt, batch("c", 1, 3), 0);
      enqueue(rt, batch("d", 1, 4), 0);
      rt.startAvailable(0); // all four: deadline 1000
      rt.extendLease("c", 1, 200); // c: 1200
      rt.extendLease("a", 1, 300); // a: 1300
      // deadlines: b 1000, d 1000, c 1200, a 1300

      StartResult r = rt.startAvailable(5_000);

      assertThat(r.expired())
          .extracting(o -> ((ProcessOutcome.RetryScheduled) o).record().batchKey())
          .containsExactly("b", "d", "c", "a");
      assertThat(r.expired())
          .allSatisfy(
              o ->
                  assertThat(((ProcessOutcome.RetryScheduled) o).record().reason())
                      .isEqualTo("lease expired"));
      // with no backoff they are ready again at 5000, ties by enqueue order
      assertThat(keys(r.started())).containsExactly("a", "b", "c", "d");
      assertThat(r.started()).allSatisfy(s -> assertThat(s.attempt()).isEqualTo(2));
      assertThat(rt.queries().retries()).isEmpty();
    }

    @Test
    void start_leaseExpiry_usesUpAnAttemptAndDeadLettersTheLast() {
      PipelineRuntime rt =
          runtime(
              s ->
                  s.boundary(Boundary.DEFAULT.withLeaseMs(100))
                      .retry(new RetryPolicy(2, 0, 0, 1.0)));
      enqueue(rt, batch("k1", 1, 1), 0);
      rt.startAvailable(0);

      StartResult first = rt.startAvailable(100);
      assertThat(first.expired())
          .containsExactly(
              new ProcessOutcome.RetryScheduled(new RetryRecord("k1", 2, "lease expired", 100)));
      assertThat(keys(first.started())).containsExactly("k1");
      assertThat(first.started().get(0).attempt()).isEqualTo(2);

      StartResult second = rt.startAvailable(200);
      assertThat(second.expired())
          .containsExactly(
              new ProcessOutcome.DeadLettered(
                  new DeadLetterRecord("k1", "orders.extract.dlq", "lease expired", 200)));
      assertThat(second.started()).isEmpty();
      assertThat(stateOf(rt, "k1")).isEqualTo(BatchState.DEAD_LETTERED);
    }

    @Test
    void start_whilePaused_stillExpiresLeases() {
      PipelineRuntime rt = runtimeWithBoundary(b -> b.withLeaseMs(100));
      enqueue(rt, batch("k1", 1, 1), 0);
      rt.startAvailable(0);
      rt.applyAction(new OperatorAction.Pause(), 0);

      StartResult r = rt.startAvailable(10_000);

      assertThat(r.expired()).hasSize(1);
      assertThat(r.started()).isEmpty();
      assertThat(stateOf(rt, "k1")).isEqualTo(BatchState.RETRY_WAIT);
    }

    @Test
    void start_withStageFilter_stillExpiresLeasesOfOtherStages() {
      PipelineRuntime rt = runtimeWithBoundary(b -> b.withLeaseMs(100));
      enqueue(rt, batch("k1", EXTRACT, 1, 1), 0);
      rt.startAvailable(0);

      StartResult r = rt.startAvailable(100, 0, stages(LOAD));

      assertThat(r.expired()).hasSize(1);
      assertThat(stateOf(rt, "k1")).isEqualTo(BatchState.RETRY_WAIT);
    }

    @Test
    void start_afterExtendedLease_expiresAtTheNewDeadline() {
      PipelineRuntime rt = runtimeWithBoundary(b -> b.withLeaseMs(1_000));
      enqueue(rt, batch("k1", 1, 1), 0);
      rt.startAvailable(0);
      assertThat(rt.extendLease("k1", 1, 900)).isEqualTo(1_900);

      assertThat(rt.startAvailable(1_899).expired()).isEmpty();
      assertThat(rt.startAvailable(1_900).expired()).hasSize(1);
    }
  }

  // ---- step 2: PAUSED ------------------------------------------------------------------------

  @Test
  void start_whilePaused_startsNothingUntilResumed() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("k1", 1, 1), 0);
    rt.applyAction(new OperatorAction.Pause(), 0);

    assertThat(rt.startAvailable(10).started()).isEmpty();
    assertThat(stateOf(rt, "k1")).isEqualTo(BatchState.QUEUED);

    rt.applyAction(new OperatorAction.Resume(), 20);
    assertThat(keys(rt.startAvailable(30).started())).containsExactly("k1");
  }

  @Test
  void start_whileDraining_keepsStarting() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("k1", 1, 1), 0);
    rt.applyAction(new OperatorAction.Drain(), 0);
    assertThat(keys(rt.startAvailable(0).started())).containsExactly("k1");
  }

  // ---- steps 3-4: candidates and their order -------------------------------------------------

  @Test
  void start_ordersCandidatesByReadyTimeWithTiesInEnqueueOrder() {
    PipelineRuntime rt = runtime(); // default backoff after attempt 1: 1000
    enqueue(rt, batch("r", EXTRACT, 1, 1), 0);
    rt.startAvailable(0);
    rt.failBatch("r", 1, "boom", false, 0); // ready again at 1000
    enqueue(rt, batch("late", TRANSFORM, 1, 1), 500); // ready at 500
    enqueue(rt, batch("tie", LOAD, 1, 1), 1_000); // ready at 1000, enqueued after r
    enqueue(rt, batch("last", EXTRACT, 1, 2), 1_500); // ready at 1500

    StartResult result = rt.startAvailable(2_000);

    assertThat(keys(result.started())).containsExactly("late", "r", "tie", "last");
    assertThat(result.started().get(1).attempt()).isEqualTo(2);
  }

  @Test
  void start_ordersByReadyTimeNotEnqueueOrderWithinAnUnorderedStage() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("first", 1, 1), 0);
    rt.startAvailable(0);
    rt.failBatch("first", 1, "boom", false, 0); // ready at 1000
    enqueue(rt, batch("second", 1, 2), 10); // ready at 10

    assertThat(keys(rt.startAvailable(1_000).started())).containsExactly("second", "first");
  }

  @Test
  void start_retryWaitBeforeItsRetryTime_isNotACandidate() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("r", 1, 1), 0);
    rt.startAvailable(0);
    rt.failBatch("r", 1, "boom", false, 0); // retry at 1000

    assertThat(rt.startAvailable(999).started()).isEmpty();
    assertThat(stateOf(rt, "r")).isEqualTo(BatchState.RETRY_WAIT);
    StartResult r = rt.startAvailable(1_000);
    assertThat(keys(r.started())).containsExactly("r");
    assertThat(rt.queries().retries()).isEmpty();
    assertThat(rt.queries().retryWaitCount()).isZero();
  }

  @Test
  void start_skipsAPausedStageAndStartsTheOthers() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("e", EXTRACT, 1, 1), 0);
    enqueue(rt, batch("t", TRANSFORM, 1, 1), 0);
    rt.applyAction(new OperatorAction.PauseStage(EXTRACT), 0);

    assertThat(keys(rt.startAvailable(0).started())).containsExactly("t");
    assertThat(stateOf(rt, "e")).isEqualTo(BatchState.QUEUED);

    rt.applyAction(new OperatorAction.ResumeStage(EXTRACT), 0);
    assertThat(keys(rt.startAvailable(0).started())).containsExactly("e");
  }

  @Test
  void start_skipsAStageWithADisabledConnector() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("e", EXTRACT, 1, 1), 0);
    enqueue(rt, batch("l", LOAD, 1, 1), 0);
    rt.applyAction(new OperatorAction.DisableConnector("load-out"), 0);

    assertThat(keys(rt.startAvailable(0).started())).containsExactly("e");
    assertThat(stateOf(rt, "l")).isEqualTo(BatchState.QUEUED);

    rt.applyAction(new OperatorAction.EnableConnector("load-out"), 0);
    assertThat(keys(rt.startAvailable(0).started())).containsExactly("l");
  }

  @Test
  void start_withStageFilter_startsOnlyThoseStages() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("e", EXTRACT, 1, 1), 0);
    enqueue(rt, batch("t", TRANSFORM, 1, 1), 0);
    enqueue(rt, batch("l", LOAD, 1, 1), 0);

    assertThat(keys(rt.startAvailable(0, 0, stages(LOAD, EXTRACT)).started()))
        .containsExactly("e", "l");
    assertThat(stateOf(rt, "t")).isEqualTo(BatchState.QUEUED);
  }

  @Test
  void start_withEmptyStageFilter_startsEveryStage() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("e", EXTRACT, 1, 1), 0);
    enqueue(rt, batch("l", LOAD, 1, 1), 0);
    assertThat(keys(rt.startAvailable(0, 0, Set.of()).started())).containsExactly("e", "l");
  }

  @Test
  void start_withUnknownStageInFilter_isUnknownStageAndChangesNothing() {
    // SPEC is silent; the core's documented choice is to refuse rather than start nothing.
    PipelineRuntime rt = runtimeWithBoundary(b -> b.withLeaseMs(10));
    enqueue(rt, batch("e", EXTRACT, 1, 1), 0);
    rt.startAvailable(0);
    enqueue(rt, batch("f", EXTRACT, 1, 2), 0);

    assertRefused(rt, Reason.UNKNOWN_STAGE, () -> rt.startAvailable(100, 0, stages("nowhere")));
    assertThat(stateOf(rt, "e")).isEqualTo(BatchState.IN_FLIGHT); // lease not expired either
  }

  @Test
  void start_withMaxBatches_startsAtMostThatMany() {
    PipelineRuntime rt = runtime();
    for (int i = 1; i <= 5; i++) {
      enqueue(rt, batch("k" + i, 1, i), 0);
    }

    assertThat(keys(rt.startAvailable(0, 2, Set.of()).started())).containsExactly("k1", "k2");
    assertThat(keys(rt.startAvailable(0, 1, Set.of()).started())).containsExactly("k3");
    assertThat(keys(rt.startAvailable(0, 0, Set.of()).started())).containsExactly("k4", "k5");
  }

  @Test
  void start_stopsAtTheInFlightLimit() {
    PipelineRuntime rt = runtimeWithBoundary(b -> b.withMaxInFlight(2));
    for (int i = 1; i <= 3; i++) {
      enqueue(rt, batch("k" + i, 1, i), 0);
    }

    assertThat(keys(rt.startAvailable(0).started())).containsExactly("k1", "k2");
    assertThat(rt.startAvailable(0).started()).isEmpty();
    rt.ackBatch("k1", 1, 0);
    assertThat(keys(rt.startAvailable(0).started())).containsExactly("k3");
  }

  @Test
  void start_afterSetMaxInFlightBelowCurrent_startsNothingUntilInFlightDropsUnderIt() {
    PipelineRuntime rt = runtimeWithBoundary(b -> b.withMaxInFlight(3));
    for (int i = 1; i <= 4; i++) {
      enqueue(rt, batch("k" + i, 1, i), 0);
    }
    assertThat(keys(rt.startAvailable(0).started())).containsExactly("k1", "k2", "k3");

    rt.applyAction(setMaxInFlight(1), 0);
    assertThat(rt.queries().effectiveMaxInFlight()).isEqualTo(1);
    assertThat(rt.queries().inFlightCount()).isEqualTo(3);
    assertThat(rt.queries().valid()).isTrue();

    rt.ackBatch("k1", 0, 0);
    assertThat(rt.startAvailable(0).started()).isEmpty(); // 2 in flight
    rt.ackBatch("k2", 0, 0);
    assertThat(rt.startAvailable(0).started()).isEmpty(); // 1 in flight: not under 1
    rt.ackBatch("k3", 0, 0);
    assertThat(keys(rt.startAvailable(0).started())).containsExactly("k4");
  }

  @Test
  void start_stopsAtTheFirstBatchThatWouldExceedTheRecordsBudgetWithoutOvertaking() {
    PipelineRuntime rt = runtimeWithBoundary(b -> b.withMaxInFlightRecords(10));
    enqueue(rt, batch("six", 6, 1), 0);
    enqueue(rt, batch("five", 5, 2), 0);
    enqueue(rt, batch("one", 1, 3), 0);

    // 6 + 5 > 10: stop; "one" would fit but must not overtake "five"
    assertThat(keys(rt.startAvailable(0).started())).containsExactly("six");
    assertThat(rt.startAvailable(0).started()).isEmpty();

    rt.ackBatch("six", 0, 0);
    assertThat(keys(rt.startAvailable(0).started())).containsExactly("five", "one");
  }

  @Test
  void start_recordsBudget_noOvertakingAcrossStagesEither() {
    PipelineRuntime rt = runtimeWithBoundary(b -> b.withMaxInFlightRecords(10));
    enqueue(rt, batch("six", EXTRACT, 6, 1), 0);
    enqueue(rt, batch("five", TRANSFORM, 5, 1), 1);
    enqueue(rt, batch("one", LOAD, 1, 1), 2);

    assertThat(keys(rt.startAvailable(2).started())).containsExactly("six");
    assertThat(Fixtures.stateOf(rt, "one")).isEqualTo(BatchState.QUEUED);
  }

  @Test
  void start_recordsBudget_nearTwoToThe62_doesNotOverflowPastTheBudget() {
    long quarter = 1L << 62;
    PipelineRuntime rt = runtimeWithBoundary(b -> b.withMaxInFlightRecords(quarter + 10));
    enqueue(rt, batch("first", quarter, 1), 0);
    enqueue(rt, batch("second", quarter, 2), 0);
    // quarter + quarter = 2^63 wraps negative: it must still count as over the budget
    assertThat(keys(rt.startAvailable(0).started())).containsExactly("first");
    assertThat(Fixtures.stateOf(rt, "second")).isEqualTo(BatchState.QUEUED);
    assertThat(rt.queries().valid()).isTrue();
  }

  @Test
  void start_withoutABudget_stopsBeforeTheInFlightRecordsCountWouldWrap() {
    long half = Long.MAX_VALUE / 2 + 1;
    PipelineRuntime rt = runtimeWithBoundary(b -> b);
    enqueue(rt, batch("first", half, 1), 0);
    enqueue(rt, batch("second", half, 2), 0);
    assertThat(keys(rt.startAvailable(0).started())).containsExactly("first");
    assertThat(rt.queries().valid()).isTrue();
    rt.ackBatch("first", 0, 0);
    assertThat(keys(rt.startAvailable(0).started())).containsExactly("second");
  }

  @Test
  void start_recordsBudget_exactlyFullIsAllowed() {
    PipelineRuntime rt = runtimeWithBoundary(b -> b.withMaxInFlightRecords(10));
    enqueue(rt, batch("six", 6, 1), 0);
    enqueue(rt, batch("four", 4, 2), 0);
    assertThat(keys(rt.startAvailable(0).started())).containsExactly("six", "four");
  }

  @Test
  void start_recordsBudget_aSkippedBatchOfAPausedStageDoesNotStopTheWalk() {
    // SPEC is not explicit; the core applies the budget stop only to batches it would start.
    PipelineRuntime rt = runtimeWithBoundary(b -> b.withMaxInFlightRecords(10));
    enqueue(rt, batch("running", EXTRACT, 5, 1), 0);
    rt.startAvailable(0);
    enqueue(rt, batch("blocked", TRANSFORM, 10, 1), 1); // first in ready order, would not fit
    rt.applyAction(new OperatorAction.PauseStage(TRANSFORM), 1);
    enqueue(rt, batch("small", EXTRACT, 1, 2), 2);

    assertThat(keys(rt.startAvailable(2).started())).containsExactly("small");
  }

  // ---- ordered stages ------------------------------------------------------------------------

  @Nested
  class OrderedStages {
    private PipelineRuntime orderedRuntime() {
      return runtime(
          s ->
              s.connectors(
                  source(EXTRACT).withOrdered(true),
                  source(TRANSFORM),
                  source(LOAD),
                  sink(LOAD)));
    }

    @Test
    void start_orderedStage_startsOneAtATimeInEnqueueOrder() {
      PipelineRuntime rt = orderedRuntime();
      enqueue(rt, batch("a", EXTRACT, 1, 1), 0);
      enqueue(rt, batch("b", EXTRACT, 1, 2), 0);
      enqueue(rt, batch("t", TRANSFORM, 1, 1), 0);
      enqueue(rt, batch("u", TRANSFORM, 1, 2), 0);

      assertThat(keys(rt.startAvailable(0).started())).containsExactly("a", "t", "u");
      assertThat(rt.startAvailable(10).started()).isEmpty();
      rt.ackBatch("a", 1, 20);
      assertThat(keys(rt.startAvailable(20).started())).containsExactly("b");
    }

    @Test
    void start_orderedStage_isOrderedWhenItsSinkIsOrdered() {
      PipelineRuntime rt =
          runtime(s -> s.connectors(source(LOAD), sink(LOAD).withOrdered(true)));
      enqueue(rt, batch("a", LOAD, 1, 1), 0);
      enqueue(rt, batch("b", LOAD, 1, 2), 0);
      assertThat(keys(rt.startAvailable(0).started())).containsExactly("a");
    }

    @Test
    void start_orderedStage_aRetryWaitBatchBlocksTheLaterOnes() {
      PipelineRuntime rt = orderedRuntime();
      enqueue(rt, batch("a", EXTRACT, 1, 1), 0);
      enqueue(rt, batch("b", EXTRACT, 1, 2), 0);
      rt.startAvailable(0);
      rt.failBatch("a", 1, "boom", false, 0); // retry at 1000

      assertThat(rt.startAvailable(500).started()).isEmpty();
      assertThat(stateOf(rt, "b")).isEqualTo(BatchState.QUEUED);

      StartResult r = rt.startAvailable(1_000);
      assertThat(keys(r.started())).containsExactly("a");
      assertThat(r.started().get(0).attempt()).isEqualTo(2);
    }

    @Test
    void start_orderedStage_aDeadLetterNoLongerBlocks() {
      PipelineRuntime rt = orderedRuntime();
      enqueue(rt, batch("a", EXTRACT, 1, 1), 0);
      enqueue(rt, batch("b", EXTRACT, 1, 2), 0);
      rt.startAvailable(0);
      rt.failBatch("a", 1, "bad", true, 0);

      assertThat(keys(rt.startAvailable(0).started())).containsExactly("b");
    }

    @Test
    void start_orderedStage_redrivenBatchTakesItsOldPositionButComesAfterEarlierReadyBatches() {
      PipelineRuntime rt = orderedRuntime();
      enqueue(rt, batch("a1", EXTRACT, 1, 1), 0);
      rt.startAvailable(0);
      enqueue(rt, batch("a2", EXTRACT, 1, 2), 5); // ready at 5, but after a1 in enqueue order
      rt.failBatch("a1", 1, "bad", true, 10);
      enqueue(rt, batch("t1", TRANSFORM, 1, 1), 20); // ready at 20
      rt.applyAction(new OperatorAction.RedriveDeadLetter("a1"), 30); // ready at 30
      assertThat(rt.queries().batch("a1"))
          .isEqualTo(new BatchView(batch("a1", EXTRACT, 1, 1), BatchState.QUEUED, 0, 30, 0));

      // ready order: a2 (5), t1 (20), a1 (30); a2 waits behind a1 on the ordered stage
      assertThat(keys(rt.startAvailable(40, 1, Set.of()).started())).containsExactly("t1");
      StartResult r = rt.startAvailable(40);
      assertThat(keys(r.started())).containsExactly("a1");
      assertThat(r.started().get(0).attempt()).isEqualTo(1);
      assertThat(stateOf(rt, "a2")).isEqualTo(BatchState.QUEUED);

      rt.ackBatch("a1", 1, 50);
      assertThat(keys(rt.startAvailable(50).started())).containsExactly("a2");
    }

    @Test
    void start_orderedStage_globalOrderPutsTheRedrivenBatchAfterOtherStagesEarlierBatches() {
      PipelineRuntime rt = orderedRuntime();
      enqueue(rt, batch("a1", EXTRACT, 1, 1), 0);
      rt.startAvailable(0);
      enqueue(rt, batch("a2", EXTRACT, 1, 2), 5);
      rt.failBatch("a1", 1, "bad", true, 10);
      enqueue(rt, batch("t1", TRANSFORM, 1, 1), 20);
      rt.applyAction(new OperatorAction.RedriveDeadLetter("a1"), 30);

      assertThat(keys(rt.startAvailable(40).started())).containsExactly("t1", "a1");
    }

    @Test
    void start_orderedStage_aCancelledHeadUnblocksTheNext() {
      PipelineRuntime rt = orderedRuntime();
      enqueue(rt, batch("a", EXTRACT, 1, 1), 0);
      enqueue(rt, batch("b", EXTRACT, 1, 2), 0);
      rt.startAvailable(0);
      rt.failBatch("a", 1, "boom", false, 0);
      rt.applyAction(new OperatorAction.CancelBatch("a"), 0);

      assertThat(keys(rt.startAvailable(0).started())).containsExactly("b");
    }

    @Test
    void start_orderedStage_neverHasMoreThanOneInFlight() {
      PipelineRuntime rt = orderedRuntime();
      for (int i = 1; i <= 5; i++) {
        enqueue(rt, batch("k" + i, EXTRACT, 1, i), 0);
      }
      for (int i = 1; i <= 5; i++) {
        StartResult r = rt.startAvailable(i);
        assertThat(keys(r.started())).containsExactly("k" + i);
        assertThat(rt.queries().inFlightCount()).isEqualTo(1);
        rt.ackBatch("k" + i, 1, i);
      }
    }
  }

  @Test
  void start_everyStartableBatch_isStartedInOneCall() {
    PipelineRuntime rt = runtime();
    for (int i = 1; i <= 50; i++) {
      enqueue(rt, batch("k" + i, List.of(EXTRACT, TRANSFORM, LOAD).get(i % 3), 1, i), i);
    }
    StartResult r = rt.startAvailable(100);
    assertThat(r.started()).hasSize(50);
    assertThat(keys(r.started())).isEqualTo(Fixtures.liveKeys(rt));
  }
}
