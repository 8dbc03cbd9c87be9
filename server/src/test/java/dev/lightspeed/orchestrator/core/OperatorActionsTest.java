package dev.lightspeed.orchestrator.core;

import static dev.lightspeed.orchestrator.core.Fixtures.EXTRACT;
import static dev.lightspeed.orchestrator.core.Fixtures.LOAD;
import static dev.lightspeed.orchestrator.core.Fixtures.TRANSFORM;
import static dev.lightspeed.orchestrator.core.Fixtures.assertRefused;
import static dev.lightspeed.orchestrator.core.Fixtures.batch;
import static dev.lightspeed.orchestrator.core.Fixtures.enqueue;
import static dev.lightspeed.orchestrator.core.Fixtures.enqueueAndStart;
import static dev.lightspeed.orchestrator.core.Fixtures.keys;
import static dev.lightspeed.orchestrator.core.Fixtures.runtime;
import static dev.lightspeed.orchestrator.core.Fixtures.runtimeWithBoundary;
import static dev.lightspeed.orchestrator.core.Fixtures.runtimeWithRetry;
import static dev.lightspeed.orchestrator.core.Fixtures.setMaxInFlight;
import static dev.lightspeed.orchestrator.core.Fixtures.startOnly;
import static dev.lightspeed.orchestrator.core.Fixtures.stateOf;
import static dev.lightspeed.orchestrator.core.Fixtures.withIdem;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** SPEC 3.7: operator actions, the derived mode, and the audit log. */
class OperatorActionsTest {

  // ---- PAUSE, RESUME, DRAIN and the mode -----------------------------------------------------

  @Nested
  class Modes {
    @Test
    void pause_setsModePausedAndIsIdempotentButAuditedEachTime() {
      PipelineRuntime rt = runtime();
      rt.applyAction(new OperatorAction.Pause(), 10);
      String sig = rt.queries().signature();

      rt.applyAction(new OperatorAction.Pause(), 20);

      assertThat(rt.queries().mode()).isEqualTo(PipelineMode.PAUSED);
      assertThat(rt.queries().auditLog())
          .extracting(AuditEntry::action, AuditEntry::atMs)
          .containsExactly(
              org.assertj.core.groups.Tuple.tuple(new OperatorAction.Pause(), 10L),
              org.assertj.core.groups.Tuple.tuple(new OperatorAction.Pause(), 20L));
      assertThat(rt.queries().signature()).isNotEqualTo(sig);
    }

    @Test
    void resume_setsModeRunning() {
      PipelineRuntime rt = runtime();
      rt.applyAction(new OperatorAction.Pause(), 0);
      rt.applyAction(new OperatorAction.Resume(), 0);
      assertThat(rt.queries().mode()).isEqualTo(PipelineMode.RUNNING);
    }

    @Test
    void resume_cancelsADrain() {
      PipelineRuntime rt = runtime();
      enqueue(rt, batch("a", 1, 1), 0);
      rt.applyAction(new OperatorAction.Drain(), 0);
      rt.applyAction(new OperatorAction.Resume(), 0);
      assertThat(rt.queries().mode()).isEqualTo(PipelineMode.RUNNING);
      enqueue(rt, batch("b", 1, 2), 0);
    }

    @Test
    void drain_withWorkLeft_isDrainingUntilNothingIsQueuedInFlightOrWaitingToRetry() {
      PipelineRuntime rt = runtime();
      enqueue(rt, batch("a", 1, 1), 0);
      enqueue(rt, batch("b", 1, 2), 0);
      rt.applyAction(new OperatorAction.Drain(), 0);
      assertThat(rt.queries().mode()).isEqualTo(PipelineMode.DRAINING);

      rt.startAvailable(0);
      assertThat(rt.queries().mode()).isEqualTo(PipelineMode.DRAINING); // in flight
      rt.ackBatch("a", 1, 0);
      rt.failBatch("b", 1, "boom", false, 0);
      assertThat(rt.queries().mode()).isEqualTo(PipelineMode.DRAINING); // waiting to retry
      startOnly(rt, "b", 1_000);
      rt.ackBatch("b", 2, 1_000);

      assertThat(rt.queries().mode()).isEqualTo(PipelineMode.DRAINED);
      assertThat(rt.queries().status().mode()).isEqualTo(PipelineMode.DRAINED);
    }

