package dev.lightspeed.orchestrator.core;

/**
 * The stable, machine-readable reasons for which the core refuses a call; only those the core
 * produces (the server adds its own, see {@link RefusalReason}). Each reason belongs to exactly
 * one {@link Category}, wherever it occurs; the server maps the category to a gRPC status code
 * and sends the reason's name as {@code google.rpc.ErrorInfo.reason}, a value of the API's
 * {@code ErrorReason} enum (proto/lightspeed/orchestrator/v1/error_reason.proto).
 */
public enum Reason implements RefusalReason {
  INVALID_BATCH(Category.INVALID_ARGUMENT),
  INVALID_FAILURE(Category.INVALID_ARGUMENT),
  INVALID_ACTION(Category.INVALID_ARGUMENT),
  INVALID_PIPELINE_SPEC(Category.INVALID_ARGUMENT),
  /** update_pipeline's mask is empty, names an unknown path, or names {@code name} (SPEC 3.9). */
  INVALID_UPDATE_MASK(Category.INVALID_ARGUMENT),

  BATCH_NOT_FOUND(Category.NOT_FOUND),
  CONNECTOR_NOT_FOUND(Category.NOT_FOUND),

  BATCH_KEY_EXISTS(Category.ALREADY_EXISTS),
  IDEMPOTENCY_CONFLICT(Category.ALREADY_EXISTS),

  UNKNOWN_STAGE(Category.FAILED_PRECONDITION),
  NO_CONNECTOR(Category.FAILED_PRECONDITION),
  CONNECTOR_DISABLED(Category.FAILED_PRECONDITION),
  BATCH_TOO_LARGE(Category.FAILED_PRECONDITION),
  PIPELINE_DRAINING(Category.FAILED_PRECONDITION),
  SEQUENCE_REGRESSION(Category.FAILED_PRECONDITION),
  NOT_IN_FLIGHT(Category.FAILED_PRECONDITION),
  NOT_DEAD_LETTERED(Category.FAILED_PRECONDITION),
  NOT_CANCELLABLE(Category.FAILED_PRECONDITION),
  /** An update would make a stage ordered while more than one of its batches is in flight. */
  STAGE_IN_FLIGHT(Category.FAILED_PRECONDITION),

  QUEUE_FULL(Category.RESOURCE_EXHAUSTED),
  LAG_EXCEEDED(Category.RESOURCE_EXHAUSTED),

  STALE_ATTEMPT(Category.ABORTED);

  /** The kind of refusal; named after, but independent of, the gRPC status codes. */
  public enum Category {
    INVALID_ARGUMENT,
    NOT_FOUND,
    ALREADY_EXISTS,
    FAILED_PRECONDITION,
    RESOURCE_EXHAUSTED,
    ABORTED,
    OUT_OF_RANGE,
    UNAUTHENTICATED,
    PERMISSION_DENIED,
    UNAVAILABLE
  }

  private final Category category;

  Reason(Category category) {
    this.category = category;
  }

  @Override
  public Category category() {
    return category;
  }
}
