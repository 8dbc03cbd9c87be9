package dev.lightspeed.orchestrator.core;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * One stage of a pipeline: its connectors, its operator pause, its sequence, its counters, and
 * the batches waiting to start in it.
 *
 * <p>Waiting batches are kept per stage so that {@code start_available} can skip a paused,
 * disabled, filtered or blocked stage in one step instead of walking each of its batches. An
 * ordered stage keeps them in enqueue order (only its oldest waiting batch may start); any other
 * stage in ready order.
 */
final class StageState {
  final String name;
  final int index;
  /** Changed only by an update of the connectors (SPEC 3.9), through {@link #setOrdered}. */
  boolean ordered;
  /** This stage's connectors, in plan order (at most one SOURCE and one SINK). */
  final List<Connector> connectors = new ArrayList<>(2);
  /** QUEUED and RETRY_WAIT batches of this stage. */
  TreeSet<LiveBatch> waiting;

  boolean paused;
  int inFlight;
  boolean hasSequence;
  long lastSequence;
  long batchesProcessed;
  long recordsProcessed;

  StageState(String name, int index, boolean ordered) {
    this.name = name;
    this.index = index;
    this.ordered = ordered;
    this.waiting = new TreeSet<>(ordered ? LiveBatch.BY_ENQUEUE : LiveBatch.BY_READY);
  }

  /**
   * Makes the stage ordered or not, re-sorting its waiting batches into that order (an update of
   * the connectors, SPEC 3.9; the caller has checked that at most one batch is in flight).
   */
  void setOrdered(boolean value) {
    if (value == ordered) {
      return;
    }
    TreeSet<LiveBatch> resorted = new TreeSet<>(value ? LiveBatch.BY_ENQUEUE : LiveBatch.BY_READY);
    resorted.addAll(waiting);
    waiting = resorted;
    ordered = value;
  }

  boolean hasConnector() {
    return !connectors.isEmpty();
  }

  /** The first disabled connector of this stage, or null. */
  Connector disabledConnector() {
    for (Connector c : connectors) {
      if (c.disabled()) {
        return c;
      }
    }
    return null;
  }

  Connector connector(ConnectorKind kind) {
    for (Connector c : connectors) {
      if (c.kind() == kind) {
        return c;
      }
    }
    return null;
  }

  /**
   * The batch this stage would start next at {@code nowMs}, or null if none may start now: an
   * ordered stage starts its oldest waiting batch only when nothing of it is in flight and that
   * batch is ready; any other stage starts its earliest-ready batch.
   */
  LiveBatch nextStartable(long nowMs) {
    if (waiting.isEmpty() || (ordered && inFlight > 0)) {
      return null;
    }
    LiveBatch head = waiting.first();
    return head.readyAtMs <= nowMs ? head : null;
  }
}