    @Test
    void drain_withNothingLeft_isDrainedAtOnce() {
      PipelineRuntime rt = runtime();
      rt.applyAction(new OperatorAction.Drain(), 0);
      assertThat(rt.queries().mode()).isEqualTo(PipelineMode.DRAINED);
    }

    @Test
    void drained_ignoresDeadLettersAndRedriveMakesItDrainingAgain() {
      PipelineRuntime rt = runtime();
      enqueueAndStart(rt, "a", 1, 0);
      rt.failBatch("a", 1, "bad", true, 0);
      rt.applyAction(new OperatorAction.Drain(), 0);
      assertThat(rt.queries().mode()).isEqualTo(PipelineMode.DRAINED);
      assertThat(rt.queries().deadLetterCount()).isEqualTo(1);

      rt.applyAction(new OperatorAction.RedriveDeadLetter("a"), 10);
      assertThat(rt.queries().mode()).isEqualTo(PipelineMode.DRAINING);

      startOnly(rt, "a", 20);
      rt.ackBatch("a", 1, 30);
      assertThat(rt.queries().mode()).isEqualTo(PipelineMode.DRAINED);
    }

    @Test
    void pause_duringADrain_replacesIt() {
      // SPEC: PAUSE sets mode PAUSED whatever the mode was.
      PipelineRuntime rt = runtime();
      enqueue(rt, batch("a", 1, 1), 0);
      rt.applyAction(new OperatorAction.Drain(), 0);
      rt.applyAction(new OperatorAction.Pause(), 0);
      assertThat(rt.queries().mode()).isEqualTo(PipelineMode.PAUSED);
      assertThat(rt.startAvailable(0).started()).isEmpty();
    }
  }

  // ---- stages and connectors -----------------------------------------------------------------

  @Test
  void pauseStage_andResumeStage_areReportedInStageCounters() {
    PipelineRuntime rt = runtime();
    rt.applyAction(new OperatorAction.PauseStage(TRANSFORM), 0);
    assertThat(rt.queries().stageCounters())
        .extracting(PipelineQueries.StageCounters::paused)
        .containsExactly(false, true, false);
    rt.applyAction(new OperatorAction.ResumeStage(TRANSFORM), 0);
    assertThat(rt.queries().stageCounters())
        .extracting(PipelineQueries.StageCounters::paused)
        .containsExactly(false, false, false);
  }

  @Test
  void pauseStage_stillAcceptsEnqueuesToThatStage() {
    PipelineRuntime rt = runtime();
    rt.applyAction(new OperatorAction.PauseStage(EXTRACT), 0);
    enqueue(rt, batch("a", 1, 1), 0);
    assertThat(rt.startAvailable(0).started()).isEmpty();
  }

  @Test
  void pauseStage_unknownStage_isUnknownStage() {
    PipelineRuntime rt = runtime();
    assertRefused(
        rt, Reason.UNKNOWN_STAGE, () -> rt.applyAction(new OperatorAction.PauseStage("x"), 0));
    assertRefused(
        rt, Reason.UNKNOWN_STAGE, () -> rt.applyAction(new OperatorAction.ResumeStage("x"), 0));
    assertThat(rt.queries().auditLog()).isEmpty();
  }

  @Test
  void disableConnector_setsItsDisabledFlagInTheSpec() {
    PipelineRuntime rt = runtime();
    rt.applyAction(new OperatorAction.DisableConnector("load-out"), 0);

    assertThat(rt.queries().spec().connectors())
        .filteredOn(c -> c.name().equals("load-out"))
        .singleElement()
        .extracting(Connector::disabled)
        .isEqualTo(true);

    rt.applyAction(new OperatorAction.EnableConnector("load-out"), 0);
    assertThat(rt.queries().spec().connectors()).noneMatch(Connector::disabled);
  }

  @Test
  void enableConnector_clearsADisabledFlagFromTheSpec() {
    PipelineRuntime rt =
        runtime(s -> s.connectors(Fixtures.source(EXTRACT).withDisabled(true)));
    assertRefused(rt, Reason.CONNECTOR_DISABLED, () -> rt.enqueueBatch(batch("a", 1, 1), 0));
    rt.applyAction(new OperatorAction.EnableConnector("extract-in"), 0);
    enqueue(rt, batch("a", 1, 1), 0);
  }

