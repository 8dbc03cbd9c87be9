package dev.lightspeed.orchestrator.security;

import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import io.grpc.MethodDescriptor;
import java.util.Locale;
import java.util.Map;

/**
 * What a bearer token may do. Every OrchestratorService RPC needs exactly one role; a token has a
 * list of roles and may call an RPC when the list holds that RPC's role. No role implies another
 * (an admin token that should also read lists {@code admin,reader}). The health and reflection
 * services need no token at all.
 */
public enum Role {
  /** EnqueueBatch, EnqueueBatches. */
  PRODUCER,
  /** StartAvailable, AckBatch, AckBatches, FailBatch, ExtendLease, Work. */
  WORKER,
  /** ApplyAction, StartRun, CompleteRun. */
  OPERATOR,
  /**
   * CreatePipeline, UpdatePipeline, DeletePipeline, GetClusterStatus, AddClusterNode,
   * RemoveClusterNode.
   */
  ADMIN,
  /** GetPipeline, ListPipelines, the List* RPCs, GetStatus, WatchStarted, WatchEvents. */
  READER;

  /** The RPC's role, by full method name; an RPC missing here is refused to every token. */
  private static final Map<String, Role> BY_METHOD =
      Map.ofEntries(
          entry(OrchestratorServiceGrpc.getEnqueueBatchMethod(), PRODUCER),
          entry(OrchestratorServiceGrpc.getEnqueueBatchesMethod(), PRODUCER),
          entry(OrchestratorServiceGrpc.getStartAvailableMethod(), WORKER),
          entry(OrchestratorServiceGrpc.getAckBatchMethod(), WORKER),
          entry(OrchestratorServiceGrpc.getAckBatchesMethod(), WORKER),
          entry(OrchestratorServiceGrpc.getFailBatchMethod(), WORKER),
          entry(OrchestratorServiceGrpc.getExtendLeaseMethod(), WORKER),
          entry(OrchestratorServiceGrpc.getWorkMethod(), WORKER),
          entry(OrchestratorServiceGrpc.getApplyActionMethod(), OPERATOR),
          entry(OrchestratorServiceGrpc.getStartRunMethod(), OPERATOR),
          entry(OrchestratorServiceGrpc.getCompleteRunMethod(), OPERATOR),
          entry(OrchestratorServiceGrpc.getCreatePipelineMethod(), ADMIN),
          entry(OrchestratorServiceGrpc.getUpdatePipelineMethod(), ADMIN),
          entry(OrchestratorServiceGrpc.getDeletePipelineMethod(), ADMIN),
          entry(OrchestratorServiceGrpc.getGetClusterStatusMethod(), ADMIN),
          entry(OrchestratorServiceGrpc.getAddClusterNodeMethod(), ADMIN),
          entry(OrchestratorServiceGrpc.getRemoveClusterNodeMethod(), ADMIN),
          entry(OrchestratorServiceGrpc.getGetPipelineMethod(), READER),
          entry(OrchestratorServiceGrpc.getListPipelinesMethod(), READER),
          entry(OrchestratorServiceGrpc.getListBatchesMethod(), READER),
          entry(OrchestratorServiceGrpc.getListRetriesMethod(), READER),
          entry(OrchestratorServiceGrpc.getListDeadLettersMethod(), READER),
          entry(OrchestratorServiceGrpc.getListRunsMethod(), READER),
          entry(OrchestratorServiceGrpc.getListAuditLogMethod(), READER),
          entry(OrchestratorServiceGrpc.getGetStatusMethod(), READER),
          entry(OrchestratorServiceGrpc.getWatchStartedMethod(), READER),
          entry(OrchestratorServiceGrpc.getWatchEventsMethod(), READER));

  private static Map.Entry<String, Role> entry(MethodDescriptor<?, ?> method, Role role) {
    return Map.entry(method.getFullMethodName(), role);
  }

  /** The role that the RPC needs, or null for an RPC of another service or an unmapped one. */
  public static Role of(String fullMethodName) {
    return BY_METHOD.get(fullMethodName);
  }

  /** The name as written in the token file: lower case. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses a token-file role name; null if there is no such role. */
  static Role parse(String label) {
    for (Role r : values()) {
      if (r.label().equals(label)) {
        return r;
      }
    }
    return null;
  }
}
