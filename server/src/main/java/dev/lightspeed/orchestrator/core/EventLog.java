package dev.lightspeed.orchestrator.core;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * A pipeline's event log (SPEC 3.10): the next event id (part of the state and of the signature)
 * and the newest {@code retention} events (kept in snapshots, not in the signature). Events are
 * appended in the order the core makes its changes; the oldest is dropped when the log is full.
 */
final class EventLog {
  /** SPEC 3.10's default: at least the newest 100,000 events of each pipeline are kept. */
  static final int DEFAULT_RETENTION = 100_000;

  private final ArrayDeque<Event> retained = new ArrayDeque<>();
  private int retention = DEFAULT_RETENTION;
  private long nextEventId = 1;

  void append(EventType type, long atMs, Object payload) {
    if (retained.size() >= retention) {
      retained.pollFirst();
    }
    retained.addLast(new Event(nextEventId++, atMs, type, payload));
  }

  long nextEventId() {
    return nextEventId;
  }

  /** The id of the oldest retained event, or {@link #nextEventId} when none is retained. */
  long oldestEventId() {
    return retained.isEmpty() ? nextEventId : retained.peekFirst().eventId();
  }

  /** The retained events with an id above {@code afterId}, oldest first. */
  List<Event> after(long afterId) {
    long count = nextEventId - 1 - Math.max(afterId, oldestEventId() - 1);
    List<Event> out = new ArrayList<>((int) Math.max(0, Math.min(count, retained.size())));
    if (count <= 0) {
      return out;
    }
    // The newest events are at the tail: walk back only as far as needed.
    Iterator<Event> newestFirst = retained.descendingIterator();
    for (long i = 0; i < count && newestFirst.hasNext(); i++) {
      out.add(newestFirst.next());
    }
    java.util.Collections.reverse(out);
    return out;
  }

  Iterable<Event> retained() {
    return retained;
  }

  int size() {
    return retained.size();
  }

  /** Keeps at least the newest {@code value} (≥ 1) events from now on. */
  void setRetention(int value) {
    if (value < 1) {
      throw new IllegalArgumentException("event retention must be ≥ 1, got " + value);
    }
    retention = value;
    while (retained.size() > retention) {
      retained.pollFirst();
    }
  }

  /**
   * Restores a snapshot's log: the next id and the retained events, oldest first. All of them are
   * kept, whatever the retention: the server sets its retention once recovery is done.
   */
  void restore(long next, List<Event> events) {
    nextEventId = next;
    retained.clear();
    retained.addAll(events);
    retention = Math.max(retention, events.size());
  }
}
