package dev.lightspeed.orchestrator.core;

import java.util.List;

/**
 * One page of a list query.
 *
 * @param items the page's items, in list order
 * @param nextCursor pass it back to get the next page; -1 when this is the last page
 */
public record Page<T>(List<T> items, long nextCursor) {
  /** The cursor that starts a list at its beginning. */
  public static final long START = -1;

  public Page {
    items = List.copyOf(items);
  }

  public boolean hasMore() {
    return nextCursor >= 0;
  }
}
