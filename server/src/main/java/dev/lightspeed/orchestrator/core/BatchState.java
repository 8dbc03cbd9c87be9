package dev.lightspeed.orchestrator.core;

import java.util.EnumSet;
import java.util.Set;

/**
 * The states of a batch and the moves between them (SPEC section 3). DONE and CANCELLED are not
 * listed: a batch that reaches them leaves the live set.
 *
 * <pre>
 * from            to                         by
 * QUEUED          IN_FLIGHT                  start_available
 * QUEUED          (cancelled)                CANCEL_BATCH
 * IN_FLIGHT       (done)                     ack_batch
 * IN_FLIGHT       RETRY_WAIT, DEAD_LETTERED  fail_batch, lease expiry
 * RETRY_WAIT      IN_FLIGHT                  start_available once retry_at_ms is reached
 * RETRY_WAIT      (cancelled)                CANCEL_BATCH
 * DEAD_LETTERED   QUEUED                     REDRIVE_DEAD_LETTER (attempt reset to 0)
 * DEAD_LETTERED   (discarded)                DISCARD_DEAD_LETTER
 * </pre>
 */
public enum BatchState {
  QUEUED,
  IN_FLIGHT,
  RETRY_WAIT,
  DEAD_LETTERED;

  private Set<BatchState> next;

  static {
    QUEUED.next = EnumSet.of(IN_FLIGHT);
    IN_FLIGHT.next = EnumSet.of(RETRY_WAIT, DEAD_LETTERED);
    RETRY_WAIT.next = EnumSet.of(IN_FLIGHT);
    DEAD_LETTERED.next = EnumSet.of(QUEUED);
  }

  /** Whether a live batch may move from this state to {@code to}. */
  public boolean canMoveTo(BatchState to) {
    return next.contains(to);
  }

  /** Whether a batch in this state waits to start (counts in {@code queued_count}). */
  public boolean isWaiting() {
    return this == QUEUED || this == RETRY_WAIT;
  }

  /** Whether a batch in this state may be removed by CANCEL_BATCH. */
  public boolean isCancellable() {
    return isWaiting();
  }
}
