package dev.lightspeed.orchestrator.client.errors;

/** NOT_FOUND: PIPELINE_NOT_FOUND, BATCH_NOT_FOUND or CONNECTOR_NOT_FOUND. */
public class NotFoundException extends OrchestratorException {
  private static final long serialVersionUID = 1L;

  NotFoundException(RpcError error, Throwable cause) {
    super(error, cause);
  }
}
