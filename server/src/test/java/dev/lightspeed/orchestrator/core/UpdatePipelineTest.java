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
import static dev.lightspeed.orchestrator.core.Fixtures.setMaxInFlight;
import static dev.lightspeed.orchestrator.core.Fixtures.sink;
import static dev.lightspeed.orchestrator.core.Fixtures.source;
import static dev.lightspeed.orchestrator.core.Fixtures.spec;
import static dev.lightspeed.orchestrator.core.Fixtures.stateOf;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** SPEC 3.9 update_pipeline: every check in its order, then every effect. */
class UpdatePipelineTest {

  /** The default spec with {@code boundary} changed: the values of an update. */
  private static PipelineSpec withBoundary(Boundary b) {
    return spec().boundary(b).build();
  }

  private static PipelineSpec withRetry(RetryPolicy r) {
    return spec().retry(r).build();
  }

  @Nested
  class Check1UpdateMask {
    @Test
    void emptyMask_isInvalidUpdateMask() {
      PipelineRuntime rt = runtime();
      Rejection r =
          assertRefused(rt, Reason.INVALID_UPDATE_MASK,
              () -> rt.updatePipeline(List.of(), spec().build(), 0));
      assertThat(r.field()).isEqualTo("update_mask");
    }

    @Test
    void unknownPath_isInvalidUpdateMaskNamingThePath() {
      PipelineRuntime rt = runtime();
      Rejection r =
          assertRefused(rt, Reason.INVALID_UPDATE_MASK,
              () -> rt.updatePipeline(
                  List.of("boundary.max_queued", "boundary.max_queue"), spec().build(), 0));
      assertThat(r.field()).isEqualTo("update_mask.paths[1]");
      assertThat(r.getMessage()).contains("boundary.max_queue'");
    }

    @Test
    void name_isInvalidUpdateMask() {
      PipelineRuntime rt = runtime();
      Rejection r =
          assertRefused(rt, Reason.INVALID_UPDATE_MASK,
              () -> rt.updatePipeline(List.of("name"), spec().build(), 0));
      assertThat(r.field()).isEqualTo("update_mask.paths[0]");
    }

    @Test
    void aPrefixOfALeafThatIsNotASection_isUnknown() {
      PipelineRuntime rt = runtime();
      assertRefused(rt, Reason.INVALID_UPDATE_MASK,
          () -> rt.updatePipeline(List.of("boundary.max"), spec().build(), 0));
    }

    @Test
    void maskIsCheckedBeforeTheSpec() {
      PipelineRuntime rt = runtime();
      assertRefused(rt, Reason.INVALID_UPDATE_MASK,
          () -> rt.updatePipeline(List.of("boundary", "nope"),
              withBoundary(Boundary.DEFAULT.withMaxInFlight(0)), 0));
    }
  }

  @Nested
  class Check2ResultingSpec {
    @Test
    void invalidValue_isInvalidPipelineSpecNamingTheField() {
      PipelineRuntime rt = runtime();
      Rejection r =
          assertRefused(rt, Reason.INVALID_PIPELINE_SPEC,
              () -> rt.updatePipeline(List.of("boundary.max_in_flight"),
                  withBoundary(Boundary.DEFAULT.withMaxInFlight(0)), 0));
      assertThat(r.field()).isEqualTo("boundary.max_in_flight");
    }

    @Test
    void fieldsNotNamedInTheMask_areIgnoredEvenIfInvalid() {
      PipelineRuntime rt = runtime();
      PipelineSpec values =
          spec().stages(List.of()).boundary(Boundary.DEFAULT.withMaxQueued(5)).build();
      rt.updatePipeline(List.of("boundary.max_queued"), values, 0);
      assertThat(rt.queries().spec().boundary().maxQueued()).isEqualTo(5);
      assertThat(rt.queries().spec().stages()).containsExactly(EXTRACT, TRANSFORM, LOAD);
    }

    @Test
    void removingAStage_isInvalidPipelineSpecNamingTheStage() {
      PipelineRuntime rt = runtime(s -> s.allowUnboundStages(true).connectors(List.of()));
      Rejection r =
          assertRefused(rt, Reason.INVALID_PIPELINE_SPEC,
              () -> rt.updatePipeline(List.of("stages"),
                  spec().stages(EXTRACT, TRANSFORM).connectors(List.of()).build(), 0));
      assertThat(r.field()).isEqualTo("stages");
      assertThat(r.getMessage()).contains("'load'");
    }

