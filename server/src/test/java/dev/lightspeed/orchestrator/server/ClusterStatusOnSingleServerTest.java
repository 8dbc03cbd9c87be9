package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.RpcErrors.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.v1.GetClusterStatusRequest;
import io.grpc.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * GetClusterStatus, AddClusterNode and RemoveClusterNode on a server not started with --cluster:
 * refused, saying so (docs/cluster.md).
 */
class ClusterStatusOnSingleServerTest {
  @RegisterExtension final GrpcServerExtension grpc = GrpcServerExtension.inProcess();

  @Test
  void aSingleServerRefusesWithFailedPreconditionNotACluster() {
    var status = assertRefused(
        () -> grpc.blocking().getClusterStatus(GetClusterStatusRequest.getDefaultInstance()),
        Status.Code.FAILED_PRECONDITION, "NOT_A_CLUSTER");
    assertThat(status.getMessage()).contains("not a cluster node").contains("--cluster");
  }

  @Test
  void membershipChangesOnASingleServerAreRefusedNotACluster() {
    var add = assertRefused(() -> grpc.blocking().addClusterNode(
        dev.lightspeed.orchestrator.v1.AddClusterNodeRequest.newBuilder().setPeer(
            dev.lightspeed.orchestrator.v1.ClusterPeer.newBuilder().setId("n4")
                .setRaftAddress("127.0.0.1:6004").setApiAddress("127.0.0.1:50054")).build()),
        Status.Code.FAILED_PRECONDITION, "NOT_A_CLUSTER");
    assertThat(add.getMessage()).contains("no nodes to add or remove");
    assertRefused(() -> grpc.blocking().removeClusterNode(
        dev.lightspeed.orchestrator.v1.RemoveClusterNodeRequest.newBuilder().setNodeId("n1")
            .build()), Status.Code.FAILED_PRECONDITION, "NOT_A_CLUSTER");
  }
}
