package dev.lightspeed.orchestrator.server;

import dev.lightspeed.orchestrator.core.PipelineQueries;
import dev.lightspeed.orchestrator.core.PipelineRuntime;
import dev.lightspeed.orchestrator.core.Reason;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.core.StartResult;
import dev.lightspeed.orchestrator.core.StartedBatch;
import dev.lightspeed.orchestrator.v1.WatchStartedResponse;
import io.grpc.StatusRuntimeException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * One hosted pipeline: its runtime, the lock that applies its calls one at a time, and its
 * WatchStarted streams. Calls on different pipelines never share a lock.
 */
final class PipelineHandle {
  private final PipelineRuntime runtime;
  private final List<Watcher> watchers = new CopyOnWriteArrayList<>();
  /** Set under the lock when the pipeline is deleted; later calls see PIPELINE_NOT_FOUND. */
  private boolean deleted;

  PipelineHandle(PipelineRuntime runtime) {
    this.runtime = runtime;
  }

  String name() {
    return runtime.name();
  }

  /** Applies one command; the lock orders it against every other call on this pipeline. */
  synchronized <T> T apply(Function<PipelineRuntime, T> command) {
    ensureLive();
    return command.apply(runtime);
  }

  /** A consistent read. */
  synchronized <T> T read(Function<PipelineQueries, T> query) {
    ensureLive();
    return query.apply(runtime.queries());
  }

  /**
   * start_available, and the started batches offered to every watcher while still under the lock,
   * so that each watcher sees all starts in start order.
   */
  synchronized StartResult start(long nowMs, int maxBatches, Set<String> stages) {
    ensureLive();
    StartResult result = runtime.startAvailable(nowMs, maxBatches, stages);
    if (!watchers.isEmpty()) {
      for (StartedBatch s : result.started()) {
        WatchStartedResponse message =
            WatchStartedResponse.newBuilder().setStarted(ProtoMapper.toProto(s)).build();
        for (Watcher w : watchers) {
          w.offer(message);
        }
      }
    }
    return result;
  }

  synchronized void addWatcher(Watcher watcher) {
    ensureLive();
    watchers.add(watcher);
  }

  void removeWatcher(Watcher watcher) {
    watchers.remove(watcher);
  }

  /** Marks the pipeline deleted unless it has live batches and {@code force} is false. */
  synchronized void delete(boolean force) {
    ensureLive();
    long live = runtime.queries().liveCount();
    if (live > 0 && !force) {
      throw Rejection.of(
          Reason.PIPELINE_NOT_EMPTY,
          "pipeline '" + name() + "' still has " + live + " live batches; drain it first, or"
              + " delete with force=true to drop them");
    }
    deleted = true;
    StatusRuntimeException gone =
        ErrorMapper.toException(notFound(name()), name(), "");
    for (Watcher w : watchers) {
      w.close(gone);
    }
  }

  /** Ends every watch stream, e.g. at shutdown. */
  void closeWatchers(StatusRuntimeException status) {
    for (Watcher w : watchers) {
      w.close(status);
    }
  }

  private void ensureLive() {
    if (deleted) {
      throw notFound(name());
    }
  }

  static Rejection notFound(String name) {
    return Rejection.of(
        Reason.PIPELINE_NOT_FOUND,
        "no pipeline named '" + name + "'; ListPipelines shows the pipelines, CreatePipeline"
            + " adds one");
  }
}
