package dev.lightspeed.orchestrator.client.errors;

import io.grpc.Status;
import java.util.Map;

/** What {@link OrchestratorErrors} decoded from a status; the constructor argument of the types. */
record RpcError(
    Status.Code code, String reasonName, Map<String, String> metadata, com.google.rpc.Status status) {}
