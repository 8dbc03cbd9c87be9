package dev.lightspeed.orchestrator.client.errors;

/**
 * LAG_EXCEEDED: the batch's {@code lag_ms} is above the pipeline's {@code max_lag_ms}. Wait
 * {@link #retryDelay()} and try again, or give up on the batch.
 */
public final class LagExceededException extends ResourceExhaustedException {
  private static final long serialVersionUID = 1L;

  LagExceededException(RpcError error, Throwable cause) {
    super(error, cause);
  }
}