  @Test
  void disableConnector_unknownName_isConnectorNotFound() {
    PipelineRuntime rt = runtime();
    assertRefused(
        rt,
        Reason.CONNECTOR_NOT_FOUND,
        () -> rt.applyAction(new OperatorAction.DisableConnector("x"), 0));
    assertRefused(
        rt,
        Reason.CONNECTOR_NOT_FOUND,
        () -> rt.applyAction(new OperatorAction.EnableConnector("x"), 0));
  }

  // ---- SET_MAX_IN_FLIGHT ---------------------------------------------------------------------

  @Test
  void setMaxInFlight_withinOneToBoundary_setsTheEffectiveLimit() {
    PipelineRuntime rt = runtimeWithBoundary(b -> b.withMaxInFlight(4));
    rt.applyAction(setMaxInFlight(1), 0);
    assertThat(rt.queries().effectiveMaxInFlight()).isEqualTo(1);
    rt.applyAction(setMaxInFlight(4), 0);
    assertThat(rt.queries().effectiveMaxInFlight()).isEqualTo(4);
    assertThat(rt.queries().status().effectiveMaxInFlight()).isEqualTo(4);
    // the spec keeps the boundary's value
    assertThat(rt.queries().spec().boundary().maxInFlight()).isEqualTo(4);
  }

  @Test
  void setMaxInFlight_outOfRange_isInvalidAction() {
    PipelineRuntime rt = runtimeWithBoundary(b -> b.withMaxInFlight(4));
    assertRefused(rt, Reason.INVALID_ACTION, () -> rt.applyAction(setMaxInFlight(0), 0));
    assertRefused(rt, Reason.INVALID_ACTION, () -> rt.applyAction(setMaxInFlight(-1), 0));
    assertRefused(rt, Reason.INVALID_ACTION, () -> rt.applyAction(setMaxInFlight(5), 0));
    assertThat(rt.queries().effectiveMaxInFlight()).isEqualTo(4);
  }

  @Test
  void setMaxInFlight_limitsStarts() {
    PipelineRuntime rt = runtime();
    rt.applyAction(setMaxInFlight(2), 0);
    for (int i = 1; i <= 3; i++) {
      enqueue(rt, batch("k" + i, 1, i), 0);
    }
    assertThat(keys(rt.startAvailable(0).started())).containsExactly("k1", "k2");
  }

  // ---- REDRIVE, DISCARD, CANCEL --------------------------------------------------------------

  @Nested
  class DeadLetters {
    @Test
    void redrive_deadLetter_isQueuedReadyNowWithAttemptResetAndRecordRemoved() {
      PipelineRuntime rt = runtime();
      enqueueAndStart(rt, "a", 1, 0);
      rt.failBatch("a", 1, "bad", true, 10);

      rt.applyAction(new OperatorAction.RedriveDeadLetter("a"), 500);

      assertThat(rt.queries().batch("a"))
          .isEqualTo(new BatchView(batch("a", 1, 1), BatchState.QUEUED, 0, 500, 0));
      assertThat(rt.queries().deadLetters()).isEmpty();
      assertThat(rt.queries().deadLetterCount()).isZero();
      assertThat(rt.queries().queuedCount()).isEqualTo(1);
      assertThat(startOnly(rt, "a", 500).attempt()).isEqualTo(1);
    }

    @Test
    void redrive_givesTheBatchItsFullAttemptsAgain() {
      PipelineRuntime rt = runtimeWithRetry(r -> new RetryPolicy(2, 0, 0, 1.0));
      enqueueAndStart(rt, "a", 1, 0);
      rt.failBatch("a", 1, "x", false, 0);
      startOnly(rt, "a", 0);
      rt.failBatch("a", 2, "x", false, 0);
      assertThat(stateOf(rt, "a")).isEqualTo(BatchState.DEAD_LETTERED);

      rt.applyAction(new OperatorAction.RedriveDeadLetter("a"), 0);
      startOnly(rt, "a", 0);
      assertThat(rt.failBatch("a", 1, "x", false, 0))
          .isInstanceOf(ProcessOutcome.RetryScheduled.class);
    }

