package dev.lightspeed.orchestrator.core;

/**
 * Stable, machine-readable reasons for refusing a call. Each reason belongs to exactly one {@link
 * Category}, wherever it occurs; the server maps the category to a gRPC status code and sends the
 * reason as {@code google.rpc.ErrorInfo.reason}.
 */
public enum Reason {
  INVALID_BATCH(Category.INVALID_ARGUMENT),
  INVALID_FAILURE(Category.INVALID_ARGUMENT),
  INVALID_ACTION(Category.INVALID_ARGUMENT),
  INVALID_PIPELINE_SPEC(Category.INVALID_ARGUMENT),
  /** A request field outside its documented range that no other reason covers (e.g. page_size). */
  INVALID_REQUEST(Category.INVALID_ARGUMENT),
  /** The request message is not a valid protobuf encoding of the RPC's request type. */
  MALFORMED_REQUEST(Category.INVALID_ARGUMENT),
  /** A bulk request (EnqueueBatches, AckBatches) has more items than the server's limit. */
  TOO_MANY_ITEMS(Category.INVALID_ARGUMENT),
  /** update_pipeline's mask is empty, names an unknown path, or names {@code name} (SPEC 3.9). */
  INVALID_UPDATE_MASK(Category.INVALID_ARGUMENT),

  PIPELINE_NOT_FOUND(Category.NOT_FOUND),
  BATCH_NOT_FOUND(Category.NOT_FOUND),
  CONNECTOR_NOT_FOUND(Category.NOT_FOUND),

  PIPELINE_EXISTS(Category.ALREADY_EXISTS),
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
  PIPELINE_NOT_EMPTY(Category.FAILED_PRECONDITION),
  /** An update would make a stage ordered while more than one of its batches is in flight. */
  STAGE_IN_FLIGHT(Category.FAILED_PRECONDITION),

  QUEUE_FULL(Category.RESOURCE_EXHAUSTED),
  LAG_EXCEEDED(Category.RESOURCE_EXHAUSTED),
  /** A WatchStarted client fell behind and its bounded buffer overflowed. */
  WATCH_BUFFER_FULL(Category.RESOURCE_EXHAUSTED),
  /** The pipeline already has as many WatchStarted streams as the server allows. */
  TOO_MANY_WATCHERS(Category.RESOURCE_EXHAUSTED),
  /** The server already hosts as many pipelines as it allows. */
  TOO_MANY_PIPELINES(Category.RESOURCE_EXHAUSTED),

  /** The call carries no {@code authorization: Bearer <token>} header, and the server needs one. */
  MISSING_CREDENTIALS(Category.UNAUTHENTICATED),
  /** The call's bearer token is malformed or not one the server knows. */
  INVALID_CREDENTIALS(Category.UNAUTHENTICATED),

  /** The call's token is valid but lacks the role that the RPC needs. */
  ROLE_REQUIRED(Category.PERMISSION_DENIED),

  STALE_ATTEMPT(Category.ABORTED),

  /**
   * The journal could not write or fsync; the server refuses every call that would report state
   * that may not be on disk, until it is restarted (docs/durability.md).
   */
  JOURNAL_UNAVAILABLE(Category.UNAVAILABLE),

  /** WatchEvents resumed after an event older than the oldest retained one (SPEC 3.10). */
  EVENTS_EXPIRED(Category.OUT_OF_RANGE);

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

  public Category category() {
    return category;
  }
}
