package dev.lightspeed.orchestrator.server;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * How a cluster node reaches the Raft group of a pipeline: what {@link ClusterGrpcService} needs
 * of the replication package, which implements it over Apache Ratis (so the arrow runs from
 * replication to the server only). Each call goes to the group's leader wherever it is; a future
 * fails when the group has no leader within the client's retries.
 */
public interface ClusterRouting {
  /** Replicates a log entry ({@link GroupState#entry}); completes with the leader's apply reply. */
  CompletableFuture<byte[]> write(String pipeline, byte[] entry);

  /** A linearizable read (Raft read index) of the pipeline's group ({@link GroupState#query}). */
  CompletableFuture<byte[]> read(String pipeline, byte[] query);

  /** The same linearizable read of every group, in group order (ListPipelines). */
  CompletableFuture<List<byte[]>> readEveryGroup(byte[] query);

  /**
   * This node's replica of the pipeline's group, or null when this node is not one of the group's
   * members: the watch streams are served from the entries the local replica applies.
   */
  GroupState localReplica(String pipeline);

  /** The members of the pipeline's group (for messages). */
  java.util.List<String> membersOf(String pipeline);

  /** The group that holds the pipeline (for messages). */
  int groupOf(String pipeline);
}
