package dev.lightspeed.orchestrator.grpc;

import dev.lightspeed.orchestrator.host.PipelineHandle;
import dev.lightspeed.orchestrator.host.PipelineRegistry;
import dev.lightspeed.orchestrator.metrics.ServerMetrics;
import dev.lightspeed.orchestrator.v1.WorkRequest;
import dev.lightspeed.orchestrator.v1.WorkResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Clock;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;

/**
 * The Work RPC's shared parts: where streams and dispatchers run, their timer thread, the
 * capacity limit, and the per-pipeline {@link WorkDispatcher}s (created with a pipeline's first
 * Work stream and kept by its {@link PipelineHandle}).
 */
public final class WorkStreams {
  /** The largest `open.capacity` a stream may ask for. */
  public static final int MAX_CAPACITY = 1000;

  /**
   * One daemon thread arms every dispatcher's wake-up: a timer task only schedules a pump on
   * {@link #executor}, so one thread serves any number of pipelines and servers.
   */
  static final ScheduledExecutorService TIMERS = timers();

  private final PipelineRegistry registry;
  private final Clock clock;
  private final Executor executor;
  /** Null when metrics are off. */
  private final ServerMetrics metrics;

  WorkStreams(PipelineRegistry registry, Clock clock, Executor executor, ServerMetrics metrics) {
    this.registry = registry;
    this.clock = clock;
    this.executor = executor;
    this.metrics = metrics;
  }

  /** Starts one Work call: the returned observer takes the client's requests. */
  StreamObserver<WorkRequest> open(StreamObserver<WorkResponse> out) {
    return new WorkStream(this, (ServerCallStreamObserver<WorkResponse>) out);
  }

  PipelineRegistry registry() {
    return registry;
  }

  Clock clock() {
    return clock;
  }

  Executor executor() {
    return executor;
  }

  int maxCapacity() {
    return MAX_CAPACITY;
  }

  WorkDispatcher dispatcher(PipelineHandle handle) {
    return handle.workDispatcher(
        () -> new WorkDispatcher(handle, clock, executor, TIMERS, metrics));
  }

  private static ScheduledExecutorService timers() {
    ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "work-stream-timer");
      t.setDaemon(true);
      return t;
    });
    timers.setRemoveOnCancelPolicy(true);
    return timers;
  }
}
