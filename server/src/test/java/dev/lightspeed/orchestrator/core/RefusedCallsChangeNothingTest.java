package dev.lightspeed.orchestrator.core;

import static dev.lightspeed.orchestrator.core.Fixtures.EXTRACT;
import static dev.lightspeed.orchestrator.core.Fixtures.LOAD;
import static dev.lightspeed.orchestrator.core.Fixtures.TRANSFORM;
import static dev.lightspeed.orchestrator.core.Fixtures.assertRefused;
import static dev.lightspeed.orchestrator.core.Fixtures.batch;
import static dev.lightspeed.orchestrator.core.Fixtures.enqueue;
import static dev.lightspeed.orchestrator.core.Fixtures.setMaxInFlight;
import static dev.lightspeed.orchestrator.core.Fixtures.sink;
import static dev.lightspeed.orchestrator.core.Fixtures.source;
import static dev.lightspeed.orchestrator.core.Fixtures.stateOf;
import static dev.lightspeed.orchestrator.core.Fixtures.withIdem;
import static dev.lightspeed.orchestrator.core.Fixtures.withLag;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * SPEC section 1: a refused call (any error, a FailureRejected outcome, a deduplicated enqueue)
 * changes no state at all, not even the clock or time-driven housekeeping.
 *
 * <p>Every refused call here arrives at {@link #LATE}, long after the leases are due and the dedup
 * window has passed: it must neither expire a lease nor forget an idempotency key or an ack.
 */
class RefusedCallsChangeNothingTest {
  private static final long NOW = 1_000;
  private static final long LATE = 50_000;

  /**
   * A pipeline with a batch in every state, a remembered ack and a remembered cancelled batch, an
   * active run, an audit log, and the clock at {@link #NOW}.
   */
  static PipelineRuntime busy() {
    PipelineRuntime rt =
        PipelineRuntime.create(
            Fixtures.spec()
                .stages(EXTRACT, TRANSFORM, LOAD, "orphan")
                .connectors(
                    source(EXTRACT).withMaxBatchRecords(20), source(TRANSFORM), source(LOAD), sink(LOAD))
                .boundary(new Boundary(8, 5, 100, 50, 1_000))
                .retry(new RetryPolicy(3, 100, 1_000, 2.0))
                .dedupWindowMs(2_000)
                .build());
    rt.startRun(0);
    enqueue(rt, batch("f", 1, 1), 0);
    enqueue(rt, batch("r", 1, 2), 0);
    enqueue(rt, batch("d", 1, 3), 0);
    enqueue(rt, batch("done", 1, 4), 0);
    rt.startAvailable(0);
    rt.failBatch("r", 1, "boom", false, 10);
    rt.failBatch("d", 1, "bad", true, 10);
    rt.ackBatch("done", 1, NOW);
    enqueue(rt, batch("c", LOAD, 1, 1), NOW);
    rt.applyAction(new OperatorAction.CancelBatch("c"), NOW);
    enqueue(rt, batch("q", 1, 5), NOW);
    rt.applyAction(new OperatorAction.PauseStage(TRANSFORM), NOW);
    assertThat(rt.queries().lastNowMs()).isEqualTo(NOW);
    assertThat(stateOf(rt, "q")).isEqualTo(BatchState.QUEUED);
    assertThat(stateOf(rt, "f")).isEqualTo(BatchState.IN_FLIGHT);
    assertThat(stateOf(rt, "r")).isEqualTo(BatchState.RETRY_WAIT);
    assertThat(stateOf(rt, "d")).isEqualTo(BatchState.DEAD_LETTERED);
    return rt;
  }

  private static Arguments refused(String name, Reason reason, Consumer<PipelineRuntime> call) {
    return refused(name, reason, rt -> {}, call);
  }

  private static Arguments refused(
      String name, Reason reason, Consumer<PipelineRuntime> setup, Consumer<PipelineRuntime> call) {
    return Arguments.of(name, reason, setup, call);
  }

  static Stream<Arguments> refusedCalls() {
    return Stream.of(
        refused("enqueue invalid", Reason.INVALID_BATCH, rt -> rt.enqueueBatch(batch("x", 0, 9), LATE)),
        refused(
            "enqueue conflicting idempotency key",
            Reason.IDEMPOTENCY_CONFLICT,
            rt -> rt.enqueueBatch(withIdem(batch("x", 1, 9), "idem-q"), LATE)),
        refused(
            "enqueue live key",
            Reason.BATCH_KEY_EXISTS,
            rt -> rt.enqueueBatch(withIdem(batch("q", 1, 9), "new"), LATE)),
        refused(
            "enqueue unknown stage",
            Reason.UNKNOWN_STAGE,
            rt -> rt.enqueueBatch(batch("x", "nowhere", 1, 9), LATE)),
        refused(
            "enqueue unbound stage",
            Reason.NO_CONNECTOR,
            rt -> rt.enqueueBatch(batch("x", "orphan", 1, 9), LATE)),
        refused(
            "enqueue disabled connector",
            Reason.CONNECTOR_DISABLED,
            rt -> rt.applyAction(new OperatorAction.DisableConnector("load-out"), NOW),
            rt -> rt.enqueueBatch(batch("x", LOAD, 1, 9), LATE)),
        refused(
            "enqueue too large",
            Reason.BATCH_TOO_LARGE,
            rt -> rt.enqueueBatch(batch("x", 21, 9), LATE)),
        refused(
            "enqueue while draining",
            Reason.PIPELINE_DRAINING,
            rt -> rt.applyAction(new OperatorAction.Drain(), NOW),
            rt -> rt.enqueueBatch(batch("x", 1, 9), LATE)),
        refused(
            "enqueue old sequence",
            Reason.SEQUENCE_REGRESSION,
            rt -> rt.enqueueBatch(batch("x", 1, 5), LATE)),
        refused(
            "enqueue into a full queue",
            Reason.QUEUE_FULL,
            rt -> {
              enqueue(rt, batch("q2", TRANSFORM, 1, 1), NOW);
              enqueue(rt, batch("q3", TRANSFORM, 1, 2), NOW);
              enqueue(rt, batch("q4", TRANSFORM, 1, 3), NOW);
            },
            rt -> rt.enqueueBatch(batch("x", 1, 9), LATE)),
        refused(
            "enqueue lagging",
            Reason.LAG_EXCEEDED,
            rt -> rt.enqueueBatch(withLag(batch("x", 1, 9), 101), LATE)),
        refused(
            "start unknown stage",
            Reason.UNKNOWN_STAGE,
            rt -> rt.startAvailable(LATE, 0, Set.of("nowhere"))),
        refused("ack unknown", Reason.BATCH_NOT_FOUND, rt -> rt.ackBatch("x", 0, LATE)),
        refused("ack forgotten", Reason.BATCH_NOT_FOUND, rt -> rt.ackBatch("done", 0, LATE)),
        refused("ack stale", Reason.STALE_ATTEMPT, rt -> rt.ackBatch("f", 2, LATE)),
        refused("ack not in flight", Reason.NOT_IN_FLIGHT, rt -> rt.ackBatch("r", 1, LATE)),
        refused(
            "fail without reason",
            Reason.INVALID_FAILURE,
            rt -> rt.failBatch("f", 1, "", false, LATE)),
        refused(
            "fail attempt 0",
            Reason.INVALID_FAILURE,
            rt -> rt.failBatch("f", 0, "x", false, LATE)),
        refused(
            "fail unknown", Reason.BATCH_NOT_FOUND, rt -> rt.failBatch("x", 1, "x", false, LATE)),
        refused("extend unknown", Reason.BATCH_NOT_FOUND, rt -> rt.extendLease("x", 0, LATE)),
        refused("extend stale", Reason.STALE_ATTEMPT, rt -> rt.extendLease("f", 3, LATE)),
        refused("extend not in flight", Reason.NOT_IN_FLIGHT, rt -> rt.extendLease("q", 0, LATE)),
        refused(
            "pause unknown stage",
            Reason.UNKNOWN_STAGE,
            rt -> rt.applyAction(new OperatorAction.PauseStage("nowhere"), LATE)),
        refused(
            "resume unknown stage",
            Reason.UNKNOWN_STAGE,
            rt -> rt.applyAction(new OperatorAction.ResumeStage("nowhere"), LATE)),
        refused(
            "disable unknown connector",
            Reason.CONNECTOR_NOT_FOUND,
            rt -> rt.applyAction(new OperatorAction.DisableConnector("nope"), LATE)),
        refused(
            "enable unknown connector",
            Reason.CONNECTOR_NOT_FOUND,
            rt -> rt.applyAction(new OperatorAction.EnableConnector("nope"), LATE)),
        refused(
            "set max in flight 0",
            Reason.INVALID_ACTION,
            rt -> rt.applyAction(setMaxInFlight(0), LATE)),
        refused(
            "set max in flight above boundary",
            Reason.INVALID_ACTION,
            rt -> rt.applyAction(setMaxInFlight(9), LATE)),
        refused(
            "redrive unknown",
            Reason.BATCH_NOT_FOUND,
            rt -> rt.applyAction(new OperatorAction.RedriveDeadLetter("x"), LATE)),
        refused(
            "redrive live",
            Reason.NOT_DEAD_LETTERED,
            rt -> rt.applyAction(new OperatorAction.RedriveDeadLetter("r"), LATE)),
        refused(
            "discard unknown",
            Reason.BATCH_NOT_FOUND,
            rt -> rt.applyAction(new OperatorAction.DiscardDeadLetter("x"), LATE)),
        refused(
            "discard live",
            Reason.NOT_DEAD_LETTERED,
            rt -> rt.applyAction(new OperatorAction.DiscardDeadLetter("f"), LATE)),
        refused(
            "cancel unknown",
            Reason.BATCH_NOT_FOUND,
            rt -> rt.applyAction(new OperatorAction.CancelBatch("x"), LATE)),
        refused(
            "cancel in flight",
            Reason.NOT_CANCELLABLE,
            rt -> rt.applyAction(new OperatorAction.CancelBatch("f"), LATE)),
        refused(
            "cancel dead letter",
            Reason.NOT_CANCELLABLE,
            rt -> rt.applyAction(new OperatorAction.CancelBatch("d"), LATE)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refusedCalls")
  void refusedCall_changesNeitherSignatureNorClock(
      String name, Reason reason, Consumer<PipelineRuntime> setup, Consumer<PipelineRuntime> call) {
    PipelineRuntime rt = busy();
    setup.accept(rt);

    assertRefused(rt, reason, () -> call.accept(rt)); // checks signature, clock and batches
  }

  private static void assertNothingChanged(PipelineRuntime rt, Runnable call) {
    String sig = rt.queries().signature();
    long lastNow = rt.queries().lastNowMs();
    call.run();
    assertThat(rt.queries().signature()).isEqualTo(sig);
    assertThat(rt.queries().lastNowMs()).isEqualTo(lastNow);
  }

  @Test
  void deduplicatedEnqueue_changesNeitherSignatureNorClock() {
    PipelineRuntime rt = busy();
    assertNothingChanged(rt, () -> assertThat(rt.enqueueBatch(batch("q", 1, 5), LATE)).isTrue());
    assertNothingChanged(
        rt, () -> assertThat(rt.enqueueBatch(batch("c", LOAD, 1, 1), NOW + 1_999)).isTrue());
  }

  @Test
  void failureRejected_changesNeitherSignatureNorClock() {
    PipelineRuntime rt = busy();
    assertNothingChanged(
        rt,
        () ->
            assertThat(rt.failBatch("r", 1, "late", false, LATE))
                .isInstanceOf(ProcessOutcome.FailureRejected.class));
    assertNothingChanged(
        rt,
        () ->
            assertThat(rt.failBatch("f", 2, "late", false, LATE))
                .isInstanceOf(ProcessOutcome.FailureRejected.class));
  }

  @Test
  void repeatedAck_changesNeitherSignatureNorClock() {
    PipelineRuntime rt = busy();
    assertNothingChanged(
        rt, () -> assertThat(rt.ackBatch("done", 1, NOW + 1_999).result().attempt()).isEqualTo(1));
  }

  @Test
  void startRunWhileActive_andCompleteRunWithoutRun_changeNothing() {
    PipelineRuntime rt = busy();
    assertNothingChanged(rt, () -> assertThat(rt.startRun(LATE).runId()).isEqualTo(1));
    rt.completeRun(NOW);
    assertNothingChanged(rt, () -> assertThat(rt.completeRun(LATE)).isEmpty());
  }

  @Test
  void refusedCall_atALaterTime_doesNotMoveTheClockForTheNextCall() {
    PipelineRuntime rt = busy();
    PipelineRuntime replica = busy(); // the same journal of accepted calls, without the refusals
    assertRefused(rt, Reason.BATCH_NOT_FOUND, () -> rt.ackBatch("x", 0, LATE));
    rt.failBatch("r", 1, "late", false, LATE);
    rt.enqueueBatch(batch("q", 1, 5), LATE);

    for (PipelineRuntime each : new PipelineRuntime[] {rt, replica}) {
      enqueue(each, batch("next", 1, 6), NOW + 500);
      each.startAvailable(NOW + 500, 0, Set.of(LOAD));
    }

    assertThat(rt.queries().batch("next").readyAtMs()).isEqualTo(NOW + 500);
    assertThat(rt.queries().batch("f").state()).isEqualTo(BatchState.RETRY_WAIT); // due at 1000
    assertThat(rt.queries().signature()).isEqualTo(replica.queries().signature());
    assertThat(rt.queries().lastNowMs()).isEqualTo(replica.queries().lastNowMs());
  }

  @Test
  void everyReason_hasTheStatusCodeOfSpecSection4() {
    // The table lists 23 reasons and version 2 adds INVALID_UPDATE_MASK, STAGE_IN_FLIGHT and
    // EVENTS_EXPIRED; the core produces 22 of them (not PIPELINE_NOT_FOUND, PIPELINE_EXISTS,
    // PIPELINE_NOT_EMPTY, EVENTS_EXPIRED: the server's registry and event log refuse with those).
    assertThat(Fixtures.SPEC_CATEGORY).hasSize(22);
    assertThat(Reason.values()).containsExactlyInAnyOrderElementsOf(Fixtures.SPEC_CATEGORY.keySet());
    Fixtures.SPEC_CATEGORY.forEach(
        (reason, category) -> assertThat(reason.category()).as(reason.name()).isEqualTo(category));
  }

  @Test
  void backpressureRefusals_suggestARetryDelay_othersDoNot() {
    assertThat(Rejection.of(Reason.QUEUE_FULL, "m").retryAfterMs()).isPositive();
    assertThat(Rejection.of(Reason.LAG_EXCEEDED, "m").retryAfterMs()).isPositive();
    assertThat(Rejection.of(Reason.NOT_IN_FLIGHT, "m").retryAfterMs()).isZero();
  }
}
