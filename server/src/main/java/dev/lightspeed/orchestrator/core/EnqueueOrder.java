package dev.lightspeed.orchestrator.core;

import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Live batches in enqueue order: an append-only array with tombstones.
 *
 * <p>Enqueue positions only grow, so appending keeps the array sorted; a batch that leaves the
 * live set leaves a hole, and the array is compacted once holes outnumber live batches (amortised
 * O(1) per removal, memory at most twice the live batches). Compaction starts at the first hole:
 * a long-waiting backlog sits dense at the front while batches come and go behind it, so it is
 * neither copied nor touched (rewriting each batch's slot was a cache miss per backlog batch). Seeking a page cursor is a binary
 * search over the positions, which stay in the array for holes too. This replaced a {@code
 * TreeMap<Long, LiveBatch>} that took over a third of a lifecycle's time at a 1M backlog.
 */
final class EnqueueOrder implements Iterable<LiveBatch> {
  private static final int MIN_COMPACT = 64;

  private LiveBatch[] slots = new LiveBatch[16];
  private long[] positions = new long[16];
  /** Slots in use, holes included. */
  private int used;
  private int live;
  /** No hole before this slot; MAX_VALUE when there is none. */
  private int firstHole = Integer.MAX_VALUE;

  /** Appends a batch with a position above every other's. */
  void append(LiveBatch b) {
    if (used > 0 && positions[used - 1] >= b.enqueueSeq) {
      throw new IllegalStateException("enqueue positions must grow: " + b.enqueueSeq);
    }
    if (used == slots.length) {
      slots = Arrays.copyOf(slots, used * 2);
      positions = Arrays.copyOf(positions, used * 2);
    }
    slots[used] = b;
    positions[used] = b.enqueueSeq;
    b.orderSlot = used++;
    live++;
  }

  void remove(LiveBatch b) {
    if (slots[b.orderSlot] != b) {
      throw new IllegalStateException("batch " + b.key() + " is not at its slot");
    }
    slots[b.orderSlot] = null;
    firstHole = Math.min(firstHole, b.orderSlot);
    b.orderSlot = -1;
    live--;
    if (used >= MIN_COMPACT && live < used / 2) {
      compact();
    }
  }

  int size() {
    return live;
  }

  /** The first slot whose batch comes after position {@code cursor} (or {@code used}). */
  int firstSlotAfter(long cursor) {
    int lo = 0;
    int hi = used;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (positions[mid] <= cursor) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /** The batch in {@code slot}, or null for a hole. */
  LiveBatch at(int slot) {
    return slots[slot];
  }

  /** Slots in use, holes included: iterate {@code at(0 .. slotCount-1)}. */
  int slotCount() {
    return used;
  }

  private void compact() {
    int from = Math.min(firstHole, used);
    int w = from;
    for (int r = from; r < used; r++) {
      LiveBatch b = slots[r];
      if (b != null) {
        slots[w] = b;
        positions[w] = positions[r];
        b.orderSlot = w++;
      }
    }
    Arrays.fill(slots, w, used, null);
    used = w;
    firstHole = Integer.MAX_VALUE;
  }

  @Override
  public Iterator<LiveBatch> iterator() {
    return new Iterator<>() {
      private int slot = advance(0);

      private int advance(int from) {
        while (from < used && slots[from] == null) {
          from++;
        }
        return from;
      }

      @Override
      public boolean hasNext() {
        return slot < used;
      }

      @Override
      public LiveBatch next() {
        if (slot >= used) {
          throw new NoSuchElementException();
        }
        LiveBatch b = slots[slot];
        slot = advance(slot + 1);
        return b;
      }
    };
  }
}
