package dev.lightspeed.orchestrator.grpc;

import dev.lightspeed.orchestrator.core.Event;
import dev.lightspeed.orchestrator.core.EventType;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.core.StartedBatch;
import dev.lightspeed.orchestrator.host.EventListener;
import dev.lightspeed.orchestrator.host.EventWatches;
import dev.lightspeed.orchestrator.host.JournalGate;
import dev.lightspeed.orchestrator.host.Limits;
import dev.lightspeed.orchestrator.host.PipelineHandle;
import dev.lightspeed.orchestrator.host.PipelineRegistry;
import dev.lightspeed.orchestrator.host.ServerReason;
import dev.lightspeed.orchestrator.host.StartedListener;
import dev.lightspeed.orchestrator.v1.WatchEventsRequest;
import dev.lightspeed.orchestrator.v1.WatchEventsResponse;
import dev.lightspeed.orchestrator.v1.WatchStartedRequest;
import dev.lightspeed.orchestrator.v1.WatchStartedResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.Executor;

/**
 * Opens the server-streaming watches, WatchStarted and WatchEvents: a {@link Watcher} per stream,
 * registered with its pipeline, which hands it core values (started batches, events) that the
 * watcher maps to responses on its own drain thread.
 */
final class WatchStreams {
  private final PipelineRegistry registry;
  private final JournalGate gate;
  private final Executor watchExecutor;
  private final int watchBufferCapacity;
  private final Limits limits;

  WatchStreams(
      PipelineRegistry registry, Executor watchExecutor, int watchBufferCapacity, Limits limits) {
    this.registry = registry;
    this.gate = registry.gate();
    this.watchExecutor = watchExecutor;
    this.watchBufferCapacity = watchBufferCapacity;
    this.limits = limits;
  }

  void watchStarted(WatchStartedRequest req, StreamObserver<WatchStartedResponse> out) {
    ServerCallStreamObserver<WatchStartedResponse> call =
        (ServerCallStreamObserver<WatchStartedResponse>) out;
    try {
      gate.ensureOpen();
      PipelineHandle handle = registry.get(req.getPipeline());
      StartedListener[] self = new StartedListener[1];
      Watcher<StartedBatch, WatchStartedResponse> watcher = new Watcher<>(
          req.getPipeline(), call,
          s -> WatchStartedResponse.newBuilder().setStarted(ProtoMapper.toProto(s)).build(),
          "started batches", watchExecutor, watchBufferCapacity, sendHeaders(),
          () -> handle.removeWatcher(self[0]));
      self[0] = new StartedWatch(watcher, req.getPipeline());
      handle.addWatcher(self[0], limits.maxWatchersPerPipeline());
      watcher.start();
    } catch (RuntimeException e) {
      out.onError(ErrorMapper.toException(e, req.getPipeline()));
    }
  }

  void watchEvents(WatchEventsRequest req, StreamObserver<WatchEventsResponse> out) {
    ServerCallStreamObserver<WatchEventsResponse> call =
        (ServerCallStreamObserver<WatchEventsResponse>) out;
    try {
      gate.ensureOpen();
      PipelineHandle handle = registry.get(req.getPipeline());
      Long after = req.hasAfterEventId() ? req.getAfterEventId() : null;
      if (after != null && after < 0) {
        throw Rejection.ofField(ServerReason.INVALID_REQUEST, "after_event_id",
            "must be ≥ 0 (got " + after + "); 0 replays every retained event");
      }
      Set<EventType> types = EnumSet.noneOf(EventType.class);
      for (int i = 0; i < req.getTypesCount(); i++) {
        var type = EventMapper.toCore(req.getTypes(i));
        if (type == null) {
          throw Rejection.ofField(ServerReason.INVALID_REQUEST, "types[" + i + "]",
              "is not an event type; use EVENT_TYPE_ENQUEUED ... EVENT_TYPE_RUN_COMPLETED");
        }
        types.add(type);
      }
      EventListener[] self = new EventListener[1];
      Watcher<Event, WatchEventsResponse> watcher = new Watcher<>(
          req.getPipeline(), call, EventMapper::toResponse, "events", watchExecutor,
          watchBufferCapacity, sendHeaders(), () -> handle.removeEventWatch(self[0]));
      self[0] = new EventsWatch(watcher, req.getPipeline());
      handle.addEventWatch(
          new EventWatches.Watch(self[0], types), after, limits.maxWatchersPerPipeline());
      watcher.start();
    } catch (RuntimeException e) {
      out.onError(ErrorMapper.toException(e, req.getPipeline()));
    }
  }

  /**
   * A {@link Watcher} as its pipeline sees it: the pipeline publishes on the watcher's drain
   * thread, and ends it with a refusal or a status, mapped here as any refusal is.
   */
  private abstract static class Listener<T, M> {
    final Watcher<T, M> watcher;
    private final String pipeline;

    Listener(Watcher<T, M> watcher, String pipeline) {
      this.watcher = watcher;
      this.pipeline = pipeline;
    }

    public Executor drainExecutor() {
      return watcher.drainExecutor();
    }

    public void end(RuntimeException why) {
      watcher.close(ErrorMapper.toException(why, pipeline));
    }
  }

  /** A WatchStarted stream. */
  private static final class StartedWatch extends Listener<StartedBatch, WatchStartedResponse>
      implements StartedListener {
    StartedWatch(Watcher<StartedBatch, WatchStartedResponse> watcher, String pipeline) {
      super(watcher, pipeline);
    }

    @Override
    public void offer(StartedBatch started) {
      watcher.offer(started);
    }
  }

  /** A WatchEvents stream. */
  private static final class EventsWatch extends Listener<Event, WatchEventsResponse>
      implements EventListener {
    EventsWatch(Watcher<Event, WatchEventsResponse> watcher, String pipeline) {
      super(watcher, pipeline);
    }

    @Override
    public void offerBacklog(java.util.List<Event> backlog) {
      watcher.offerBacklog(backlog);
    }

    @Override
    public void offer(Event event) {
      watcher.offer(event);
    }
  }

  private static Runnable sendHeaders() {
    Runnable send = EarlyHeaders.SEND.get();
    return send == null ? () -> { } : send;
  }
}
