package dev.lightspeed.orchestrator.grpc;

import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.host.PipelineRegistry;
import dev.lightspeed.orchestrator.host.ServerReason;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What the streams a cluster node serves from its own replica share (WatchStarted, WatchEvents,
 * Work): finding that replica once the pipeline is known to exist, and the refusal when the
 * pipeline's group has no leader.
 */
final class ClusterReplicas {
  /** How long opening a stream waits for the group's read and for this replica to catch up. */
  static final long OPEN_WAIT_MS = 5_000;

  private ClusterReplicas() {}

  /**
   * This node's replica of {@code pipeline}, once a linearizable read says the pipeline exists
   * (PIPELINE_NOT_FOUND as on one node) and the replica has applied its creation (waited for up to
   * {@link #OPEN_WAIT_MS}, else UNAVAILABLE). A stream of a pipeline whose group does not include
   * this node is relayed to a member before it gets here ({@link StreamRelay}); one that finds no
   * replica all the same (a membership change moved the group away since) is refused
   * FAILED_PRECONDITION naming the members. Blocks the calling thread meanwhile.
   *
   * @throws StatusRuntimeException the refusal to send
   */
  static PipelineRegistry awaitLocal(ClusterRouting routing, String pipeline, String what) {
    PipelineRegistry replica = routing.localReplica(pipeline);
    if (replica == null) {
      throw Status.FAILED_PRECONDITION.withDescription("this node holds no replica of"
              + " pipeline '" + pipeline + "' (Raft group " + routing.groupOf(pipeline) + "):"
              + " " + what + " through one of its group's nodes " + routing.membersOf(pipeline))
          .asRuntimeException();
    }
    byte[] query = ClusterEntries.query(ClusterEntries.Read.GET_PIPELINE, pipeline, new byte[0]);
    try {
      byte[] bytes = routing.read(pipeline, query).get(OPEN_WAIT_MS, TimeUnit.MILLISECONDS);
      if (ReplyCodec.decode(bytes) instanceof Rejection r) {
        throw ErrorMapper.toException(r, pipeline, "");
      }
      // The leader answered the read; this replica may apply the creation a moment later.
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(OPEN_WAIT_MS);
      while (!replica.exists(pipeline)) {
        if (System.nanoTime() > deadline) {
          throw Status.UNAVAILABLE.withDescription("this node's replica has not applied"
                  + " the creation of pipeline '" + pipeline + "' within " + OPEN_WAIT_MS
                  + " ms (it is behind its group's leader); " + what + " again, or through"
                  + " another node of " + routing.membersOf(pipeline))
              .asRuntimeException();
        }
        Thread.sleep(10);
      }
    } catch (ExecutionException | TimeoutException e) {
      throw unavailable(routing, pipeline, e instanceof ExecutionException ? e.getCause() : e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Status.CANCELLED.withDescription("the server is stopping").asRuntimeException();
    }
    return replica;
  }

  /**
   * The group had no leader that answered within the Raft client's retries: UNAVAILABLE with
   * reason JOURNAL_UNAVAILABLE (docs/cluster.md, "No leader → UNAVAILABLE").
   */
  static StatusRuntimeException unavailable(
      ClusterRouting routing, String pipeline, Throwable failure) {
    Throwable cause = failure instanceof CompletionException && failure.getCause() != null
        ? failure.getCause() : failure;
    String where = pipeline == null
        ? "a Raft group of the cluster"
        : "Raft group " + routing.groupOf(pipeline) + " (which holds pipeline '" + pipeline + "')";
    return ErrorMapper.toException(Rejection.of(ServerReason.JOURNAL_UNAVAILABLE,
        where + " has no leader that answered: " + cause.getMessage()
            + "; a group needs a majority of its nodes up. Nothing is known to be applied;"
            + " retry the call (an enqueue retried with the same key is deduplicated)"),
        pipeline, "");
  }
}
