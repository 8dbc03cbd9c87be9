package dev.lightspeed.orchestrator.core;

/**
 * The rules of enqueue_batch (SPEC 3.1): the checks in the SPEC's order, then the enqueue. Apart
 * from {@link PipelineRuntime}, which applies it, so that the runtime holds only what every
 * command shares (clock, version, snapshot); the checks of the batch itself and of its connectors
 * are {@link EnqueueChecks}.
 */
final class EnqueueHandler {
  private final PipelineState state;
  private final Changes changes;

  EnqueueHandler(PipelineState state, Changes changes) {
    this.state = state;
    this.changes = changes;
  }

  /**
   * Enqueues one batch. Returns {@code true} when it was a repeat of an accepted enqueue with the
   * same idempotency key (answered, nothing changed), {@code false} when it was enqueued.
   */
  boolean enqueue(Batch batch, long now) {
    EnqueueChecks.validate(batch);
    Accepted seen = state.acceptedByIdempotencyKey(batch.idempotencyKey());
    if (seen != null && (seen.isLive() || now - seen.leftAtMs() < state.spec.dedupWindowMs())) {
      if (seen.sameEnqueueAs(batch)) {
        return true;
      }
      throw Rejection.of(
          Reason.IDEMPOTENCY_CONFLICT,
          "idempotency_key '" + Text.printable(batch.idempotencyKey()) + "' was already used for"
              + " batch '" + Text.printable(seen.batchKey()) + "' with different contents; send the"
              + " same key, stage, records and sequence again, or use a new idempotency key");
    }
    if (state.live.containsKey(batch.key())) {
      throw Rejection.of(
          Reason.BATCH_KEY_EXISTS,
          "a live batch with key '" + Text.printable(batch.key()) + "' already exists; use a new"
              + " key, or wait until that batch is done, cancelled or discarded");
    }
    StageState stage = EnqueueChecks.connectorChecks(state, batch);
    if (state.baseMode == PipelineMode.DRAINING) {
      throw Rejection.of(
          Reason.PIPELINE_DRAINING,
          "pipeline '" + state.spec.name() + "' is draining and accepts no new batches; RESUME it"
              + " first");
    }
    // Sequence 0 means "no sequence" (SPEC 3.1 check 6, version 2): not checked, not recorded.
    if (batch.sequence() > 0 && stage.hasSequence && batch.sequence() <= stage.lastSequence) {
      throw Rejection.of(
          Reason.SEQUENCE_REGRESSION,
          "sequence " + batch.sequence() + " is not greater than the last accepted sequence "
              + stage.lastSequence + " of stage '" + stage.name + "'; send a sequence above "
              + stage.lastSequence);
    }
    Boundary boundary = state.spec.boundary();
    if (state.queuedCount >= boundary.maxQueued()) {
      throw Rejection.of(
          Reason.QUEUE_FULL,
          "pipeline '" + state.spec.name() + "' has " + state.queuedCount + " batches waiting,"
              + " its max_queued is " + boundary.maxQueued() + "; retry after workers catch up");
    }
    if (boundary.maxLagMs() > 0 && batch.lagMs() > boundary.maxLagMs()) {
      throw Rejection.of(
          Reason.LAG_EXCEEDED,
          "lag_ms " + batch.lagMs() + " exceeds the pipeline's max_lag_ms " + boundary.maxLagMs()
              + "; retry when the source has caught up");
    }
    state.forgetExpired(now);
    state.enqueue(batch, now);
    state.events.append(EventType.ENQUEUED, now, batch);
    changes.changed();
    return false;
  }
}
