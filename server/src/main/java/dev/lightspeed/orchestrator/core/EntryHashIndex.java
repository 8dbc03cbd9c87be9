package dev.lightspeed.orchestrator.core;

import java.util.Arrays;

/**
 * Key → entry number, for entries numbered in the order they were added and forgotten oldest
 * first ({@link Entries#oldest()} ≤ n &lt; {@link Entries#end()}). The keys themselves stay with
 * the caller ({@link Entries}): the index holds only primitives, so a table of millions of keys
 * is one {@code long[]} the garbage collector never traces (see {@link RememberedBatches} for why
 * that matters).
 *
 * <p>Open addressing with linear probing. A slot holds the key's mixed hash ({@link #mix}, never
 * 0) in its high 32 bits and the entry number's low 32 bits in its low 32; 0 is empty.
 *
 * <p>Forgetting an entry does not touch the table: its slot goes stale, recognisable because its
 * number, read relative to the oldest entry, lands at or beyond the end. Lookups step over stale
 * slots and inserts reuse the first one on their path, so the remove that used to cost a cache
 * miss per forgotten key is gone. A rehash drops stale slots; it runs when live and stale slots
 * fill half the table, and at least every 2^30 inserts so that a stale number can never come
 * back into range. {@link #remove} (for restoring a snapshot) shifts the rest of the probe run
 * back rather than leaving a tombstone.
 *
 * <p>New entries may first go to a small young table ({@link #putYoung}), which stays in the CPU
 * cache, and move to the large one in a group ({@link #put} each, then {@link #clearYoung}); see
 * {@link RememberedBatches} for why.
 */
final class EntryHashIndex {
  /** The entries an index points into: their numbering and their keys. */
  interface Entries {
    /** The oldest entry not forgotten. */
    long oldest();

    /** One past the newest entry. */
    long end();

    /** Whether entry {@code n}'s key is {@code key}. */
    boolean keyEquals(long n, String key);

    /** Whether entries {@code a} and {@code b} have the same key. */
    boolean sameKey(long a, long b);

    /** Entry {@code n}'s key's {@link #mix mixed} hash. */
    int hash(long n);
  }

  private static final long PURGE_EVERY = 1L << 30;

  private final Entries entries;
  private long[] slots = new long[16];
  private int mask = 15;
  /**
   * Entries added since the last move to {@code slots}, same slot format; at most half full, and
   * small enough to stay in the cache.
   */
  private long[] young;
  private int youngMask;
  private boolean youngEmpty = true;
  /** Slots of {@code slots} pointing at entries not yet forgotten. */
  private int size;
  /** Slots of {@code slots} not empty: live and stale. */
  private int occupied;
  private long insertsSinceRehash;
  /** {@link #PURGE_EVERY}, lowered by tests so that the purge actually runs. */
  private long purgeEvery = PURGE_EVERY;
  private int rehashes;

  /** An empty index whose young table takes {@code pendingLimit} entries. */
  EntryHashIndex(Entries entries, int pendingLimit) {
    this.entries = entries;
    resizeYoung(pendingLimit);
  }

  /** Spreads a {@code String.hashCode} over all bits; never 0, which marks an empty slot. */
  static int mix(int h) {
    int x = h * 0x9E3779B9;
    x ^= x >>> 16;
    return x == 0 ? 1 : x;
  }

  /** Keys in the large table whose entries are not forgotten. */
  int size() {
    return size;
  }

  /** For a reading copy, whose table is empty but whose counts are the original's. */
  void setSize(int size) {
    this.size = size;
  }

  /** A young table at most half full with {@code pendingLimit} entries; only while empty. */
  void resizeYoung(int pendingLimit) {
    young = new long[Integer.highestOneBit(pendingLimit) * 4];
    youngMask = young.length - 1;
  }

  /** The entry number under {@code key} (of mixed hash {@code hash}), or -1. */
  long find(String key, int hash) {
    // The young table holds the newer entries: one there wins.
    long n = youngEmpty ? -1 : find(young, youngMask, key, hash);
    return n >= 0 ? n : find(slots, mask, key, hash);
  }

  private long find(long[] table, int tableMask, String key, int hash) {
    for (int i = hash & tableMask; ; i = (i + 1) & tableMask) {
      long slot = table[i];
      if (slot == 0) {
        return -1;
      }
      if ((int) (slot >>> 32) == hash) {
        long n = number(slot);
        // A stale slot's entry may be another key by now: never compare its key.
        if (n < entries.end() && entries.keyEquals(n, key)) {
          return n;
        }
      }
    }
  }

