package dev.lightspeed.orchestrator.core;

import java.util.Objects;

/**
 * A refused call: a stable {@link RefusalReason} (one of the core's {@link Reason}s, or one the
 * server adds), a message that says what to change, and, for invalid input, the offending field's
 * path (e.g. {@code boundary.max_in_flight}, {@code key}).
 *
 * <p>Rejections are ordinary outcomes under load (a full queue, a stale worker), so they carry no
 * stack trace: creating one costs an allocation, not a stack walk.
 */
public final class Rejection extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** How long a client should wait before retrying a backpressure refusal. */
  public static final long BACKPRESSURE_RETRY_AFTER_MS = 1_000;

  private final RefusalReason reason;
  private final String field;
  private final java.util.Map<String, String> metadata;

  private Rejection(
      RefusalReason reason, String field, String message, java.util.Map<String, String> metadata) {
    super(message, null, false, false);
    this.reason = Objects.requireNonNull(reason);
    this.field = field;
    this.metadata = java.util.Map.copyOf(metadata);
  }

  private Rejection(RefusalReason reason, String field, String message) {
    this(reason, field, message, java.util.Map.of());
  }

  /** A refusal with machine-readable details (ErrorInfo metadata), e.g. oldest_event_id. */
  public static Rejection withMetadata(
      RefusalReason reason, String message, java.util.Map<String, String> metadata) {
    return new Rejection(reason, null, message, metadata);
  }

  /** Machine-readable details of the refusal; empty for most. */
  public java.util.Map<String, String> metadata() {
    return metadata;
  }

  public static Rejection of(RefusalReason reason, String message) {
    return new Rejection(reason, null, message);
  }

  /** A refusal caused by one input field, named by its path in the request. */
  public static Rejection ofField(RefusalReason reason, String field, String message) {
    return new Rejection(reason, Objects.requireNonNull(field), field + ": " + message);
  }

  public RefusalReason reason() {
    return reason;
  }

  /** The offending field's path, or {@code null} when the refusal is not about one field. */
  public String field() {
    return field;
  }

  /** The suggested client back-off for RESOURCE_EXHAUSTED reasons, else 0. */
  public long retryAfterMs() {
    return reason == Reason.QUEUE_FULL || reason == Reason.LAG_EXCEEDED
        ? BACKPRESSURE_RETRY_AFTER_MS
        : 0;
  }

  @Override
  public String toString() {
    return reason + ": " + getMessage();
  }
}
