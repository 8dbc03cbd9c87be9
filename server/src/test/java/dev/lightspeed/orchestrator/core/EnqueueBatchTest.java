package dev.lightspeed.orchestrator.core;

import static dev.lightspeed.orchestrator.core.Fixtures.EXTRACT;
import static dev.lightspeed.orchestrator.core.Fixtures.LOAD;
import static dev.lightspeed.orchestrator.core.Fixtures.TRANSFORM;
import static dev.lightspeed.orchestrator.core.Fixtures.assertRefused;
import static dev.lightspeed.orchestrator.core.Fixtures.batch;
import static dev.lightspeed.orchestrator.core.Fixtures.enqueue;
import static dev.lightspeed.orchestrator.core.Fixtures.enqueueAndStart;
import static dev.lightspeed.orchestrator.core.Fixtures.liveKeys;
import static dev.lightspeed.orchestrator.core.Fixtures.runtime;
import static dev.lightspeed.orchestrator.core.Fixtures.runtimeWithBoundary;
import static dev.lightspeed.orchestrator.core.Fixtures.sink;
import static dev.lightspeed.orchestrator.core.Fixtures.source;
import static dev.lightspeed.orchestrator.core.Fixtures.stateOf;
import static dev.lightspeed.orchestrator.core.Fixtures.withIdem;
import static dev.lightspeed.orchestrator.core.Fixtures.withLag;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** SPEC 3.1: enqueue_batch, its seven checks and their order. */
class EnqueueBatchTest {

  // ---- success -------------------------------------------------------------------------------

  @Test
  void enqueue_valid_isQueuedReadyAtNowWithAttemptZero() {
    PipelineRuntime rt = runtime();

    assertThat(rt.enqueueBatch(batch("k1", 10, 1), 1_000)).isFalse();

    BatchView v = rt.queries().batch("k1");
    assertThat(v).isEqualTo(new BatchView(batch("k1", 10, 1), BatchState.QUEUED, 0, 1_000, 0));
    assertThat(rt.queries().queuedCount()).isEqualTo(1);
    assertThat(rt.queries().inFlightCount()).isZero();
    assertThat(rt.queries().lastNowMs()).isEqualTo(1_000);
  }