    @Test
    void reorderingStages_isInvalidPipelineSpec() {
      PipelineRuntime rt = runtime();
      Rejection r =
          assertRefused(rt, Reason.INVALID_PIPELINE_SPEC,
              () -> rt.updatePipeline(List.of("stages"),
                  spec().stages(TRANSFORM, EXTRACT, LOAD).build(), 0));
      assertThat(r.getMessage()).contains("'extract'");
    }

    @Test
    void theSpecIsCheckedBeforeBatches() {
      PipelineRuntime rt = runtime();
      enqueue(rt, batch("big", 100, 0), 0);
      assertRefused(rt, Reason.INVALID_PIPELINE_SPEC,
          () -> rt.updatePipeline(List.of("boundary"),
              withBoundary(Boundary.DEFAULT.withMaxInFlightRecords(10).withMaxQueued(0)), 0));
    }
  }

  @Nested
  class Check3BatchTooLarge {
    @Test
    void aLiveBatchAboveTheNewRecordsBudget_isBatchTooLargeNamingIt() {
      PipelineRuntime rt = runtime();
      enqueue(rt, batch("small", 5, 0), 0);
      enqueue(rt, batch("big", 100, 0), 0);
      Rejection r =
          assertRefused(rt, Reason.BATCH_TOO_LARGE,
              () -> rt.updatePipeline(List.of("boundary.max_in_flight_records"),
                  withBoundary(Boundary.DEFAULT.withMaxInFlightRecords(99)), 0));
      assertThat(r.getMessage()).contains("'big'").contains("100");
    }

    @Test
    void aBudgetThatFitsEveryBatch_isAccepted() {
      PipelineRuntime rt = runtime();
      enqueue(rt, batch("big", 100, 0), 0);
      rt.updatePipeline(List.of("boundary.max_in_flight_records"),
          withBoundary(Boundary.DEFAULT.withMaxInFlightRecords(100)), 0);
      assertThat(rt.queries().spec().boundary().maxInFlightRecords()).isEqualTo(100);
    }

    @Test
    void batchesAreCheckedBeforeOrderedStages() {
      PipelineRuntime rt = runtime();
      enqueueAndStart(rt, "a", 0, 0);
      enqueueAndStart(rt, "b", 0, 0);
      enqueue(rt, batch("big", 100, 0), 0);
      PipelineSpec values =
          spec().boundary(Boundary.DEFAULT.withMaxInFlightRecords(10))
              .connectors(source(EXTRACT).withOrdered(true), source(TRANSFORM), source(LOAD),
                  sink(LOAD))
              .build();
      assertRefused(rt, Reason.BATCH_TOO_LARGE,
          () -> rt.updatePipeline(List.of("boundary", "connectors"), values, 0));
    }
  }

  @Test
  void aRecordsBudgetBelowWhatIsInFlight_keepsThePipelineValid_andStartsNothingUntilUnder() {
    PipelineRuntime rt = runtime();
    enqueueAndStart(rt, "a", 0, 0);
    rt.ackBatch("a", 1, 0);
    enqueue(rt, batch("b", 6, 0), 0);
    enqueue(rt, batch("c", 6, 0), 0);
    rt.startAvailable(0);
    enqueue(rt, batch("d", 6, 0), 0);
    rt.updatePipeline(List.of("boundary.max_in_flight_records"),
        withBoundary(Boundary.DEFAULT.withMaxInFlightRecords(10)), 1);
    assertThat(rt.queries().valid()).as(rt.queries().brokenInvariant()).isTrue();
    assertThat(rt.startAvailable(2).started()).isEmpty();
    rt.ackBatch("b", 1, 3);
    assertThat(rt.startAvailable(4).started()).as("6 + 6 > 10").isEmpty();
    rt.ackBatch("c", 1, 5);
    assertThat(keys(rt.startAvailable(6).started())).containsExactly("d");
    assertThat(rt.queries().valid()).isTrue();
  }

  @Nested
  class Check4StageInFlight {
    private final PipelineSpec orderedExtract =
        spec().connectors(source(EXTRACT).withOrdered(true), source(TRANSFORM), source(LOAD),
            sink(LOAD)).build();