    @Test
    void redrive_keepsTheBatchsEnqueuePositionInTheList() {
      PipelineRuntime rt = runtime();
      enqueueAndStart(rt, "a", 1, 0);
      enqueue(rt, batch("b", 1, 2), 0);
      rt.failBatch("a", 1, "bad", true, 0);
      rt.applyAction(new OperatorAction.RedriveDeadLetter("a"), 0);
      assertThat(Fixtures.liveKeys(rt)).containsExactly("a", "b");
    }

    @Test
    void redrive_unknownKey_isBatchNotFound() {
      PipelineRuntime rt = runtime();
      assertRefused(
          rt,
          Reason.BATCH_NOT_FOUND,
          () -> rt.applyAction(new OperatorAction.RedriveDeadLetter("nope"), 0));
    }

    @Test
    void redrive_liveBatchThatIsNoDeadLetter_isNotDeadLettered() {
      PipelineRuntime rt = runtime();
      enqueue(rt, batch("q", 1, 1), 0);
      Rejection r =
          assertRefused(
              rt,
              Reason.NOT_DEAD_LETTERED,
              () -> rt.applyAction(new OperatorAction.RedriveDeadLetter("q"), 0));
      assertThat(r.getMessage()).contains("QUEUED");
      rt.startAvailable(0);
      assertRefused(
          rt,
          Reason.NOT_DEAD_LETTERED,
          () -> rt.applyAction(new OperatorAction.DiscardDeadLetter("q"), 0));
    }

    @Test
    void actions_onADoneBatchWithinTheWindow_areBatchNotFound() {
      // SPEC 3.3 lets a DONE key name its batch for ack, fail and extend_lease only; operator
      // actions act on live batches, so a DONE key is not found (as the proto documents).
      PipelineRuntime rt = runtime(s -> s.dedupWindowMs(1_000));
      enqueueAndStart(rt, "a", 1, 0);
      rt.ackBatch("a", 1, 0);
      assertRefused(
          rt,
          Reason.BATCH_NOT_FOUND,
          () -> rt.applyAction(new OperatorAction.RedriveDeadLetter("a"), 999));
      assertRefused(
          rt,
          Reason.BATCH_NOT_FOUND,
          () -> rt.applyAction(new OperatorAction.CancelBatch("a"), 999));
      assertRefused(
          rt,
          Reason.BATCH_NOT_FOUND,
          () -> rt.applyAction(new OperatorAction.DiscardDeadLetter("a"), 1_000));
    }

    @Test
    void discard_deadLetter_removesRecordAndBatchAndFreesTheKey() {
      PipelineRuntime rt = runtime();
      enqueueAndStart(rt, "a", 1, 0);
      rt.failBatch("a", 1, "bad", true, 0);

      rt.applyAction(new OperatorAction.DiscardDeadLetter("a"), 10);

      assertThat(rt.queries().batch("a")).isNull();
      assertThat(rt.queries().deadLetters()).isEmpty();
      assertThat(rt.queries().liveCount()).isZero();
      enqueue(rt, withIdem(batch("a", 1, 2), "again"), 20);
      assertThat(stateOf(rt, "a")).isEqualTo(BatchState.QUEUED);
    }

    @Test
    void discard_unknownKey_isBatchNotFound() {
      PipelineRuntime rt = runtime();
      assertRefused(
          rt,
          Reason.BATCH_NOT_FOUND,
          () -> rt.applyAction(new OperatorAction.DiscardDeadLetter("nope"), 0));
    }
  }

  @Nested
  class Cancel {
    @Test
    void cancel_queuedBatch_removesIt() {
      PipelineRuntime rt = runtime();
      enqueue(rt, batch("a", 1, 1), 0);
      rt.applyAction(new OperatorAction.CancelBatch("a"), 0);
      assertThat(rt.queries().batch("a")).isNull();
      assertThat(rt.queries().queuedCount()).isZero();
      assertThat(rt.startAvailable(0).started()).isEmpty();
    }

    @Test
    void cancel_retryWaitBatch_removesItAndItsRetryRecord() {
      PipelineRuntime rt = runtime();
      enqueueAndStart(rt, "a", 1, 0);
      rt.failBatch("a", 1, "boom", false, 0);

      rt.applyAction(new OperatorAction.CancelBatch("a"), 0);

      assertThat(rt.queries().batch("a")).isNull();
      assertThat(rt.queries().retries()).isEmpty();
      assertThat(rt.queries().retryWaitCount()).isZero();
      assertThat(rt.queries().queuedCount()).isZero();
      assertThat(rt.startAvailable(5_000).started()).isEmpty();
    }

