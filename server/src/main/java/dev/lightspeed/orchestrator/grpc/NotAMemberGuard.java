package dev.lightspeed.orchestrator.grpc;

import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.host.ServerReason;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;

/**
 * A cluster node that is not a member of the cluster (removed with RemoveClusterNode, or started
 * with --join and not added yet) refuses every call FAILED_PRECONDITION NOT_A_MEMBER, naming the
 * members to call instead (docs/cluster.md, "Membership"): it no longer hears of membership
 * changes, so its routing would drift, and a removed node's replicas are gone. GetClusterStatus
 * is still answered (an operator can see what the node holds).
 */
public final class NotAMemberGuard implements ServerInterceptor {
  private final ClusterRouting cluster;

  public NotAMemberGuard(ClusterRouting cluster) {
    this.cluster = cluster;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String why = call.getMethodDescriptor().getFullMethodName().equals(
        OrchestratorServiceGrpc.getGetClusterStatusMethod().getFullMethodName())
        ? null : cluster.notAMember();
    if (why == null) {
      return next.startCall(call, headers);
    }
    StatusRuntimeException refusal =
        ErrorMapper.toException(Rejection.of(ServerReason.NOT_A_MEMBER, why), null, "");
    call.close(refusal.getStatus(),
        refusal.getTrailers() == null ? new Metadata() : refusal.getTrailers());
    return new ServerCall.Listener<>() {};
  }
}
