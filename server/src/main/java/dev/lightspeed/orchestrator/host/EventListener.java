package dev.lightspeed.orchestrator.host;

import dev.lightspeed.orchestrator.core.Event;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * A WatchEvents stream as a pipeline sees it (the events' counterpart of {@link
 * StartedListener}): its backlog, then each new event in id order, once durable. The gRPC side
 * implements it over a watcher, so the hosting of pipelines hands over core values only.
 */
public interface EventListener {
  /** Takes the retained events a resumed stream asked for, before any new one. */
  void offerBacklog(List<Event> backlog);

  /** Takes one new event; never blocks (a listener that falls behind cuts itself off). */
  void offer(Event event);

  /** The executor the listener drains on; the pipeline publishes on it too, in order. */
  Executor drainExecutor();

  /** Ends the stream with {@code why}: a refusal (the pipeline was deleted) or a status. */
  void end(RuntimeException why);
}
