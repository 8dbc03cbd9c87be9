package dev.lightspeed.orchestrator.client.errors;

/**
 * QUEUE_FULL: the pipeline already holds {@code max_queued} waiting batches. Not retried
 * automatically: wait {@link #retryDelay()}, then enqueue again with the same idempotency key.
 */
public final class QueueFullException extends ResourceExhaustedException {
  private static final long serialVersionUID = 1L;

  QueueFullException(RpcError error, Throwable cause) {
    super(error, cause);
  }
}