    @Test
    void becomingOrderedWithTwoInFlight_isStageInFlightNamingStageAndCount() {
      PipelineRuntime rt = runtime();
      enqueueAndStart(rt, "a", 0, 0);
      enqueueAndStart(rt, "b", 0, 0);
      Rejection r =
          assertRefused(rt, Reason.STAGE_IN_FLIGHT,
              () -> rt.updatePipeline(List.of("connectors"), orderedExtract, 0));
      assertThat(r.getMessage()).contains("'extract'").contains("2 batches");
    }

    @Test
    void becomingOrderedWithOneInFlight_startsTheRestOneAtATimeInEnqueueOrder() {
      PipelineRuntime rt = runtime();
      enqueueAndStart(rt, "a", 0, 0);
      enqueue(rt, batch("b", 1, 0), 10);
      enqueue(rt, batch("c", 1, 0), 20);
      rt.updatePipeline(List.of("connectors"), orderedExtract, 30);
      assertThat(rt.queries().valid()).isTrue();
      assertThat(rt.startAvailable(40).started()).isEmpty(); // a still in flight
      rt.ackBatch("a", 1, 50);
      assertThat(keys(rt.startAvailable(60).started())).containsExactly("b");
    }
  }

  @Nested
  class Effects {
    @Test
    void nothingHeldIsDroppedOrMoved() {
      PipelineRuntime rt = runtime();
      enqueueAndStart(rt, "a", 0, 0);
      enqueue(rt, batch("b", 1, 0), 0);
      List<BatchView> before = rt.queries().batches();
      rt.updatePipeline(List.of("boundary", "retry"),
          spec().boundary(Boundary.DEFAULT.withMaxQueued(7))
              .retry(RetryPolicy.DEFAULT.withMaxAttempts(9)).build(), 5);
      assertThat(rt.queries().batches()).isEqualTo(before);
    }

    @Test
    void aNamedFieldAbsentInTheValues_takesItsDefault() {
      PipelineRuntime rt = runtimeWithBoundary(b -> b.withMaxQueued(5).withLeaseMs(7));
      rt.updatePipeline(List.of("boundary"), spec().build(), 0);
      assertThat(rt.queries().spec().boundary()).isEqualTo(Boundary.DEFAULT);
    }

    @Test
    void smallerMaxQueued_refusesLaterEnqueuesUntilBelow() {
      PipelineRuntime rt = runtime();
      enqueue(rt, batch("a", 1, 0), 0);
      enqueue(rt, batch("b", 1, 0), 0);
      rt.updatePipeline(List.of("boundary.max_queued"),
          withBoundary(Boundary.DEFAULT.withMaxQueued(1)), 0);
      assertThat(rt.queries().queuedCount()).isEqualTo(2);
      assertRefused(rt, Reason.QUEUE_FULL, () -> rt.enqueueBatch(batch("c", 1, 0), 0));
    }

    @Test
    void effectiveMaxInFlight_followsTheNewMax_whenNoLowerLimitWasSet() {
      PipelineRuntime rt = runtime();
      rt.updatePipeline(List.of("boundary.max_in_flight"),
          withBoundary(Boundary.DEFAULT.withMaxInFlight(2)), 0);
      assertThat(rt.queries().effectiveMaxInFlight()).isEqualTo(2);
      rt.updatePipeline(List.of("boundary.max_in_flight"),
          withBoundary(Boundary.DEFAULT.withMaxInFlight(100)), 0);
      assertThat(rt.queries().effectiveMaxInFlight()).isEqualTo(100);
    }

    @Test
    void effectiveMaxInFlight_keepsAnOperatorLimit_cappedByTheNewMax() {
      PipelineRuntime rt = runtime();
      rt.applyAction(setMaxInFlight(10), 0);
      rt.updatePipeline(List.of("boundary.max_in_flight"),
          withBoundary(Boundary.DEFAULT.withMaxInFlight(100)), 0);
      assertThat(rt.queries().effectiveMaxInFlight()).isEqualTo(10);
      rt.updatePipeline(List.of("boundary.max_in_flight"),
          withBoundary(Boundary.DEFAULT.withMaxInFlight(3)), 0);
      assertThat(rt.queries().effectiveMaxInFlight()).isEqualTo(3);
    }