    @Test
    void cancel_inFlightOrDeadLetteredBatch_isNotCancellable() {
      PipelineRuntime rt = runtime();
      enqueueAndStart(rt, "f", 1, 0);
      enqueueAndStart(rt, "d", 2, 0);
      rt.failBatch("d", 1, "bad", true, 0);
      Rejection r =
          assertRefused(
              rt,
              Reason.NOT_CANCELLABLE,
              () -> rt.applyAction(new OperatorAction.CancelBatch("f"), 0));
      assertThat(r.getMessage()).contains("IN_FLIGHT");
      assertRefused(
          rt,
          Reason.NOT_CANCELLABLE,
          () -> rt.applyAction(new OperatorAction.CancelBatch("d"), 0));
    }

    @Test
    void cancel_unknownKey_isBatchNotFound() {
      PipelineRuntime rt = runtime();
      assertRefused(
          rt,
          Reason.BATCH_NOT_FOUND,
          () -> rt.applyAction(new OperatorAction.CancelBatch("nope"), 0));
    }

    @Test
    void cancel_doneBatchWithinTheWindow_isBatchNotFound() {
      PipelineRuntime rt = runtime();
      enqueueAndStart(rt, "a", 1, 0);
      rt.ackBatch("a", 1, 0);
      assertRefused(
          rt,
          Reason.BATCH_NOT_FOUND,
          () -> rt.applyAction(new OperatorAction.CancelBatch("a"), 0));
    }
  }

  // ---- audit log -----------------------------------------------------------------------------

  @Test
  void auditLog_recordsEveryAppliedActionOldestFirstWithItsMessage() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("a", 1, 1), 0);
    List<OperatorAction> actions =
        List.of(
            new OperatorAction.Pause(),
            new OperatorAction.Resume(),
            new OperatorAction.PauseStage(LOAD),
            new OperatorAction.ResumeStage(LOAD),
            new OperatorAction.DisableConnector("load-out"),
            new OperatorAction.EnableConnector("load-out"),
            setMaxInFlight(3),
            new OperatorAction.CancelBatch("a"),
            new OperatorAction.Drain());
    for (int i = 0; i < actions.size(); i++) {
      String message = rt.applyAction(actions.get(i), 100 + i);
      assertThat(message).isNotBlank();
    }

    List<AuditEntry> log = rt.queries().auditLog();
    assertThat(log).extracting(AuditEntry::action).containsExactlyElementsOf(actions);
    assertThat(log).extracting(AuditEntry::atMs).containsExactly(100L, 101L, 102L, 103L, 104L, 105L, 106L, 107L, 108L);
    assertThat(log).allSatisfy(e -> assertThat(e.message()).isNotBlank());
    assertThat(log.get(6).message()).contains("3");
  }

  @Test
  void auditLog_usesTheLastNowAndSkipsRefusedActions() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("a", 1, 1), 1_000);
    rt.applyAction(new OperatorAction.Pause(), 10);
    assertRefused(
        rt, Reason.UNKNOWN_STAGE, () -> rt.applyAction(new OperatorAction.PauseStage("x"), 2_000));

    assertThat(rt.queries().auditLog())
        .containsExactly(
            new AuditEntry(
                new OperatorAction.Pause(),
                1_000,
                rt.queries().auditLog().get(0).message()));
  }

  @Test
  void auditLog_keepsTheLast1000Entries() {
    PipelineRuntime rt = runtime();
    for (int i = 0; i < 1_005; i++) {
      rt.applyAction(new OperatorAction.Pause(), i);
    }

    List<AuditEntry> log = rt.queries().auditLog();
    assertThat(log).hasSize(1_000);
    assertThat(log.get(0).atMs()).isEqualTo(5);
    assertThat(log.get(999).atMs()).isEqualTo(1_004);

    String sig = rt.queries().signature();
    rt.applyAction(new OperatorAction.Pause(), 1_004); // same time, same action: still a change
    assertThat(rt.queries().signature()).isNotEqualTo(sig);
    assertThat(rt.queries().auditLog()).hasSize(1_000);
    assertThat(rt.queries().auditLog().get(0).atMs()).isEqualTo(6);
  }
}
