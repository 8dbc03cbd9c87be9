package dev.lightspeed.orchestrator.core;

/** Checks 1 (validation) and 4 (connectors) of enqueue_batch, SPEC 3.1. */
final class EnqueueChecks {
  private EnqueueChecks() {}

  /** Check 1: the batch's own fields. */
  static void validate(Batch batch) {
    requireKey("key", batch.key());
    requireKey("idempotency_key", batch.idempotencyKey());
    if (batch.stage() == null || batch.stage().isEmpty()) {
      throw invalid("stage", "give the stage to enqueue to");
    }
    if (batch.records() < 1) {
      throw invalid("records", "must be ≥ 1 (got " + batch.records() + ")");
    }
    if (batch.lagMs() < 0) {
      throw invalid("lag_ms", "must be ≥ 0 (got " + batch.lagMs() + ")");
    }
    if (batch.sequence() < 0) {
      throw invalid("sequence", "must be ≥ 0 (got " + batch.sequence() + ")");
    }
  }

  /** Check 4: the stage exists, has an enabled connector, and the batch fits. */
  static StageState connectorChecks(PipelineState state, Batch batch) {
    StageState stage = state.stages.get(batch.stage());
    if (stage == null) {
      throw Rejection.ofField(
          Reason.UNKNOWN_STAGE,
          "stage",
          "pipeline '" + state.spec.name() + "' has no stage '" + Text.printable(batch.stage())
              + "'; use one of " + state.spec.stages());
    }
    if (!stage.hasConnector() && !state.spec.allowUnboundStages()) {
      throw Rejection.of(
          Reason.NO_CONNECTOR,
          "stage '" + stage.name + "' has no connector; add one to the pipeline, or set"
              + " allow_unbound_stages");
    }
    Connector disabled = stage.disabledConnector();
    if (disabled != null) {
      throw Rejection.of(
          Reason.CONNECTOR_DISABLED,
          "connector '" + disabled.name() + "' of stage '" + stage.name + "' is disabled;"
              + " ENABLE_CONNECTOR it first");
    }
    for (Connector c : stage.connectors) {
      if (c.maxBatchRecords() > 0 && batch.records() > c.maxBatchRecords()) {
        throw Rejection.of(
            Reason.BATCH_TOO_LARGE,
            "batch has " + batch.records() + " records, connector '" + c.name() + "' takes at"
                + " most " + c.maxBatchRecords() + "; split the batch");
      }
    }
    long budget = state.spec.boundary().maxInFlightRecords();
    if (budget > 0 && batch.records() > budget) {
      throw Rejection.of(
          Reason.BATCH_TOO_LARGE,
          "batch has " + batch.records() + " records, more than the pipeline's"
              + " max_in_flight_records " + budget + ", so it could never start; split the batch");
    }
    return stage;
  }

  private static void requireKey(String field, String value) {
    if (value == null || value.isEmpty()) {
      throw invalid(field, "must not be empty");
    }
    if (Text.utf8Length(value) > Text.MAX_KEY_BYTES) {
      throw invalid(field, "must be at most " + Text.MAX_KEY_BYTES + " bytes of UTF-8");
    }
    if (Text.hasControlCharacter(value)) {
      throw invalid(
          field, "must not contain control characters (U+0000-U+001F, U+007F-U+009F)");
    }
  }

  private static Rejection invalid(String field, String message) {
    return Rejection.ofField(Reason.INVALID_BATCH, field, message);
  }
}