    @Test
    void aMaxBelowTheInFlightCount_startsNothingUntilItDrops() {
      PipelineRuntime rt = runtime();
      enqueueAndStart(rt, "a", 0, 0);
      enqueueAndStart(rt, "b", 0, 0);
      enqueue(rt, batch("c", 1, 0), 0);
      rt.updatePipeline(List.of("boundary.max_in_flight"),
          withBoundary(Boundary.DEFAULT.withMaxInFlight(1)), 0);
      assertThat(rt.queries().inFlightCount()).isEqualTo(2);
      assertThat(rt.queries().valid()).as(rt.queries().brokenInvariant()).isTrue();
      assertThat(rt.startAvailable(1).started()).isEmpty();
      rt.ackBatch("a", 1, 2);
      assertThat(rt.startAvailable(3).started()).isEmpty();
      rt.ackBatch("b", 1, 4);
      assertThat(keys(rt.startAvailable(5).started())).containsExactly("c");
    }

    @Test
    void leaseMs_appliesToLaterStarts_runningLeasesKeepTheirDeadline() {
      PipelineRuntime rt = runtimeWithBoundary(b -> b.withLeaseMs(1_000));
      StartedBatch a = enqueueAndStart(rt, "a", 0, 0);
      rt.updatePipeline(List.of("boundary.lease_ms"),
          withBoundary(Boundary.DEFAULT.withLeaseMs(5_000)), 10);
      assertThat(rt.queries().batch("a").leaseDeadlineMs()).isEqualTo(a.leaseDeadlineMs());
      StartedBatch b = enqueueAndStart(rt, "b", 0, 20);
      assertThat(b.leaseDeadlineMs()).isEqualTo(5_020);
      assertThat(rt.extendLease("a", 1, 30)).isEqualTo(5_030);
    }

    @Test
    void retryPolicy_appliesToLaterFailures_aScheduledRetryKeepsItsTime() {
      PipelineRuntime rt = runtime();
      enqueueAndStart(rt, "a", 0, 0);
      ProcessOutcome first = rt.failBatch("a", 1, "boom", false, 0);
      long retryAt = ((ProcessOutcome.RetryScheduled) first).record().retryAtMs();
      rt.updatePipeline(List.of("retry.initial_backoff_ms"),
          withRetry(RetryPolicy.DEFAULT.withInitialBackoffMs(50)), 1);
      assertThat(rt.queries().retries().get(0).retryAtMs()).isEqualTo(retryAt);
      enqueueAndStart(rt, "b", 0, 10);
      ProcessOutcome second = rt.failBatch("b", 1, "boom", false, 10);
      assertThat(((ProcessOutcome.RetryScheduled) second).record().retryAtMs()).isEqualTo(60);
    }

    @Test
    void aBatchAtOrAboveTheNewMaxAttempts_isDeadLetteredAtItsNextFailure() {
      PipelineRuntime rt = runtime(s -> s.retry(RetryPolicy.DEFAULT.withInitialBackoffMs(0)));
      enqueueAndStart(rt, "a", 0, 0);
      rt.failBatch("a", 1, "boom", false, 0);
      assertThat(keys(rt.startAvailable(1).started())).containsExactly("a"); // attempt 2
      rt.updatePipeline(List.of("retry.max_attempts"),
          withRetry(RetryPolicy.DEFAULT.withInitialBackoffMs(0).withMaxAttempts(1)), 2);
      assertThat(rt.failBatch("a", 2, "boom", false, 3))
          .isInstanceOf(ProcessOutcome.DeadLettered.class);
    }

    @Test
    void shorterDedupWindow_appliesToKeysAlreadyRemembered() {
      PipelineRuntime rt = runtime();
      enqueueAndStart(rt, "a", 0, 0);
      rt.ackBatch("a", 1, 0);
      assertThat(rt.enqueueBatch(batch("a", 1, 0), 100)).isTrue(); // deduplicated
      rt.updatePipeline(List.of("dedup_window_ms"), spec().dedupWindowMs(50).build(), 100);
      assertThat(rt.enqueueBatch(batch("a", 1, 0), 100)).isFalse(); // enqueued afresh
    }

