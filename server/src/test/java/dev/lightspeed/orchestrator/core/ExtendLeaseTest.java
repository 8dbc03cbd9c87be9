package dev.lightspeed.orchestrator.core;

import static dev.lightspeed.orchestrator.core.Fixtures.assertRefused;
import static dev.lightspeed.orchestrator.core.Fixtures.batch;
import static dev.lightspeed.orchestrator.core.Fixtures.enqueue;
import static dev.lightspeed.orchestrator.core.Fixtures.enqueueAndStart;
import static dev.lightspeed.orchestrator.core.Fixtures.runtime;
import static dev.lightspeed.orchestrator.core.Fixtures.runtimeWithBoundary;
import static dev.lightspeed.orchestrator.core.Fixtures.stateOf;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** SPEC 3.5: extend_lease (heartbeat). */
class ExtendLeaseTest {

  @Test
  void extend_inFlightBatch_movesTheDeadlineToNowPlusLeaseAndReturnsIt() {
    PipelineRuntime rt = runtimeWithBoundary(b -> b.withLeaseMs(1_000));
    enqueueAndStart(rt, "k1", 1, 0);

    assertThat(rt.extendLease("k1", 1, 600)).isEqualTo(1_600);

    assertThat(rt.queries().batch("k1").leaseDeadlineMs()).isEqualTo(1_600);
    assertThat(rt.queries().lastNowMs()).isEqualTo(600);
  }

  @Test
  void extend_withAttemptZero_isNotFenced() {
    PipelineRuntime rt = runtime();
    enqueueAndStart(rt, "k1", 1, 0);
    assertThat(rt.extendLease("k1", 0, 10)).isEqualTo(30_010);
  }

  @Test
  void extend_withEarlierNow_usesTheLastNow() {
    PipelineRuntime rt = runtime();
    enqueueAndStart(rt, "k1", 1, 5_000);
    assertThat(rt.extendLease("k1", 1, 0)).isEqualTo(35_000);
  }

  @Test
  void extend_withLeaseZero_returnsZero() {
    PipelineRuntime rt = runtimeWithBoundary(b -> b.withLeaseMs(0));
    enqueueAndStart(rt, "k1", 1, 0);

    assertThat(rt.extendLease("k1", 1, 500)).isZero();
    assertThat(rt.queries().batch("k1").leaseDeadlineMs()).isZero();
    assertThat(rt.startAvailable(Long.MAX_VALUE).expired()).isEmpty();
  }

  @Test
  void extend_afterTheDeadlineBeforeTheNextStart_isAcceptedAndKeepsTheBatch() {
    PipelineRuntime rt = runtimeWithBoundary(b -> b.withLeaseMs(1_000));
    enqueueAndStart(rt, "k1", 1, 0);

    assertThat(rt.extendLease("k1", 1, 5_000)).isEqualTo(6_000);

    assertThat(rt.startAvailable(5_999).expired()).isEmpty();
    assertThat(stateOf(rt, "k1")).isEqualTo(BatchState.IN_FLIGHT);
    assertThat(rt.startAvailable(6_000).expired()).hasSize(1);
  }

  @Test
  void extend_unknownKey_isBatchNotFound() {
    PipelineRuntime rt = runtime();
    assertRefused(rt, Reason.BATCH_NOT_FOUND, () -> rt.extendLease("nope", 0, 0));
  }

  @Test
  void extend_withOtherAttempt_isStaleAttempt() {
    PipelineRuntime rt = runtime();
    enqueueAndStart(rt, "k1", 1, 0);
    assertRefused(rt, Reason.STALE_ATTEMPT, () -> rt.extendLease("k1", 2, 0));
  }

  @Test
  void extend_queuedRetryingOrDeadLetteredBatch_isNotInFlight() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("q", 1, 1), 0);
    assertRefused(rt, Reason.NOT_IN_FLIGHT, () -> rt.extendLease("q", 0, 0));
    rt.startAvailable(0);
    rt.failBatch("q", 1, "boom", false, 0);
    assertRefused(rt, Reason.NOT_IN_FLIGHT, () -> rt.extendLease("q", 1, 0));
    enqueueAndStart(rt, "d", 2, 0);
    rt.failBatch("d", 1, "bad", true, 0);
    assertRefused(rt, Reason.NOT_IN_FLIGHT, () -> rt.extendLease("d", 1, 0));
  }

  @Test
  void extend_checksRunInSpecOrder_staleAttemptBeforeNotInFlight() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("q", 1, 1), 0);
    assertRefused(rt, Reason.STALE_ATTEMPT, () -> rt.extendLease("q", 1, 0));
  }

  @Test
  void extend_doneBatchWithinTheWindow_isNotInFlightOrStale() {
    // SPEC: a key names its DONE batch within the window for extend_lease too.
    PipelineRuntime rt = runtime(s -> s.dedupWindowMs(1_000));
    enqueueAndStart(rt, "k1", 1, 0);
    rt.ackBatch("k1", 1, 0);

    assertRefused(rt, Reason.NOT_IN_FLIGHT, () -> rt.extendLease("k1", 0, 999));
    assertRefused(rt, Reason.STALE_ATTEMPT, () -> rt.extendLease("k1", 2, 999));
    assertRefused(rt, Reason.BATCH_NOT_FOUND, () -> rt.extendLease("k1", 0, 1_000));
  }

  @Test
  void extend_changesTheExpiryOrder() {
    PipelineRuntime rt = runtimeWithBoundary(b -> b.withLeaseMs(1_000));
    enqueue(rt, batch("a", 1, 1), 0);
    enqueue(rt, batch("b", 1, 2), 0);
    rt.startAvailable(0);
    rt.extendLease("a", 1, 500); // a: 1500, b: 1000

    StartResult r = rt.startAvailable(1_200);

    assertThat(r.expired())
        .containsExactly(
            new ProcessOutcome.RetryScheduled(new RetryRecord("b", 2, "lease expired", 2_200)));
    assertThat(stateOf(rt, "a")).isEqualTo(BatchState.IN_FLIGHT);
  }
}
