package dev.lightspeed.orchestrator.grpc;

import dev.lightspeed.orchestrator.host.PipelineRegistry;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * How a cluster node reaches the Raft group of a pipeline: what {@link ClusterGrpcService} needs
 * of the replication package, which implements it over Apache Ratis (so the arrow runs from
 * replication to the gRPC adapter only). Each call goes to the group's leader wherever it is; a future
 * fails when the group has no leader within the client's retries.
 */
public interface ClusterRouting {
  /** Replicates a log entry ({@link ClusterEntries#entry}); completes with the leader's reply. */
  CompletableFuture<byte[]> write(String pipeline, byte[] entry);

  /** A write's reply and the Raft log index it was applied at. */
  record Applied(byte[] reply, long index) {}

  /** As {@link #write}, with the index of the entry (a Work stream's starts need it). */
  CompletableFuture<Applied> writeApplied(String pipeline, byte[] entry);

  /**
   * The last log index this node's replica of the pipeline's group has applied, -1 when this node
   * is not one of its members: a Work stream counts a batch it started as unfinished at least
   * until its replica has applied that start.
   */
  long localAppliedIndex(String pipeline);

  /** A linearizable read (Raft read index) of the pipeline's group ({@link ClusterEntries#query}). */
  CompletableFuture<byte[]> read(String pipeline, byte[] query);

  /** The same linearizable read of every group, in group order (ListPipelines). */
  CompletableFuture<List<byte[]>> readEveryGroup(byte[] query);

  /**
   * A read with {@code stale_ok}: answered by this node's own replica of the pipeline's group as
   * it is, with no Raft round (so also while the group has no leader); a linearizable read
   * ({@link #read}) when this node is not one of the group's members.
   */
  CompletableFuture<byte[]> readStale(String pipeline, byte[] query);

  /**
   * ListPipelines with {@code stale_ok}, in group order: the groups this node is a member of
   * answered by its replicas, the others read linearizably.
   */
  CompletableFuture<List<byte[]>> readEveryGroupStale(byte[] query);

  /**
   * This node's replica of the pipeline's group, or null when this node is not one of the group's
   * members: the watch streams are served from the entries the local replica applies.
   */
  PipelineRegistry localReplica(String pipeline);

  /**
   * This node's replicas, one per group it is a member of: a graceful stop ends the watch and
   * Work streams they feed, as one server ends its own.
   */
  List<PipelineRegistry> localReplicas();

  /** The members of the pipeline's group (for messages). */
  List<String> membersOf(String pipeline);

  /** A member of a group as a relay reaches it: its node id and the API address it serves on. */
  record Member(String id, String apiAddress) {}

  /**
   * The members of the pipeline's group in the order a relayed stream tries them ({@link
   * StreamRelay}): the group's leader first when this node's Raft client knows it (the member's
   * stream writes through that leader anyway), then the group's placement order.
   */
  List<Member> relayOrder(String pipeline);

  /** This node's own view of its groups and of its replicas (GetClusterStatus). */
  dev.lightspeed.orchestrator.v1.GetClusterStatusResponse status() throws java.io.IOException;

  /** The group that holds the pipeline (for messages). */
  int groupOf(String pipeline);

  /**
   * Null while this node is a member of the cluster; otherwise why it is not (it was removed, or
   * it was started with --join and not added yet), for a FAILED_PRECONDITION NOT_A_MEMBER refusal.
   */
  String notAMember();

  /**
   * AddClusterNode, run by this node (docs/cluster.md, "Membership"); a refusal of the input is a
   * {@link dev.lightspeed.orchestrator.core.Rejection}, a group that did not answer an
   * IOException.
   */
  dev.lightspeed.orchestrator.v1.AddClusterNodeResponse addNode(
      dev.lightspeed.orchestrator.v1.ClusterPeer peer) throws java.io.IOException;

  /** RemoveClusterNode, as {@link #addNode}. */
  dev.lightspeed.orchestrator.v1.RemoveClusterNodeResponse removeNode(String nodeId)
      throws java.io.IOException;

  /**
   * Metrics are on: this node's replicas count the domain counters as they apply, and its Raft
   * figures join {@code metrics} (docs/operations.md, "Cluster metrics").
   */
  default void registerMetrics(dev.lightspeed.orchestrator.metrics.ServerMetrics metrics) {}

  /** The pipelines of this node's replicas, every group it is a member of ({@code /metrics}). */
  default List<dev.lightspeed.orchestrator.host.PipelineHandle> localPipelines() {
    return localReplicas().stream().flatMap(r -> r.all().stream()).toList();
  }
}
