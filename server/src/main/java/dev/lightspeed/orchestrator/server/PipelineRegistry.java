package dev.lightspeed.orchestrator.server;

import dev.lightspeed.orchestrator.core.PipelineRuntime;
import dev.lightspeed.orchestrator.core.PipelineSpec;
import dev.lightspeed.orchestrator.core.Reason;
import dev.lightspeed.orchestrator.core.Rejection;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;

/** The pipelines hosted by one server, by name, in name order. */
final class PipelineRegistry {
  private final ConcurrentNavigableMap<String, PipelineHandle> pipelines =
      new ConcurrentSkipListMap<>();

  /** Creates a pipeline; INVALID_PIPELINE_SPEC or PIPELINE_EXISTS refuse it. */
  PipelineHandle create(PipelineSpec spec) {
    PipelineHandle handle = new PipelineHandle(PipelineRuntime.create(spec));
    if (pipelines.putIfAbsent(spec.name(), handle) != null) {
      throw Rejection.of(
          Reason.PIPELINE_EXISTS,
          "a pipeline named '" + spec.name() + "' already exists; pick another name, or"
              + " DeletePipeline it first");
    }
    return handle;
  }

  /** The pipeline named {@code name}, or PIPELINE_NOT_FOUND. */
  PipelineHandle get(String name) {
    PipelineHandle handle = pipelines.get(name);
    if (handle == null) {
      throw PipelineHandle.notFound(name);
    }
    return handle;
  }

  void delete(String name, boolean force) {
    PipelineHandle handle = get(name);
    handle.delete(force);
    pipelines.remove(name, handle);
  }

  /** Up to {@code limit} pipelines with names after {@code after} (null = from the start). */
  List<PipelineHandle> list(String after, int limit) {
    var tail = after == null ? pipelines : pipelines.tailMap(after, false);
    List<PipelineHandle> out = new ArrayList<>();
    for (PipelineHandle h : tail.values()) {
      if (out.size() == limit) {
        break;
      }
      out.add(h);
    }
    return out;
  }

  List<PipelineHandle> all() {
    return new ArrayList<>(pipelines.values());
  }
}
