package dev.lightspeed.orchestrator.core;

import static dev.lightspeed.orchestrator.core.Fixtures.EXTRACT;
import static dev.lightspeed.orchestrator.core.Fixtures.LOAD;
import static dev.lightspeed.orchestrator.core.Fixtures.TRANSFORM;
import static dev.lightspeed.orchestrator.core.Fixtures.batch;
import static dev.lightspeed.orchestrator.core.Fixtures.enqueue;
import static dev.lightspeed.orchestrator.core.Fixtures.enqueueAndStart;
import static dev.lightspeed.orchestrator.core.Fixtures.runtime;
import static dev.lightspeed.orchestrator.core.Fixtures.runtimeWithBoundary;
import static dev.lightspeed.orchestrator.core.Fixtures.setMaxInFlight;
import static dev.lightspeed.orchestrator.core.Fixtures.source;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** SPEC 3.8: lists and their order, paging, counts, signature and valid(). */
class QueriesTest {

  // ---- next wake-up (the Work streams' timer) ------------------------------------------------

  @Nested
  class NextWakeAt {
    @Test
    void isMinusOne_whenNoTimeIsPending() {
      PipelineRuntime rt = runtime();
      assertThat(rt.queries().nextWakeAtMs(0)).isEqualTo(-1);
      enqueue(rt, batch("a", 1, 1), 0);
      assertThat(rt.queries().nextWakeAtMs(0)).as("a queued batch is ready now").isEqualTo(-1);
    }

    @Test
    void isTheEarliestLeaseDeadline_orRetryTime_afterNow() {
      PipelineRuntime rt = Fixtures.runtimeWithRetry(r -> new RetryPolicy(3, 100, 100, 1.0));
      enqueue(rt, batch("a", 1, 1), 0);
      enqueue(rt, batch("b", 1, 2), 0);
      rt.startAvailable(0);
      long lease = rt.queries().batch("a").leaseDeadlineMs();
      assertThat(lease).isPositive();
      assertThat(rt.queries().nextWakeAtMs(0)).isEqualTo(lease);
      rt.failBatch("a", 1, "boom", false, 10); // retry at 110, before b's lease deadline
      assertThat(rt.queries().nextWakeAtMs(10)).isEqualTo(110);
      assertThat(rt.queries().nextWakeAtMs(110)).as("due is not a future time").isEqualTo(lease);
      assertThat(rt.queries().nextWakeAtMs(lease)).as("an expired lease neither").isEqualTo(-1);
    }

    @Test
    void inFlightUnexpired_fencesByAttemptAndDeadline() {
      PipelineRuntime rt = runtime();
      enqueue(rt, batch("a", 1, 1), 0);
      rt.startAvailable(0);
      long lease = rt.queries().batch("a").leaseDeadlineMs();
      assertThat(rt.queries().inFlightUnexpired("a", 1, lease - 1)).isTrue();
      assertThat(rt.queries().inFlightUnexpired("a", 2, lease - 1)).isFalse();
      assertThat(rt.queries().inFlightUnexpired("a", 1, lease)).isFalse();
      assertThat(rt.queries().inFlightUnexpired("nope", 1, 0)).isFalse();
    }
  }

  // ---- oldest ready batch (for monitoring) ---------------------------------------------------

  @Nested
  class OldestReadyAt {
    @Test
    void isMinusOne_whenNothingWaits() {
      PipelineRuntime rt = runtime();
      assertThat(rt.queries().oldestReadyAtMs(100)).isEqualTo(-1);
      enqueue(rt, batch("a", 1, 1), 10);
      rt.startAvailable(10);
      assertThat(rt.queries().oldestReadyAtMs(100)).as("in flight is not waiting").isEqualTo(-1);
    }

    @Test
    void isTheEarliestReadyTime_overStages() {
      PipelineRuntime rt = runtime();
      enqueue(rt, batch("t", TRANSFORM, 1, 1), 20);
      enqueue(rt, batch("e1", 1, 1), 30);
      enqueue(rt, batch("e2", 1, 2), 40);
      assertThat(rt.queries().oldestReadyAtMs(50)).isEqualTo(20);
      rt.startAvailable(50, 1, java.util.Set.of(TRANSFORM));
      assertThat(rt.queries().oldestReadyAtMs(50)).isEqualTo(30);
      assertThat(rt.queries().oldestReadyAtMs(25)).as("not ready yet at 25").isEqualTo(-1);
    }

