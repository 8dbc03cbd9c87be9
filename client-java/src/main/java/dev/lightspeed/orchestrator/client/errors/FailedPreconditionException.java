package dev.lightspeed.orchestrator.client.errors;

/**
 * FAILED_PRECONDITION: the call is valid but the state does not allow it (UNKNOWN_STAGE,
 * NO_CONNECTOR, CONNECTOR_DISABLED, BATCH_TOO_LARGE, PIPELINE_DRAINING, SEQUENCE_REGRESSION,
 * NOT_IN_FLIGHT, NOT_DEAD_LETTERED, NOT_CANCELLABLE, PIPELINE_NOT_EMPTY, STAGE_IN_FLIGHT). Retrying the same call
 * does not help until the state changes.
 */
public class FailedPreconditionException extends OrchestratorException {
  private static final long serialVersionUID = 1L;

  FailedPreconditionException(RpcError error, Throwable cause) {
    super(error, cause);
  }
}
