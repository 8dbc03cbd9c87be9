package dev.lightspeed.orchestrator.client.errors;

/**
 * ABORTED, STALE_ATTEMPT: the attempt in an ack or heartbeat is not the batch's current one. The
 * caller's lease was lost (it expired and the batch was started again, possibly elsewhere); its
 * result must be dropped, not retried.
 */
public final class StaleAttemptException extends OrchestratorException {
  private static final long serialVersionUID = 1L;

  StaleAttemptException(RpcError error, Throwable cause) {
    super(error, cause);
  }
}