    @Test
    void countsARetry_onlyOnceItIsDue_andNeverADeadLetter() {
      PipelineRuntime rt = Fixtures.runtimeWithRetry(r -> new RetryPolicy(2, 100, 100, 1.0));
      enqueue(rt, batch("a", 1, 1), 0);
      rt.startAvailable(0);
      rt.failBatch("a", 1, "boom", false, 10); // retry at 110
      assertThat(rt.queries().oldestReadyAtMs(109)).isEqualTo(-1);
      assertThat(rt.queries().oldestReadyAtMs(110)).isEqualTo(110);
      rt.startAvailable(110);
      rt.failBatch("a", 2, "boom", false, 120); // dead-lettered
      assertThat(rt.queries().oldestReadyAtMs(1_000)).isEqualTo(-1);
    }

    @Test
    void inAnOrderedStage_isTheBatchNextInLine() {
      PipelineRuntime rt =
          runtime(s -> s.stages(EXTRACT).connectors(source(EXTRACT).withOrdered(true))
              .retry(new RetryPolicy(2, 100, 100, 1.0)));
      enqueue(rt, batch("a", 1, 1), 0);
      enqueue(rt, batch("b", 1, 2), 5);
      rt.startAvailable(10);
      assertThat(rt.queries().oldestReadyAtMs(10)).isEqualTo(5);
      rt.failBatch("a", 1, "boom", false, 10); // a waits until 110 and blocks b
      assertThat(rt.queries().oldestReadyAtMs(50)).isEqualTo(-1);
      assertThat(rt.queries().oldestReadyAtMs(110)).isEqualTo(110);
    }
  }

  // ---- lists and their order -----------------------------------------------------------------