  /**
   * Adds entry {@code n} (the newest) to the young table, taking over the slot of an earlier
   * young entry with the same key, so that lookups find the newest.
   */
  void putYoung(int hash, long n) {
    youngEmpty = false;
    int i = hash & youngMask;
    for (long slot; (slot = young[i]) != 0; i = (i + 1) & youngMask) {
      long old = number(slot);
      if (old < entries.end() && (int) (slot >>> 32) == hash && entries.sameKey(old, n)) {
        break;
      }
    }
    young[i] = pack(hash, n);
  }

  /** Empties the young table, once its entries are in the large one. */
  void clearYoung() {
    if (!youngEmpty) {
      Arrays.fill(young, 0);
      youngEmpty = true;
    }
  }

  /** The slot a key of mixed hash {@code hash} probes first: to load it into the cache early. */
  long homeSlot(int hash) {
    return slots[hash & mask];
  }

  /**
   * Points entry {@code n}'s key (mixed hash {@code hash}) at it in the large table; returns the
   * entry it pointed at before, or -1.
   */
  long put(int hash, long n) {
    long end = entries.end();
    int i = hash & mask;
    int stale = -1;
    for (long slot; (slot = slots[i]) != 0; i = (i + 1) & mask) {
      long old = number(slot);
      if (old >= end) {
        if (stale < 0) {
          stale = i;
        }
      } else if ((int) (slot >>> 32) == hash && entries.sameKey(old, n)) {
        slots[i] = pack(hash, n);
        return old;
      }
    }
    if (stale >= 0) {
      slots[stale] = pack(hash, n);
    } else {
      slots[i] = pack(hash, n);
      occupied++;
    }
    size++;
    // Half full at most (stale slots count): about 1.5 probes per hit and 2.5 per miss.
    if (occupied > (mask + 1) / 2 || ++insertsSinceRehash > purgeEvery) {
      rehash();
    }
    return -1;
  }

  /** Entry {@code n}, which the large table points at, was forgotten: its slot is stale now. */
  void forgotten() {
    size--;
  }

  /** Removes the slot of the large table that points at entry {@code n} (which must be there). */
  void remove(long n) {
    int hash = entries.hash(n);
    int i = hash & mask;
    while (slots[i] != pack(hash, n)) {
      if (slots[i] == 0) {
        throw new IllegalStateException("entry " + n + " is not indexed");
      }
      i = (i + 1) & mask;
    }
    // Shift the rest of the probe run back into the gap (stale slots move like live ones).
    int gap = i;
    for (int j = (i + 1) & mask; slots[j] != 0; j = (j + 1) & mask) {
      int home = (int) (slots[j] >>> 32) & mask;
      if (((j - home) & mask) >= ((j - gap) & mask)) {
        slots[gap] = slots[j];
        gap = j;
      }
    }
    slots[gap] = 0;
    size--;
    occupied--;
  }

  /** For tests: rehash at least every {@code inserts} inserts, so that the purge runs. */
  void purgeEvery(long inserts) {
    purgeEvery = inserts;
  }

  /** For tests: how many times the large table was rehashed. */
  int rehashes() {
    return rehashes;
  }

  /** For tests: slots of the large table that are not empty (live and stale). */
  int occupied() {
    return occupied;
  }

  /** For tests: the large table's slot count. */
  int capacity() {
    return mask + 1;
  }

  private long number(long slot) {
    // The entry whose low 32 bits these are, among oldest .. oldest + 2^32 - 1.
    long oldest = entries.oldest();
    return oldest + ((slot - oldest) & 0xFFFF_FFFFL);
  }

  /** Drops stale slots, into a table at most a quarter full. */
  private void rehash() {
    int capacity = 16;
    while (capacity < 4L * size) {
      capacity *= 2;
    }
    long end = entries.end();
    long[] old = slots;
    slots = new long[capacity];
    mask = capacity - 1;
    for (long slot : old) {
      if (slot != 0 && number(slot) < end) {
        int i = (int) (slot >>> 32) & mask;
        while (slots[i] != 0) {
          i = (i + 1) & mask;
        }
        slots[i] = slot;
      }
    }
    occupied = size;
    insertsSinceRehash = 0;
    rehashes++;
  }

  private static long pack(int hash, long n) {
    return ((long) hash << 32) | (n & 0xFFFF_FFFFL);
  }
}
