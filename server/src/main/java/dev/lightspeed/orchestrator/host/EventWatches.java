package dev.lightspeed.orchestrator.host;

import dev.lightspeed.orchestrator.core.Event;
import dev.lightspeed.orchestrator.core.EventType;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The WatchEvents streams of one pipeline. A stream is registered under the pipeline's lock
 * together with its backlog (the retained events after its resume id), and from then on gets
 * every event published with a larger id: a publish of a command that ran before the
 * registration may still be under way, and the id check drops what the backlog already holds,
 * so the stream has no gap and no duplicate.
 */
public final class EventWatches {
  /** One stream: its listener, its type filter (empty = all) and the last id offered to it. */
  public static final class Watch {
    final EventListener listener;
    final Set<EventType> types;
    /** Written at registration (under the lock), then only by the pipeline's publisher. */
    long lastOffered;

    public Watch(EventListener listener, Set<EventType> types) {
      this.listener = listener;
      this.types = types;
    }

    boolean wants(Event e) {
      return types.isEmpty() || types.contains(e.type());
    }
  }

  private final List<Watch> watches = new CopyOnWriteArrayList<>();

  /**
   * Registers {@code watch}, whose backlog ends at {@code lastOffered}; under the lock. The
   * backlog may hold events of changes whose fsync is still under way, so it is offered only once
   * {@code durable} (the pipeline's last change) completes, on {@code publisher}: that runs in
   * order, so the backlog still comes before any later event (docs/durability.md).
   */
  void add(Watch watch, List<Event> backlog, long lastOffered,
      java.util.concurrent.CompletableFuture<Void> durable, java.util.concurrent.Executor publisher) {
    watch.lastOffered = lastOffered;
    List<Event> wanted = backlog.stream().filter(watch::wants).toList();
    watches.add(watch);
    if (!wanted.isEmpty()) {
      durable.thenRunAsync(() -> watch.listener.offerBacklog(wanted), publisher);
    }
  }

  void remove(EventListener listener) {
    watches.removeIf(w -> w.listener == listener);
  }

  boolean isEmpty() {
    return watches.isEmpty();
  }

  int size() {
    return watches.size();
  }

  /** Offers newly appended events (in id order) to every stream; on the publisher. */
  void publish(List<Event> events) {
    for (Watch w : watches) {
      for (Event e : events) {
        if (e.eventId() > w.lastOffered) {
          w.lastOffered = e.eventId();
          if (w.wants(e)) {
            w.listener.offer(e);
          }
        }
      }
    }
  }

  void closeAll(RuntimeException why) {
    for (Watch w : watches) {
      w.listener.end(why);
    }
  }
}