  @Test
  void batches_areLiveBatchesInEnqueueOrderWithStateAndAttempt() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("d", 1, 1), 0);
    enqueue(rt, batch("f", 1, 2), 0);
    enqueue(rt, batch("r", 1, 3), 0);
    rt.startAvailable(0);
    rt.failBatch("d", 1, "bad", true, 0);
    rt.failBatch("r", 1, "boom", false, 0);
    enqueue(rt, batch("q", 1, 4), 10);
    enqueue(rt, batch("gone", LOAD, 1, 1), 20);
    rt.startAvailable(20, 0, java.util.Set.of(LOAD));
    rt.ackBatch("gone", 1, 20);

    assertThat(rt.queries().batches())
        .extracting(v -> v.batch().key(), BatchView::state, BatchView::attempt)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("d", BatchState.DEAD_LETTERED, 1),
            org.assertj.core.groups.Tuple.tuple("f", BatchState.IN_FLIGHT, 1),
            org.assertj.core.groups.Tuple.tuple("r", BatchState.RETRY_WAIT, 1),
            org.assertj.core.groups.Tuple.tuple("q", BatchState.QUEUED, 0));
    assertThat(rt.queries().liveCount()).isEqualTo(4);
  }

  @Test
  void batches_filteredByState_keepEnqueueOrder() {
    PipelineRuntime rt = runtime();
    for (int i = 1; i <= 6; i++) {
      enqueue(rt, batch("k" + i, 1, i), 0);
    }
    rt.startAvailable(0, 3, java.util.Set.of());
    assertThat(rt.queries().batches(Page.START, 100, BatchState.IN_FLIGHT).items())
        .extracting(v -> v.batch().key())
        .containsExactly("k1", "k2", "k3");
    assertThat(rt.queries().batches(Page.START, 100, BatchState.QUEUED).items())
        .extracting(v -> v.batch().key())
        .containsExactly("k4", "k5", "k6");
    assertThat(rt.queries().batches(Page.START, 100, BatchState.DEAD_LETTERED).items()).isEmpty();
  }

  @Test
  void retries_areRecordsOfBatchesNowInRetryWaitInEmitOrder() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("a", 1, 1), 0);
    enqueue(rt, batch("b", 1, 2), 0);
    enqueue(rt, batch("c", 1, 3), 0);
    rt.startAvailable(0);
    rt.failBatch("c", 1, "c1", false, 10);
    rt.failBatch("a", 1, "a1", false, 20);
    rt.failBatch("b", 1, "b1", false, 30);

    assertThat(rt.queries().retries())
        .containsExactly(
            new RetryRecord("c", 2, "c1", 1_010),
            new RetryRecord("a", 2, "a1", 1_020),
            new RetryRecord("b", 2, "b1", 1_030));

    rt.startAvailable(1_020); // c and a start again: their records are gone
    assertThat(rt.queries().retries()).containsExactly(new RetryRecord("b", 2, "b1", 1_030));
    rt.failBatch("c", 2, "c2", false, 1_100); // a new record, emitted last
    assertThat(rt.queries().retries())
        .extracting(RetryRecord::batchKey)
        .containsExactly("b", "c");
  }

  @Test
  void counts_matchTheStates() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("d", 1, 1), 0);
    enqueue(rt, batch("f", 1, 2), 0);
    enqueue(rt, batch("r", 1, 3), 0);
    rt.startAvailable(0);
    rt.failBatch("d", 1, "bad", true, 0);
    rt.failBatch("r", 1, "boom", false, 0);
    enqueue(rt, batch("q", 1, 4), 0);

    PipelineStatus status = rt.queries().status();
    assertThat(status.queuedCount()).isEqualTo(2); // QUEUED + RETRY_WAIT
    assertThat(status.retryWaitCount()).isEqualTo(1);
    assertThat(status.inFlightCount()).isEqualTo(1);
    assertThat(status.deadLetterCount()).isEqualTo(1);
    assertThat(status.mode()).isEqualTo(PipelineMode.RUNNING);
    assertThat(status.effectiveMaxInFlight()).isEqualTo(64);
    assertThat(status.activeRunId()).isZero();
    assertThat(status.signature()).isEqualTo(rt.queries().signature());
    assertThat(status.valid()).isTrue();
    assertThat(status.invalidReason()).isEmpty();
  }

  // ---- paging --------------------------------------------------------------------------------

  @Nested
  class Paging {
    @Test
    void batches_pageThroughWithCursorsAndAnEmptyCursorAtTheEnd() {
      PipelineRuntime rt = runtime();
      for (int i = 1; i <= 5; i++) {
        enqueue(rt, batch("k" + i, 1, i), 0);
      }

      Page<BatchView> p1 = rt.queries().batches(Page.START, 2, null);
      assertThat(keysOf(p1)).containsExactly("k1", "k2");
      assertThat(p1.hasMore()).isTrue();
      Page<BatchView> p2 = rt.queries().batches(p1.nextCursor(), 2, null);
      assertThat(keysOf(p2)).containsExactly("k3", "k4");
      assertThat(p2.hasMore()).isTrue();
      Page<BatchView> p3 = rt.queries().batches(p2.nextCursor(), 2, null);
      assertThat(keysOf(p3)).containsExactly("k5");
      assertThat(p3.hasMore()).isFalse();
      assertThat(p3.nextCursor()).isEqualTo(Page.START);
    }

    @Test
    void batches_anExactlyFullLastPage_hasNoNextCursor() {
      PipelineRuntime rt = runtime();
      for (int i = 1; i <= 4; i++) {
        enqueue(rt, batch("k" + i, 1, i), 0);
      }
      Page<BatchView> p1 = rt.queries().batches(Page.START, 2, null);
      Page<BatchView> p2 = rt.queries().batches(p1.nextCursor(), 2, null);
      assertThat(keysOf(p2)).containsExactly("k3", "k4");
      assertThat(p2.hasMore()).isFalse();
    }

    @Test
    void batches_cursorStaysValidWhileBatchesComeAndGo() {
      PipelineRuntime rt = runtime();
      for (int i = 1; i <= 5; i++) {
        enqueue(rt, batch("k" + i, 1, i), 0);
      }
      Page<BatchView> p1 = rt.queries().batches(Page.START, 2, null);
      rt.applyAction(new OperatorAction.CancelBatch("k2"), 0); // the cursor's own batch
      rt.applyAction(new OperatorAction.CancelBatch("k3"), 0);
      enqueue(rt, batch("k6", 1, 6), 0);

      Page<BatchView> p2 = rt.queries().batches(p1.nextCursor(), 10, null);
      assertThat(keysOf(p2)).containsExactly("k4", "k5", "k6");
      assertThat(p2.hasMore()).isFalse();
    }

    @Test
    void batches_pageWithFilter_skipsOtherStates() {
      PipelineRuntime rt = runtime();
      for (int i = 1; i <= 6; i++) {
        enqueue(rt, batch("k" + i, 1, i), 0);
      }
      rt.startAvailable(0, 1, java.util.Set.of());
      rt.applyAction(new OperatorAction.CancelBatch("k3"), 0);
      // QUEUED: k2, k4, k5, k6
      Page<BatchView> p1 = rt.queries().batches(Page.START, 3, BatchState.QUEUED);
      assertThat(keysOf(p1)).containsExactly("k2", "k4", "k5");
      Page<BatchView> p2 = rt.queries().batches(p1.nextCursor(), 3, BatchState.QUEUED);
      assertThat(keysOf(p2)).containsExactly("k6");
      assertThat(p2.hasMore()).isFalse();
    }

    @Test
    void retriesAndDeadLetters_pageInEmitOrder() {
      PipelineRuntime rt = runtime();
      for (int i = 1; i <= 6; i++) {
        enqueue(rt, batch("k" + i, 1, i), 0);
      }
      rt.startAvailable(0);
      for (int i = 1; i <= 6; i++) {
        rt.failBatch("k" + i, 1, "x", i % 2 == 0, i);
      }
      Page<RetryRecord> r1 = rt.queries().retries(Page.START, 2);
      assertThat(r1.items()).extracting(RetryRecord::batchKey).containsExactly("k1", "k3");
      Page<RetryRecord> r2 = rt.queries().retries(r1.nextCursor(), 2);
      assertThat(r2.items()).extracting(RetryRecord::batchKey).containsExactly("k5");
      assertThat(r2.hasMore()).isFalse();

      Page<DeadLetterRecord> d1 = rt.queries().deadLetters(Page.START, 2);
      assertThat(d1.items()).extracting(DeadLetterRecord::batchKey).containsExactly("k2", "k4");
      Page<DeadLetterRecord> d2 = rt.queries().deadLetters(d1.nextCursor(), 2);
      assertThat(d2.items()).extracting(DeadLetterRecord::batchKey).containsExactly("k6");
      assertThat(d2.hasMore()).isFalse();
    }

    @Test
    void runs_pageNewestFirst() {
      PipelineRuntime rt = runtime();
      for (int i = 0; i < 5; i++) {
        rt.startRun(i);
        rt.completeRun(i);
      }
      Page<RunSummary> p1 = rt.queries().runs(Page.START, 2);
      assertThat(p1.items()).extracting(RunSummary::runId).containsExactly(5L, 4L);
      Page<RunSummary> p2 = rt.queries().runs(p1.nextCursor(), 2);
      assertThat(p2.items()).extracting(RunSummary::runId).containsExactly(3L, 2L);
      Page<RunSummary> p3 = rt.queries().runs(p2.nextCursor(), 2);
      assertThat(p3.items()).extracting(RunSummary::runId).containsExactly(1L);
      assertThat(p3.hasMore()).isFalse();
    }

    @Test
    void auditLog_pagesOldestFirstAndSurvivesTheCap() {
      PipelineRuntime rt = runtime();
      for (int i = 0; i < 5; i++) {
        rt.applyAction(new OperatorAction.Pause(), i);
      }
      Page<AuditEntry> p1 = rt.queries().auditLog(Page.START, 2);
      assertThat(p1.items()).extracting(AuditEntry::atMs).containsExactly(0L, 1L);
      Page<AuditEntry> p2 = rt.queries().auditLog(p1.nextCursor(), 2);
      assertThat(p2.items()).extracting(AuditEntry::atMs).containsExactly(2L, 3L);
      Page<AuditEntry> p3 = rt.queries().auditLog(p2.nextCursor(), 2);
      assertThat(p3.items()).extracting(AuditEntry::atMs).containsExactly(4L);
      assertThat(p3.hasMore()).isFalse();

      // a cursor into entries that have since fallen off the log continues at the oldest kept
      for (int i = 5; i < 1_003; i++) {
        rt.applyAction(new OperatorAction.Pause(), i);
      }
      Page<AuditEntry> after = rt.queries().auditLog(p1.nextCursor(), 2);
      assertThat(after.items()).extracting(AuditEntry::atMs).containsExactly(3L, 4L);
    }

    @Test
    void everyList_withLimitZero_returnsAPageOfOne() {
      PipelineRuntime rt = runtime();
      enqueue(rt, batch("a", 1, 1), 0);
      enqueue(rt, batch("b", 1, 2), 0);
      rt.startRun(0);
      rt.completeRun(0);
      rt.startRun(0);
      rt.completeRun(0);
      rt.applyAction(new OperatorAction.Pause(), 0);
      rt.applyAction(new OperatorAction.Pause(), 0);

      assertThat(rt.queries().batches(Page.START, 0, null).items()).hasSize(1);
      assertThat(rt.queries().runs(Page.START, 0).items()).hasSize(1);
      assertThat(rt.queries().auditLog(Page.START, 0).items()).hasSize(1);
      assertThat(rt.queries().runs(Page.START, 0).hasMore()).isTrue();
      assertThat(rt.queries().auditLog(Page.START, 0).hasMore()).isTrue();
    }

    private List<String> keysOf(Page<BatchView> page) {
      return page.items().stream().map(v -> v.batch().key()).toList();
    }
  }

  // ---- signature -----------------------------------------------------------------------------

  @Nested
  class Signature {
    @Test
    void signature_isLowercaseHexSha256() {
      assertThat(runtime().queries().signature()).matches("[0-9a-f]{64}");
    }

    @Test
    void signature_isTheSameForTheSameOperations() {
      PipelineRuntime a = runtime();
      PipelineRuntime b = runtime();
      for (PipelineRuntime rt : List.of(a, b)) {
        enqueue(rt, batch("k1", 3, 1), 100);
        rt.startAvailable(200);
        rt.failBatch("k1", 1, "boom", false, 300);
        rt.applyAction(new OperatorAction.Pause(), 400);
      }
      assertThat(a.queries().signature()).isEqualTo(b.queries().signature());
      assertThat(a.queries().signature()).isNotEqualTo(runtime().queries().signature());
    }

    @Test
    void signature_leavesOutTheClock() {
      PipelineRuntime a = runtime();
      PipelineRuntime b = runtime();
      enqueue(a, batch("k1", 3, 1), 100);
      enqueue(b, batch("k1", 3, 1), 100);
      b.startAvailable(0, 0, java.util.Set.of(LOAD)); // nothing to start in load
      b.startAvailable(99_999, 0, java.util.Set.of(LOAD));

      assertThat(b.queries().lastNowMs()).isEqualTo(99_999);
      assertThat(a.queries().signature()).isEqualTo(b.queries().signature());
    }

    @Test
    void signature_isUnchangedByANoOpStartAvailable() {
      PipelineRuntime rt = runtimeWithBoundary(b -> b.withLeaseMs(1_000));
      enqueueAndStart(rt, "k1", 1, 0);
      rt.applyAction(new OperatorAction.PauseStage(TRANSFORM), 0);
      enqueue(rt, batch("t", TRANSFORM, 1, 1), 0);
      String sig = rt.queries().signature();

      StartResult r = rt.startAvailable(999); // no lease due, the only candidate is paused

      assertThat(r.started()).isEmpty();
      assertThat(r.expired()).isEmpty();
      assertThat(rt.queries().signature()).isEqualTo(sig);
    }

    @Test
    void signature_isUnchangedByReads() {
      PipelineRuntime rt = runtime();
      enqueueAndStart(rt, "k1", 1, 0);
      String sig = rt.queries().signature();
      PipelineQueries q = rt.queries();
      q.batches();
      q.retries();
      q.deadLetters();
      q.runs();
      q.auditLog();
      q.status();
      q.spec();
      q.stageCounters();
      q.batch("k1");
      q.valid();
      assertThat(q.signature()).isEqualTo(sig);
    }

    @Test
    void signature_changesWithEveryStateChange() {
      PipelineRuntime rt =
          runtime(
              s ->
                  s.boundary(Boundary.DEFAULT.withLeaseMs(1_000).withMaxInFlight(8))
                      .retry(new RetryPolicy(2, 100, 100, 1.0)));
      Map<String, Consumer<PipelineRuntime>> steps = new LinkedHashMap<>();
      steps.put("enqueue", r -> enqueue(r, batch("a", 1, 1), 0));
      steps.put("enqueue b", r -> enqueue(r, batch("b", LOAD, 2, 1), 0));
      steps.put("start", r -> r.startAvailable(0));
      steps.put("extend_lease", r -> r.extendLease("a", 1, 10));
      steps.put("fail", r -> r.failBatch("a", 1, "boom", false, 20));
      steps.put("start retry", r -> r.startAvailable(120));
      steps.put("lease expiry", r -> r.startAvailable(10_000));
      steps.put("redrive", r -> r.applyAction(new OperatorAction.RedriveDeadLetter("a"), 10_000));
      steps.put("start run", r -> r.startRun(10_000));
      steps.put("start again", r -> r.startAvailable(10_000));
      steps.put("ack", r -> r.ackBatch("a", 1, 10_001));
      steps.put("complete run", r -> r.completeRun(10_002));
      steps.put("enqueue c", r -> enqueue(r, batch("c", 1, 2), 10_002));
      steps.put("cancel", r -> r.applyAction(new OperatorAction.CancelBatch("c"), 10_003));
      steps.put("pause", r -> r.applyAction(new OperatorAction.Pause(), 10_003));
      steps.put("pause again", r -> r.applyAction(new OperatorAction.Pause(), 10_003));
      steps.put("resume", r -> r.applyAction(new OperatorAction.Resume(), 10_003));
      steps.put("drain", r -> r.applyAction(new OperatorAction.Drain(), 10_003));
      steps.put("pause stage", r -> r.applyAction(new OperatorAction.PauseStage(EXTRACT), 10_003));
      steps.put("resume stage", r -> r.applyAction(new OperatorAction.ResumeStage(EXTRACT), 10_003));
      steps.put(
          "disable", r -> r.applyAction(new OperatorAction.DisableConnector("extract-in"), 10_003));
      steps.put(
          "enable", r -> r.applyAction(new OperatorAction.EnableConnector("extract-in"), 10_003));
      steps.put("set max", r -> r.applyAction(setMaxInFlight(3), 10_003));
      steps.put("start b", r -> r.startAvailable(10_100));
      steps.put("fail b non-retryable", r -> r.failBatch("b", 2, "bad", true, 10_104));
      steps.put("discard", r -> r.applyAction(new OperatorAction.DiscardDeadLetter("b"), 10_105));

      List<String> signatures = new ArrayList<>();
      signatures.add(rt.queries().signature());
      for (Map.Entry<String, Consumer<PipelineRuntime>> step : steps.entrySet()) {
        step.getValue().accept(rt);
        String sig = rt.queries().signature();
        assertThat(signatures).as("signature after %s is new", step.getKey()).doesNotContain(sig);
        signatures.add(sig);
        assertThat(rt.queries().valid()).as(step.getKey()).isTrue();
      }
    }

    /**
     * Recomputes the signature of a small state from the encoding documented in {@link
     * StateSignature}, independently of its code: a change of the encoding must be deliberate,
     * because restored pipelines are compared by signature.
     */
    @Test
    void signature_followsTheDocumentedEncoding() throws Exception {
      PipelineSpec spec =
          PipelineSpec.builder("p")
              .stages("s")
              .connectors(source("s").withDeadLetterDestination("dlq"))
              .build();
      PipelineRuntime rt = PipelineRuntime.create(spec);
      rt.enqueueBatch(new Batch("k", "s", 2, 5, "i", 7), 100);
      rt.applyAction(new OperatorAction.Pause(), 200);
      rt.startRun(300);
      String pauseMessage = rt.queries().auditLog().get(0).message();

      Encoder e = new Encoder();
      e.string("lightspeed.orchestrator.state.v1");
      // spec
      e.string("p");
      e.int32(1);
      e.string("s");
      e.int32(1);
      e.string("s-in");
      e.string("SOURCE");
      e.string("s");
      e.bool(false);
      e.int64(0);
      e.string("dlq");
      e.bool(false);
      e.int32(64);
      e.int64(10_000);
      e.int64(0);
      e.int64(0);
      e.int64(30_000);
      e.int32(5);
      e.int64(1_000);
      e.int64(60_000);
      e.int64(Double.doubleToLongBits(2.0));
      e.int64(300_000);
      e.bool(false);
      // operator state
      e.string("PAUSED");
      e.int32(64);
      e.int64(4); // the next event id (SPEC 3.10)
      // stage s: paused, has sequence, last sequence, acked batches, acked records
      e.bool(false);
      e.bool(true);
      e.int64(7);
      e.int64(0);
      e.int64(0);
      // live batches
      e.int32(1);
      e.string("k");
      e.string("s");
      e.int64(2);
      e.int64(5);
      e.string("i");
      e.int64(7);
      e.string("QUEUED");
      e.int32(0);
      e.int64(100); // ready_at
      e.int64(0); // started_at
      e.int64(0); // lease deadline
      e.int64(0); // failed_at
      // retry records, dead letters
      e.int32(0);
      e.int32(0);
      // idempotency keys
      e.int32(1);
      e.string("i");
      e.string("k");
      e.string("s");
      e.int64(2);
      e.int64(7);
      e.bool(true);
      e.int64(0);
      // remembered acks
      e.int32(0);
      // runs: last run id, the active run, completed runs
      e.int64(1);
      e.bool(true);
      for (long v : new long[] {1, 300, 0, 0, 0, 0, 0}) {
        e.int64(v);
      }
      e.int32(0);
      // audit log
      e.int64(1);
      e.int32(1);
      e.string("PAUSE");
      e.string("");
      e.int64(200);
      e.string(pauseMessage);

      assertThat(rt.queries().signature()).isEqualTo(e.sha256Hex());
    }

    /** Live and remembered idempotency keys interleave in key order; acks follow by batch key. */
    @Test
    void signature_ofRememberedKeysAndAcks_followsTheDocumentedEncoding() throws Exception {
      PipelineSpec spec =
          PipelineSpec.builder("p")
              .stages("s")
              .connectors(source("s").withDeadLetterDestination("dlq"))
              .build();
      PipelineRuntime rt = PipelineRuntime.create(spec);
      rt.enqueueBatch(new Batch("k3", "s", 3, 0, "i1", 1), 100);
      rt.enqueueBatch(new Batch("k2", "s", 2, 5, "i2", 2), 100);
      rt.enqueueBatch(new Batch("k1", "s", 1, 0, "i3", 3), 100);
      rt.startAvailable(110);
      rt.ackBatch("k3", 1, 120);
      rt.ackBatch("k1", 1, 130);

      Encoder e = new Encoder();
      e.string("lightspeed.orchestrator.state.v1");
      // spec
      e.string("p");
      e.int32(1);
      e.string("s");
      e.int32(1);
      e.string("s-in");
      e.string("SOURCE");
      e.string("s");
      e.bool(false);
      e.int64(0);
      e.string("dlq");
      e.bool(false);
      e.int32(64);
      e.int64(10_000);
      e.int64(0);
      e.int64(0);
      e.int64(30_000);
      e.int32(5);
      e.int64(1_000);
      e.int64(60_000);
      e.int64(Double.doubleToLongBits(2.0));
      e.int64(300_000);
      e.bool(false);
      // operator state
      e.string("RUNNING");
      e.int32(64);
      e.int64(9); // the next event id (SPEC 3.10)
      // stage s: paused, has sequence, last sequence, acked batches, acked records
      e.bool(false);
      e.bool(true);
      e.int64(3);
      e.int64(2);
      e.int64(4);
      // live batches: k2, in flight
      e.int32(1);
      e.string("k2");
      e.string("s");
      e.int64(2);
      e.int64(5);
      e.string("i2");
      e.int64(2);
      e.string("IN_FLIGHT");
      e.int32(1);
      e.int64(100); // ready_at
      e.int64(110); // started_at
      e.int64(30_110); // lease deadline
      e.int64(0); // failed_at
      // retry records, dead letters
      e.int32(0);
      e.int32(0);
      // idempotency keys by key: i1 (gone), i2 (live), i3 (gone)
      e.int32(3);
      for (Object[] k : new Object[][] {
          {"i1", "k3", 3L, 1L, false, 120L},
          {"i2", "k2", 2L, 2L, true, 0L},
          {"i3", "k1", 1L, 3L, false, 130L}}) {
        e.string((String) k[0]);
        e.string((String) k[1]);
        e.string("s");
        e.int64((Long) k[2]);
        e.int64((Long) k[3]);
        e.bool((Boolean) k[4]);
        e.int64((Long) k[5]);
      }
      // remembered acks by batch key: k1, k3 (batch key, stage, records, attempt, run id,
      // started_at, completed_at, done_at)
      e.int32(2);
      for (long[] a : new long[][] {{1, 130}, {3, 120}}) {
        e.string("k" + a[0]);
        e.string("s");
        e.int64(a[0]);
        e.int32(1);
        e.int64(0);
        e.int64(110);
        e.int64(a[1]);
        e.int64(a[1]);
      }
      // runs: last run id, no active run, no completed runs; audit log: none
      e.int64(0);
      e.bool(false);
      e.int32(0);
      e.int64(0);
      e.int32(0);

      assertThat(rt.queries().signature()).isEqualTo(e.sha256Hex());
    }
  }

  // ---- valid() -------------------------------------------------------------------------------

  @Nested
  class Valid {
    @Test
    void valid_holdsForAFreshAndABusyPipeline() {
      PipelineRuntime rt = runtime();
      assertThat(rt.queries().valid()).isTrue();
      enqueue(rt, batch("a", 1, 1), 0);
      enqueue(rt, batch("b", 1, 2), 0);
      enqueue(rt, batch("c", 1, 3), 0);
      rt.startAvailable(0);
      rt.failBatch("a", 1, "x", false, 0);
      rt.failBatch("b", 1, "x", true, 0);
      assertThat(rt.queries().valid()).isTrue();
      assertThat(rt.queries().brokenInvariant()).isEmpty();
    }

    /** A pipeline state reached through the real moves, to be corrupted by one field. */
    private PipelineState busyState() {
      PipelineState s =
          new PipelineState(
              Fixtures.spec()
                  .connectors(source(EXTRACT).withOrdered(true), source(TRANSFORM), source(LOAD))
                  .boundary(Boundary.DEFAULT.withMaxInFlight(2).withMaxInFlightRecords(10))
                  .build());
      LiveBatch a = s.enqueue(batch("a", TRANSFORM, 3, 1), 0);
      LiveBatch b = s.enqueue(batch("b", TRANSFORM, 3, 2), 0);
      s.enqueue(batch("c", EXTRACT, 1, 1), 0);
      s.start(a, 0, 1_000);
      s.start(b, 0, 1_000);
      s.retryLater(b, new RetryRecord("b", 2, "x", 100), 50);
      assertThat(new PipelineQueries(s).valid()).isTrue();
      return s;
    }

    private String broken(PipelineState s) {
      PipelineQueries q = new PipelineQueries(s);
      assertThat(q.valid()).isFalse();
      return q.brokenInvariant();
    }

    @Test
    void status_reportsTheBrokenInvariant() {
      PipelineState s = busyState();
      s.queuedCount++;
      PipelineStatus status = new PipelineQueries(s).status();
      assertThat(status.valid()).isFalse();
      assertThat(status.invalidReason()).startsWith("counts match the sets: queued_count 3");
    }

    @Test
    void valid_namesAQueuedCountThatDoesNotMatch() {
      PipelineState s = busyState();
      s.queuedCount++;
      assertThat(broken(s)).startsWith("counts match the sets");
    }

    @Test
    void valid_namesAnInFlightCountThatDoesNotMatch() {
      PipelineState s = busyState();
      s.inFlightCount--;
      assertThat(broken(s)).startsWith("counts match the sets");
    }

    @Test
    void valid_namesAKeyInTwoStates() {
      PipelineState s = busyState();
      LiveBatch a = s.live.get("a");
      s.stages.get(TRANSFORM).waiting.add(a); // IN_FLIGHT and waiting
      assertThat(broken(s)).startsWith("each key in exactly one state");
    }

    @Test
    void valid_namesTooManyInFlight() {
      PipelineState s = busyState();
      s.start(s.live.get("b"), 200, 0);
      s.start(s.live.get("c"), 200, 0);
      assertThat(broken(s)).startsWith("in_flight ≤ boundary.max_in_flight");
    }

    @Test
    void valid_namesAnOverspentRecordsBudget() {
      PipelineState s = busyState();
      LiveBatch big = s.enqueue(batch("big", LOAD, 8, 1), 200);
      s.start(big, 200, 0); // 3 + 8 > 10
      assertThat(broken(s)).startsWith("in-flight records within budget");
    }

    @Test
    void valid_namesTwoInFlightOnAnOrderedStage() {
      PipelineState s = busyState();
      s.retryLater(s.live.get("a"), new RetryRecord("a", 2, "x", 10), 0);
      LiveBatch d = s.enqueue(batch("d", EXTRACT, 1, 2), 0);
      s.start(s.live.get("c"), 0, 0);
      s.start(d, 0, 0);
      assertThat(broken(s)).startsWith("ordered stages have at most 1 in flight");
    }

    @Test
    void valid_namesADeadLetterWithoutABatch() {
      PipelineState s = busyState();
      s.deadLettered.put(999L, s.live.get("c"));
      assertThat(broken(s)).startsWith("every dead letter has a batch");
    }

    @Test
    void valid_namesARetryBeforeItsFailure() {
      PipelineState s = busyState();
      s.live.get("b").failedAtMs = 5_000;
      assertThat(broken(s)).startsWith("no retry_at before its failure time");
    }

    @Test
    void valid_namesASequenceThatDoesNotIncrease() {
      PipelineState s = busyState();
      s.stages.get(TRANSFORM).lastSequence = 1;
      assertThat(broken(s)).startsWith("sequences increasing per stage");
    }
  }

  /** The primitives of the documented encoding, written independently of StateSignature. */
  private static final class Encoder {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final DataOutputStream out = new DataOutputStream(bytes);

    void string(String s) throws IOException {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      out.writeInt(b.length);
      out.write(b);
    }

    void int32(int v) throws IOException {
      out.writeInt(v);
    }

    void int64(long v) throws IOException {
      out.writeLong(v);
    }

    void bool(boolean v) throws IOException {
      out.writeByte(v ? 1 : 0);
    }

    String sha256Hex() throws Exception {
      out.flush();
      return HexFormat.of()
          .formatHex(MessageDigest.getInstance("SHA-256").digest(bytes.toByteArray()));
    }
  }
}
