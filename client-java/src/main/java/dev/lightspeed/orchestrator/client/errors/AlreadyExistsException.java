package dev.lightspeed.orchestrator.client.errors;

/** ALREADY_EXISTS: PIPELINE_EXISTS, BATCH_KEY_EXISTS or IDEMPOTENCY_CONFLICT. */
public class AlreadyExistsException extends OrchestratorException {
  private static final long serialVersionUID = 1L;

  AlreadyExistsException(RpcError error, Throwable cause) {
    super(error, cause);
  }
}