  @Test
  void enqueue_withEarlierNow_isReadyAtTheLastNow() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("k1", 1, 1), 1_000);

    enqueue(rt, batch("k2", 1, 2), 400);

    assertThat(rt.queries().batch("k2").readyAtMs()).isEqualTo(1_000);
    assertThat(rt.queries().lastNowMs()).isEqualTo(1_000);
  }

  @Test
  void enqueue_manyBatches_areRememberedInEnqueueOrder() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("c", LOAD, 1, 5), 10);
    enqueue(rt, batch("a", EXTRACT, 1, 9), 10);
    enqueue(rt, batch("b", TRANSFORM, 1, 0), 20);

    assertThat(liveKeys(rt)).containsExactly("c", "a", "b");
  }

  // ---- check 1: validation -------------------------------------------------------------------

  @Test
  void enqueue_withEmptyKey_isInvalidBatch() {
    PipelineRuntime rt = runtime();
    Rejection r =
        assertRefused(rt, Reason.INVALID_BATCH, () -> rt.enqueueBatch(batch("", 1, 1), 0));
    assertThat(r.field()).isEqualTo("key");
  }

  @Test
  void enqueue_withNullKey_isInvalidBatch() {
    PipelineRuntime rt = runtime();
    Rejection r =
        assertRefused(
            rt,
            Reason.INVALID_BATCH,
            () -> rt.enqueueBatch(new Batch(null, EXTRACT, 1, 0, "i", 1), 0));
    assertThat(r.field()).isEqualTo("key");
  }

  @Test
  void enqueue_withEmptyIdempotencyKey_isInvalidBatch() {
    PipelineRuntime rt = runtime();
    Rejection r =
        assertRefused(
            rt, Reason.INVALID_BATCH, () -> rt.enqueueBatch(withIdem(batch("k", 1, 1), ""), 0));
    assertThat(r.field()).isEqualTo("idempotency_key");
  }

  @Test
  void enqueue_withKeyOf256Utf8Bytes_isAccepted() {
    PipelineRuntime rt = runtime();
    enqueue(rt, withIdem(batch("é".repeat(128), 1, 1), "i1"), 0); // 2 bytes each
    enqueue(rt, withIdem(batch("\uD83D\uDE00".repeat(64), 1, 2), "i2"), 0); // 4 bytes each
    enqueue(rt, withIdem(batch("k", 1, 3), "x".repeat(256)), 0);
    assertThat(rt.queries().liveCount()).isEqualTo(3);
  }

  @Test
  void enqueue_withKeyOf257Utf8Bytes_isInvalidBatch() {
    PipelineRuntime rt = runtime();
    // 129 characters but 257 bytes: the limit counts UTF-8 bytes, not characters
    String key257 = "é".repeat(128) + "a";
    Rejection k =
        assertRefused(
            rt, Reason.INVALID_BATCH, () -> rt.enqueueBatch(withIdem(batch(key257, 1, 1), "i"), 0));
    assertThat(k.field()).isEqualTo("key");
    assertRefused(
        rt,
        Reason.INVALID_BATCH,
        () -> rt.enqueueBatch(withIdem(batch("€".repeat(86), 1, 1), "i"), 0)); // 258 bytes
    Rejection r =
        assertRefused(
            rt,
            Reason.INVALID_BATCH,
            () -> rt.enqueueBatch(withIdem(batch("k", 1, 1), "x".repeat(257)), 0));
    assertThat(r.field()).isEqualTo("idempotency_key");
  }

  @ParameterizedTest(name = "U+{0}")
  @ValueSource(ints = {0x00, 0x09, 0x0A, 0x1F, 0x7F, 0x80, 0x9F})
  void enqueue_withControlCharacterInKey_isInvalidBatch(int codePoint) {
    PipelineRuntime rt = runtime();
    String bad = "a" + (char) codePoint + "b";
    Rejection r = assertRefused(rt, Reason.INVALID_BATCH, () -> rt.enqueueBatch(batch(bad, 1, 1), 0));
    assertThat(r.field()).isEqualTo("key");
    Rejection r2 =
        assertRefused(
            rt, Reason.INVALID_BATCH, () -> rt.enqueueBatch(withIdem(batch("k", 1, 1), bad), 0));
    assertThat(r2.field()).isEqualTo("idempotency_key");
  }

  @ParameterizedTest(name = "U+{0}")
  @ValueSource(ints = {0x20, 0x7E, 0xA0, 0x2028})
  void enqueue_withNonControlCharacterNextToTheRanges_isAccepted(int codePoint) {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("a" + (char) codePoint + "b", 1, 1), 0);
    assertThat(rt.queries().liveCount()).isEqualTo(1);
  }

  @Test
  void enqueue_withEmptyStage_isInvalidBatch() {
    PipelineRuntime rt = runtime();
    Rejection r =
        assertRefused(rt, Reason.INVALID_BATCH, () -> rt.enqueueBatch(batch("k", "", 1, 1), 0));
    assertThat(r.field()).isEqualTo("stage");
  }

  @Test
  void enqueue_withZeroRecords_isInvalidBatch() {
    PipelineRuntime rt = runtime();
    Rejection r =
        assertRefused(rt, Reason.INVALID_BATCH, () -> rt.enqueueBatch(batch("k", 0, 1), 0));
    assertThat(r.field()).isEqualTo("records");
  }

  @Test
  void enqueue_withNegativeLag_isInvalidBatch() {
    PipelineRuntime rt = runtime();
    Rejection r =
        assertRefused(
            rt, Reason.INVALID_BATCH, () -> rt.enqueueBatch(withLag(batch("k", 1, 1), -1), 0));
    assertThat(r.field()).isEqualTo("lag_ms");
  }

  @Test
  void enqueue_withNegativeSequence_isInvalidBatch() {
    PipelineRuntime rt = runtime();
    Rejection r =
        assertRefused(rt, Reason.INVALID_BATCH, () -> rt.enqueueBatch(batch("k", 1, -1), 0));
    assertThat(r.field()).isEqualTo("sequence");
  }

  @Test
  void enqueue_withSequenceZeroAndOneRecordAndZeroLag_isAccepted() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("k", 1, 0), 0);
    assertThat(rt.queries().batch("k").batch().sequence()).isZero();
  }

  // ---- check 2: idempotency ------------------------------------------------------------------

  @Nested
  class Idempotency {
    @Test
    void enqueue_sameIdempotencyKeyAndContent_isDeduplicatedAndChangesNothing() {
      PipelineRuntime rt = runtime();
      enqueue(rt, batch("k1", 10, 1), 1_000);
      String sig = rt.queries().signature();

      assertThat(rt.enqueueBatch(batch("k1", 10, 1), 5_000)).isTrue();

      assertThat(rt.queries().signature()).isEqualTo(sig);
      assertThat(rt.queries().lastNowMs()).isEqualTo(1_000);
      assertThat(rt.queries().liveCount()).isEqualTo(1);
    }

    @Test
    void enqueue_sameContentButDifferentLag_isDeduplicated() {
      // SPEC compares key+stage+records+sequence only.
      PipelineRuntime rt = runtime();
      enqueue(rt, batch("k1", 10, 1), 0);
      assertThat(rt.enqueueBatch(withLag(batch("k1", 10, 1), 999), 0)).isTrue();
    }

    @Test
    void enqueue_sameIdempotencyKeyWithDifferentKey_isIdempotencyConflict() {
      PipelineRuntime rt = runtime();
      enqueue(rt, batch("k1", 10, 1), 0);
      assertRefused(
          rt,
          Reason.IDEMPOTENCY_CONFLICT,
          () -> rt.enqueueBatch(withIdem(batch("k2", 10, 1), "idem-k1"), 0));
    }

    @Test
    void enqueue_sameIdempotencyKeyWithDifferentStage_isIdempotencyConflict() {
      PipelineRuntime rt = runtime();
      enqueue(rt, batch("k1", 10, 1), 0);
      assertRefused(
          rt, Reason.IDEMPOTENCY_CONFLICT, () -> rt.enqueueBatch(batch("k1", LOAD, 10, 1), 0));
    }

    @Test
    void enqueue_sameIdempotencyKeyWithDifferentRecords_isIdempotencyConflict() {
      PipelineRuntime rt = runtime();
      enqueue(rt, batch("k1", 10, 1), 0);
      assertRefused(rt, Reason.IDEMPOTENCY_CONFLICT, () -> rt.enqueueBatch(batch("k1", 11, 1), 0));
    }

    @Test
    void enqueue_sameIdempotencyKeyWithDifferentSequence_isIdempotencyConflict() {
      PipelineRuntime rt = runtime();
      enqueue(rt, batch("k1", 10, 1), 0);
      assertRefused(rt, Reason.IDEMPOTENCY_CONFLICT, () -> rt.enqueueBatch(batch("k1", 10, 2), 0));
    }

    @Test
    void enqueue_whileItsBatchIsLive_isDeduplicatedHowEverOld() {
      PipelineRuntime rt = runtime(s -> s.dedupWindowMs(1_000));
      enqueue(rt, batch("f", 1, 1), 0);
      enqueue(rt, batch("r", 1, 2), 0);
      enqueue(rt, batch("d", 1, 3), 0);
      rt.startAvailable(0);
      rt.failBatch("r", 1, "boom", false, 0);
      rt.failBatch("d", 1, "boom", true, 0);
      enqueue(rt, batch("q", 1, 4), 0);
      List<String> keys = List.of("f", "r", "d", "q");
      assertThat(keys.stream().map(k -> stateOf(rt, k)))
          .containsExactly(
              BatchState.IN_FLIGHT,
              BatchState.RETRY_WAIT,
              BatchState.DEAD_LETTERED,
              BatchState.QUEUED);

      for (int i = 0; i < keys.size(); i++) {
        assertThat(rt.enqueueBatch(batch(keys.get(i), 1, i + 1), 1_000_000))
            .as(keys.get(i))
            .isTrue();
      }
    }

    @Test
    void enqueue_afterAckJustInsideTheWindow_isDeduplicated() {
      PipelineRuntime rt = runtime(s -> s.dedupWindowMs(5_000));
      enqueueAndStart(rt, "k1", 1, 0);
      rt.ackBatch("k1", 0, 1_000);

      assertThat(rt.enqueueBatch(batch("k1", 1, 1), 5_999)).isTrue();
      assertRefused(
          rt,
          Reason.IDEMPOTENCY_CONFLICT,
          () -> rt.enqueueBatch(withIdem(batch("k2", 1, 2), "idem-k1"), 5_999));
    }

    @Test
    void enqueue_afterAckExactlyAtTheWindow_treatsTheKeyAsAbsent() {
      PipelineRuntime rt = runtime(s -> s.dedupWindowMs(5_000));
      enqueueAndStart(rt, "k1", 1, 0);
      rt.ackBatch("k1", 0, 1_000);

      // 6000 - 1000 = 5000 is not less than the window: the key is free for new content
      assertThat(rt.enqueueBatch(withIdem(batch("k2", 1, 2), "idem-k1"), 6_000)).isFalse();
      assertThat(stateOf(rt, "k2")).isEqualTo(BatchState.QUEUED);
      // and it is now the new batch's key
      assertThat(rt.enqueueBatch(withIdem(batch("k2", 1, 2), "idem-k1"), 6_000)).isTrue();
    }

    @Test
    void enqueue_sameContentAfterTheWindow_isNotDeduplicated() {
      PipelineRuntime rt = runtime(s -> s.dedupWindowMs(5_000));
      enqueueAndStart(rt, "k1", 1, 0);
      rt.ackBatch("k1", 0, 1_000);

      // no longer remembered: the enqueue is judged afresh, and its sequence is old
      assertRefused(
          rt, Reason.SEQUENCE_REGRESSION, () -> rt.enqueueBatch(batch("k1", 1, 1), 6_000));
    }

    @Test
    void enqueue_afterCancel_isRememberedForTheWindowFromTheCancel() {
      PipelineRuntime rt = runtime(s -> s.dedupWindowMs(1_000));
      enqueue(rt, batch("k1", 1, 1), 0);
      rt.applyAction(new OperatorAction.CancelBatch("k1"), 10_000);

      assertThat(rt.enqueueBatch(batch("k1", 1, 1), 10_999)).isTrue();
      assertThat(rt.queries().liveCount()).isZero();
      assertRefused(
          rt, Reason.SEQUENCE_REGRESSION, () -> rt.enqueueBatch(batch("k1", 1, 1), 11_000));
    }

    @Test
    void enqueue_afterDiscard_isRememberedForTheWindowFromTheDiscard() {
      PipelineRuntime rt = runtime(s -> s.dedupWindowMs(1_000));
      enqueueAndStart(rt, "k1", 1, 0);
      rt.failBatch("k1", 1, "bad", true, 0);
      rt.applyAction(new OperatorAction.DiscardDeadLetter("k1"), 20_000);

      assertThat(rt.enqueueBatch(batch("k1", 1, 1), 20_999)).isTrue();
      assertRefused(
          rt,
          Reason.IDEMPOTENCY_CONFLICT,
          () -> rt.enqueueBatch(withIdem(batch("k1", 1, 2), "idem-k1"), 20_999));
      assertThat(rt.enqueueBatch(withIdem(batch("k1", 1, 2), "idem-k1"), 21_000)).isFalse();
    }

    @Test
    void enqueue_withDedupWindowZero_forgetsAFinishedKeyAtOnce() {
      PipelineRuntime rt = runtime(s -> s.dedupWindowMs(0));
      enqueueAndStart(rt, "k1", 1, 0);
      rt.ackBatch("k1", 0, 0);

      assertThat(rt.enqueueBatch(withIdem(batch("k2", 1, 2), "idem-k1"), 0)).isFalse();
    }
  }

  // ---- check 3: key --------------------------------------------------------------------------

  @Test
  void enqueue_withKeyOfAQueuedBatch_isBatchKeyExists() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("k1", 1, 1), 0);
    assertRefused(
        rt,
        Reason.BATCH_KEY_EXISTS,
        () -> rt.enqueueBatch(withIdem(batch("k1", 1, 2), "other"), 0));
  }

  @Test
  void enqueue_withKeyOfAnInFlightRetryingOrDeadLetteredBatch_isBatchKeyExists() {
    PipelineRuntime rt = runtime();
    enqueueAndStart(rt, "f", 1, 0);
    enqueueAndStart(rt, "r", 2, 0);
    rt.failBatch("r", 1, "boom", false, 0);
    enqueueAndStart(rt, "d", 3, 0);
    rt.failBatch("d", 1, "boom", true, 0);
    assertThat(stateOf(rt, "f")).isEqualTo(BatchState.IN_FLIGHT);
    assertThat(stateOf(rt, "r")).isEqualTo(BatchState.RETRY_WAIT);
    assertThat(stateOf(rt, "d")).isEqualTo(BatchState.DEAD_LETTERED);

    for (String key : List.of("f", "r", "d")) {
      assertRefused(
          rt,
          Reason.BATCH_KEY_EXISTS,
          () -> rt.enqueueBatch(withIdem(batch(key, LOAD, 1, 9), "new-" + key), 0));
    }
  }

  @Test
  void enqueue_withKeyOfADoneBatch_isAcceptedAsANewBatch() {
    PipelineRuntime rt = runtime();
    enqueueAndStart(rt, "k1", 1, 0);
    rt.ackBatch("k1", 1, 100);

    enqueue(rt, withIdem(batch("k1", 5, 2), "second"), 200);

    assertThat(rt.queries().batch("k1"))
        .isEqualTo(
            new BatchView(withIdem(batch("k1", 5, 2), "second"), BatchState.QUEUED, 0, 200, 0));
  }

  @Test
  void enqueue_withKeyOfACancelledOrDiscardedBatch_isAccepted() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("c", 1, 1), 0);
    rt.applyAction(new OperatorAction.CancelBatch("c"), 0);
    enqueueAndStart(rt, "d", 2, 0);
    rt.failBatch("d", 1, "x", true, 0);
    rt.applyAction(new OperatorAction.DiscardDeadLetter("d"), 0);

    enqueue(rt, withIdem(batch("c", 1, 3), "c2"), 0);
    enqueue(rt, withIdem(batch("d", 1, 4), "d2"), 0);

    assertThat(liveKeys(rt)).containsExactly("c", "d");
  }

  // ---- check 4: connectors -------------------------------------------------------------------

  @Test
  void enqueue_toUndeclaredStage_isUnknownStage() {
    PipelineRuntime rt = runtime();
    Rejection r =
        assertRefused(
            rt, Reason.UNKNOWN_STAGE, () -> rt.enqueueBatch(batch("k", "nowhere", 1, 1), 0));
    assertThat(r.getMessage()).contains("nowhere");
  }

  @Test
  void enqueue_toStageWithoutConnector_isNoConnector() {
    PipelineRuntime rt = runtime(s -> s.connectors(source(EXTRACT)));
    assertRefused(rt, Reason.NO_CONNECTOR, () -> rt.enqueueBatch(batch("k", LOAD, 1, 1), 0));
  }

  @Test
  void enqueue_toStageWithoutConnectorWhenUnboundAllowed_isAccepted() {
    PipelineRuntime rt = runtime(s -> s.connectors(source(EXTRACT)).allowUnboundStages(true));
    enqueue(rt, batch("k", LOAD, 1, 1), 0);
    assertThat(stateOf(rt, "k")).isEqualTo(BatchState.QUEUED);
  }

  @Test
  void enqueue_toStageWithOnlyASink_isAccepted() {
    PipelineRuntime rt = runtime(s -> s.connectors(sink(LOAD)));
    enqueue(rt, batch("k", LOAD, 1, 1), 0);
    assertThat(stateOf(rt, "k")).isEqualTo(BatchState.QUEUED);
  }

  @Test
  void enqueue_toStageWithDisabledSource_isConnectorDisabled() {
    PipelineRuntime rt = runtime(s -> s.connectors(source(EXTRACT).withDisabled(true)));
    Rejection r =
        assertRefused(rt, Reason.CONNECTOR_DISABLED, () -> rt.enqueueBatch(batch("k", 1, 1), 0));
    assertThat(r.getMessage()).contains("extract-in");
  }

  @Test
  void enqueue_toStageWhoseSinkWasDisabledByAction_isConnectorDisabled() {
    PipelineRuntime rt = runtime();
    rt.applyAction(new OperatorAction.DisableConnector("load-out"), 0);
    assertRefused(
        rt, Reason.CONNECTOR_DISABLED, () -> rt.enqueueBatch(batch("k", LOAD, 1, 1), 0));

    rt.applyAction(new OperatorAction.EnableConnector("load-out"), 0);
    enqueue(rt, batch("k", LOAD, 1, 1), 0);
  }

  @Test
  void enqueue_moreRecordsThanAConnectorTakes_isBatchTooLarge() {
    PipelineRuntime rt =
        runtime(s -> s.connectors(source(LOAD), sink(LOAD).withMaxBatchRecords(10)));
    enqueue(rt, batch("ok", LOAD, 10, 1), 0);
    Rejection r =
        assertRefused(rt, Reason.BATCH_TOO_LARGE, () -> rt.enqueueBatch(batch("big", LOAD, 11, 2), 0));
    assertThat(r.getMessage()).contains("11").contains("10");
  }

  @Test
  void enqueue_moreRecordsThanMaxInFlightRecords_isBatchTooLarge() {
    PipelineRuntime rt = runtimeWithBoundary(b -> b.withMaxInFlightRecords(100));
    enqueue(rt, batch("ok", 100, 1), 0);
    assertRefused(rt, Reason.BATCH_TOO_LARGE, () -> rt.enqueueBatch(batch("big", 101, 2), 0));
  }

  @Test
  void enqueue_withUnlimitedRecordLimits_acceptsAnySize() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("huge", Long.MAX_VALUE, 1), 0);
    assertThat(rt.queries().liveCount()).isEqualTo(1);
  }

  // ---- check 5: operator ---------------------------------------------------------------------

  @Test
  void enqueue_whileDraining_isPipelineDraining() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("k1", 1, 1), 0);
    rt.applyAction(new OperatorAction.Drain(), 0);
    assertThat(rt.queries().mode()).isEqualTo(PipelineMode.DRAINING);
    assertRefused(rt, Reason.PIPELINE_DRAINING, () -> rt.enqueueBatch(batch("k2", 1, 2), 0));
  }

  @Test
  void enqueue_whileDrained_isPipelineDraining() {
    PipelineRuntime rt = runtime();
    rt.applyAction(new OperatorAction.Drain(), 0);
    assertThat(rt.queries().mode()).isEqualTo(PipelineMode.DRAINED);
    assertRefused(rt, Reason.PIPELINE_DRAINING, () -> rt.enqueueBatch(batch("k2", 1, 2), 0));
  }

  @Test
  void enqueue_whilePaused_isAccepted() {
    PipelineRuntime rt = runtime();
    rt.applyAction(new OperatorAction.Pause(), 0);
    enqueue(rt, batch("k1", 1, 1), 0);
    assertThat(stateOf(rt, "k1")).isEqualTo(BatchState.QUEUED);
  }

  @Test
  void enqueue_afterDrainThenResume_isAccepted() {
    PipelineRuntime rt = runtime();
    rt.applyAction(new OperatorAction.Drain(), 0);
    rt.applyAction(new OperatorAction.Resume(), 0);
    enqueue(rt, batch("k1", 1, 1), 0);
  }

  // ---- check 6: sequence ---------------------------------------------------------------------

  @Test
  void enqueue_withSequenceEqualToTheLast_isSequenceRegressionGivingBothNumbers() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("k1", 1, 7), 0);
    Rejection r =
        assertRefused(rt, Reason.SEQUENCE_REGRESSION, () -> rt.enqueueBatch(batch("k2", 1, 7), 0));
    assertThat(r.getMessage()).contains("sequence 7").contains("7");
  }

  @Test
  void enqueue_withSequenceBelowTheLast_isSequenceRegressionGivingBothNumbers() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("k1", 1, 7), 0);
    Rejection r =
        assertRefused(rt, Reason.SEQUENCE_REGRESSION, () -> rt.enqueueBatch(batch("k2", 1, 3), 0));
    assertThat(r.getMessage()).contains("3").contains("7");
  }

  @Test
  void enqueue_sequences_arePerStage() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("a", EXTRACT, 1, 7), 0);
    enqueue(rt, batch("b", LOAD, 1, 1), 0);
    enqueue(rt, batch("c", TRANSFORM, 1, 0), 0);
    enqueue(rt, batch("d", EXTRACT, 1, 8), 0);
    assertThat(liveKeys(rt)).containsExactly("a", "b", "c", "d");
  }

  @Test
  void enqueue_sequenceGaps_areAllowed() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("a", 1, 1), 0);
    enqueue(rt, batch("b", 1, 1_000_000), 0);
    assertThat(rt.queries().liveCount()).isEqualTo(2);
  }

  @Test
  void enqueue_refusedBatch_doesNotAdvanceTheSequence() {
    PipelineRuntime rt = runtimeWithBoundary(b -> b.withMaxLagMs(10));
    enqueue(rt, batch("a", 1, 1), 0);
    assertRefused(rt, Reason.LAG_EXCEEDED, () -> rt.enqueueBatch(withLag(batch("b", 1, 5), 11), 0));
    enqueue(rt, batch("b", 1, 2), 0);
  }

  @Test
  void enqueue_afterTheLastBatchWasCancelled_stillNeedsAHigherSequence() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("a", 1, 5), 0);
    rt.applyAction(new OperatorAction.CancelBatch("a"), 0);
    assertRefused(rt, Reason.SEQUENCE_REGRESSION, () -> rt.enqueueBatch(batch("b", 1, 5), 0));
  }

  // Version 2: sequence 0 means "no sequence" -------------------------------------------------

  @Test
  void enqueue_withSequenceZero_afterAPositiveSequence_isAccepted() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("a", 1, 7), 0);
    enqueue(rt, batch("b", 1, 0), 0);
    enqueue(rt, batch("c", 1, 0), 0);
    assertThat(liveKeys(rt)).containsExactly("a", "b", "c");
    // valid's "positive sequences increasing per stage" ignores the batches without one
    assertThat(rt.queries().brokenInvariant()).isEmpty();
  }

  @Test
  void enqueue_withSequenceZero_leavesTheStagesLastSequenceAsItWas() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("a", 1, 7), 0);
    enqueue(rt, batch("b", 1, 0), 0);
    // the last positive sequence is still 7: 7 is refused, 8 is accepted
    Rejection r =
        assertRefused(rt, Reason.SEQUENCE_REGRESSION, () -> rt.enqueueBatch(batch("c", 1, 7), 0));
    assertThat(r.getMessage()).contains("last accepted sequence 7");
    enqueue(rt, batch("d", 1, 8), 0);
  }

  @Test
  void enqueue_withSequenceZeroFirst_thenAnyPositiveSequence_isAccepted() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("a", 1, 0), 0);
    enqueue(rt, batch("b", 1, 1), 0);
    assertThat(liveKeys(rt)).containsExactly("a", "b");
  }

  // ---- check 7: backpressure -----------------------------------------------------------------

  @Test
  void enqueue_whenQueueFull_isResourceExhausted() {
    PipelineRuntime rt = runtimeWithBoundary(b -> b.withMaxQueued(2));
    enqueue(rt, batch("a", 1, 1), 0);
    enqueue(rt, batch("b", 1, 2), 0);
    Rejection r = assertRefused(rt, Reason.QUEUE_FULL, () -> rt.enqueueBatch(batch("c", 1, 3), 0));
    assertThat(r.reason().category()).isEqualTo(Reason.Category.RESOURCE_EXHAUSTED);
    assertThat(r.retryAfterMs()).isPositive();
  }

  @Test
  void enqueue_queueFull_countsRetryWaitButNotInFlightOrDeadLetters() {
    PipelineRuntime rt = runtimeWithBoundary(b -> b.withMaxQueued(2));
    enqueueAndStart(rt, "r", 1, 0);
    rt.failBatch("r", 1, "boom", false, 0); // RETRY_WAIT: counts
    enqueueAndStart(rt, "f", 2, 0); // IN_FLIGHT: does not count
    enqueueAndStart(rt, "d", 3, 0);
    rt.failBatch("d", 1, "boom", true, 0); // DEAD_LETTERED: does not count
    enqueue(rt, batch("q", 1, 4), 0); // QUEUED: counts
    assertThat(rt.queries().queuedCount()).isEqualTo(2);

    assertRefused(rt, Reason.QUEUE_FULL, () -> rt.enqueueBatch(batch("x", 1, 5), 0));
  }

  @Test
  void enqueue_withLagAboveMaxLag_isLagExceeded() {
    PipelineRuntime rt = runtimeWithBoundary(b -> b.withMaxLagMs(500));
    enqueue(rt, withLag(batch("a", 1, 1), 500), 0);
    Rejection r =
        assertRefused(
            rt, Reason.LAG_EXCEEDED, () -> rt.enqueueBatch(withLag(batch("b", 1, 2), 501), 0));
    assertThat(r.retryAfterMs()).isPositive();
  }

  @Test
  void enqueue_withMaxLagZero_acceptsAnyLag() {
    PipelineRuntime rt = runtime();
    enqueue(rt, withLag(batch("a", 1, 1), Long.MAX_VALUE), 0);
  }

  // ---- the order of the checks ---------------------------------------------------------------

  @Test
  void enqueue_checksRunInSpecOrder_validationBeforeIdempotency() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("k1", 1, 1), 0);
    // a conflicting idempotency key, but the records are invalid: validation decides
    assertRefused(rt, Reason.INVALID_BATCH, () -> rt.enqueueBatch(batch("k1", 0, 1), 0));
  }

  @Test
  void enqueue_checksRunInSpecOrder_idempotencyBeforeKey() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("k1", 1, 1), 0);
    // the key is live, but the idempotency key decides first: conflict, or a dedup
    assertRefused(rt, Reason.IDEMPOTENCY_CONFLICT, () -> rt.enqueueBatch(batch("k1", 2, 1), 0));
    assertThat(rt.enqueueBatch(batch("k1", 1, 1), 0)).isTrue();
  }

  @Test
  void enqueue_checksRunInSpecOrder_keyBeforeConnectors() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("k1", 1, 1), 0);
    assertRefused(
        rt,
        Reason.BATCH_KEY_EXISTS,
        () -> rt.enqueueBatch(withIdem(batch("k1", "nowhere", 1, 1), "fresh"), 0));
  }

  @Test
  void enqueue_connectorChecksRunInSpecOrder() {
    PipelineRuntime rt =
        runtime(
            s ->
                s.connectors(source(EXTRACT).withDisabled(true).withMaxBatchRecords(1)));
    assertRefused(rt, Reason.UNKNOWN_STAGE, () -> rt.enqueueBatch(batch("k", "nowhere", 5, 1), 0));
    assertRefused(rt, Reason.NO_CONNECTOR, () -> rt.enqueueBatch(batch("k", LOAD, 5, 1), 0));
    // disabled and too large: disabled decides
    assertRefused(rt, Reason.CONNECTOR_DISABLED, () -> rt.enqueueBatch(batch("k", 5, 1), 0));
  }

  @Test
  void enqueue_checksRunInSpecOrder_connectorsBeforeOperator() {
    PipelineRuntime rt = runtime();
    rt.applyAction(new OperatorAction.Drain(), 0);
    assertRefused(rt, Reason.UNKNOWN_STAGE, () -> rt.enqueueBatch(batch("k", "nowhere", 1, 1), 0));
  }

  @Test
  void enqueue_checksRunInSpecOrder_operatorBeforeSequence() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("a", 1, 5), 0);
    rt.applyAction(new OperatorAction.Drain(), 0);
    assertRefused(rt, Reason.PIPELINE_DRAINING, () -> rt.enqueueBatch(batch("b", 1, 1), 0));
  }

  @Test
  void enqueue_checksRunInSpecOrder_sequenceBeforeBackpressure() {
    PipelineRuntime rt = runtimeWithBoundary(b -> b.withMaxQueued(1).withMaxLagMs(1));
    enqueue(rt, batch("a", 1, 5), 0);
    assertRefused(
        rt, Reason.SEQUENCE_REGRESSION, () -> rt.enqueueBatch(withLag(batch("b", 1, 1), 9), 0));
  }

  @Test
  void enqueue_checksRunInSpecOrder_queueFullBeforeLag() {
    PipelineRuntime rt = runtimeWithBoundary(b -> b.withMaxQueued(1).withMaxLagMs(1));
    enqueue(rt, batch("a", 1, 5), 0);
    assertRefused(rt, Reason.QUEUE_FULL, () -> rt.enqueueBatch(withLag(batch("b", 1, 6), 9), 0));
  }

  @Test
  void enqueue_checksRunInSpecOrder_dedupIsAnsweredEvenWhileDrainingOrFull() {
    PipelineRuntime rt = runtimeWithBoundary(b -> b.withMaxQueued(1));
    enqueue(rt, batch("a", 1, 5), 0);
    rt.applyAction(new OperatorAction.Drain(), 0);

    assertThat(rt.enqueueBatch(batch("a", 1, 5), 0)).isTrue();
    assertRefused(rt, Reason.IDEMPOTENCY_CONFLICT, () -> rt.enqueueBatch(batch("a", 1, 6), 0));
  }
}
