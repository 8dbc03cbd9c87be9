package dev.lightspeed.orchestrator.grpc;

import dev.lightspeed.orchestrator.host.PipelineHandle;
import dev.lightspeed.orchestrator.v1.WorkRequest;
import dev.lightspeed.orchestrator.v1.WorkResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Clock;
import java.util.concurrent.Executor;

/**
 * The Work RPC on a cluster node (docs/cluster.md, "The Work stream on a cluster"): where its
 * streams and dispatchers run and what they reach the pipeline's Raft group through. A
 * pipeline's {@link ClusterWorkDispatcher} is kept by the node's own replica of the pipeline
 * (its handle, as one server's dispatcher is), which tells it of every change it applies.
 */
final class ClusterWorkStreams {
  private final ClusterRouting routing;
  private final Clock clock;
  private final Executor executor;

  ClusterWorkStreams(ClusterRouting routing, Clock clock, Executor executor) {
    this.routing = routing;
    this.clock = clock;
    this.executor = executor;
  }

  /** Starts one Work call: the returned observer takes the client's requests. */
  StreamObserver<WorkRequest> open(StreamObserver<WorkResponse> out) {
    return new ClusterWorkStream(this, (ServerCallStreamObserver<WorkResponse>) out);
  }

  ClusterRouting routing() {
    return routing;
  }

  Clock clock() {
    return clock;
  }

  Executor executor() {
    return executor;
  }

  /** The dispatcher of {@code replica}, this node's replica of the pipeline. */
  ClusterWorkDispatcher dispatcher(PipelineHandle replica) {
    return replica.workDispatcher(() -> new ClusterWorkDispatcher(
        routing, replica, clock, executor, WorkStreams.TIMERS));
  }
}