    @Test
    void connectors_areReplaced_disabledTakesTheNewValue() {
      PipelineRuntime rt = runtime();
      PipelineSpec values =
          spec().connectors(source(EXTRACT).withDisabled(true), source(TRANSFORM), source(LOAD))
              .build();
      rt.updatePipeline(List.of("connectors"), values, 0);
      assertThat(rt.queries().spec().connectors()).isEqualTo(values.connectors());
      assertRefused(rt, Reason.CONNECTOR_DISABLED, () -> rt.enqueueBatch(batch("a", 1, 0), 0));
      rt.applyAction(new OperatorAction.EnableConnector(EXTRACT + "-in"), 0);
      enqueue(rt, batch("a", 1, 0), 0);
    }

    @Test
    void anAppendedStage_takesBatches_andSurvivesASnapshot() throws IOException {
      PipelineRuntime rt = runtime();
      PipelineSpec values =
          spec().stages(EXTRACT, TRANSFORM, LOAD, "publish")
              .connectors(source(EXTRACT), source(TRANSFORM), source(LOAD), sink(LOAD),
                  source("publish"))
              .build();
      rt.updatePipeline(List.of("stages", "connectors"), values, 0);
      enqueue(rt, batch("p", "publish", 1, 3), 0);
      assertThat(keys(rt.startAvailable(1).started())).containsExactly("p");
      rt.ackBatch("p", 1, 2); // remembered, in the new stage
      assertThat(rt.queries().valid()).isTrue();
      PipelineRuntime copy = roundTrip(rt);
      assertThat(copy.queries().signature()).isEqualTo(rt.queries().signature());
      assertThat(copy.queries().spec()).isEqualTo(rt.queries().spec());
      assertThat(copy.enqueueBatch(batch("p", "publish", 1, 3), 3)).isTrue();
    }

    @Test
    void anUpdate_isAudited_withItsMask_andChangesTheSignature() {
      PipelineRuntime rt = runtime();
      String before = rt.queries().signature();
      PipelineRuntime.UpdateResult result =
          rt.updatePipeline(List.of("boundary"),
              withBoundary(Boundary.DEFAULT.withMaxQueued(50_000)), 42);
      assertThat(result.changed()).containsExactly("boundary.max_queued");
      assertThat(result.spec().boundary().maxQueued()).isEqualTo(50_000);
      assertThat(rt.queries().signature()).isNotEqualTo(before);
      AuditEntry entry = rt.queries().auditLog().get(rt.queries().auditLog().size() - 1);
      assertThat(entry.action()).isEqualTo(new OperatorAction.UpdatePipeline(List.of("boundary")));
      assertThat(entry.atMs()).isEqualTo(42);
      assertThat(entry.message()).contains("boundary.max_queued 10000 → 50000");
    }

    @Test
    void anUpdateThatChangesNothing_changesNothing() {
      PipelineRuntime rt = runtime();
      enqueue(rt, batch("a", 1, 0), 10);
      String signature = rt.queries().signature();
      long version = rt.queries().version();
      int audit = rt.queries().auditLog().size();
      PipelineRuntime.UpdateResult result =
          rt.updatePipeline(List.of("boundary", "retry", "stages", "connectors",
              "dedup_window_ms", "allow_unbound_stages"), spec().build(), 99);
      assertThat(result.changed()).isEmpty();
      assertThat(result.spec()).isEqualTo(rt.queries().spec());
      assertThat(rt.queries().signature()).isEqualTo(signature);
      assertThat(rt.queries().version()).isEqualTo(version);
      assertThat(rt.queries().auditLog()).hasSize(audit);
      assertThat(rt.queries().lastNowMs()).isEqualTo(10);
    }

    @Test
    void applyAction_refusesAnUpdatePipelineAction() {
      PipelineRuntime rt = runtime();
      assertRefused(rt, Reason.INVALID_ACTION,
          () -> rt.applyAction(new OperatorAction.UpdatePipeline(List.of("boundary")), 0));
    }

    @Test
    void theAuditedUpdate_survivesASnapshot() throws IOException {
      PipelineRuntime rt = runtime();
      rt.updatePipeline(List.of("boundary.max_queued", "retry"),
          withBoundary(Boundary.DEFAULT.withMaxQueued(3)), 0);
      PipelineRuntime copy = roundTrip(rt);
      assertThat(copy.queries().auditLog()).isEqualTo(rt.queries().auditLog());
      assertThat(stateOf(copy, "none")).isNull();
    }
  }

  private static PipelineRuntime roundTrip(PipelineRuntime rt) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      rt.writeSnapshot(out);
    }
    return PipelineRuntime.readSnapshot(
        new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
  }
}
