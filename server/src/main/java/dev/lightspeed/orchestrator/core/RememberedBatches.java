package dev.lightspeed.orchestrator.core;

import java.util.List;

/**
 * Batches that left the live set (acked, cancelled or discarded), remembered for the dedup window:
 * the idempotency key each one used and, for an acked one, the ack's result. Looked up by
 * idempotency key (SPEC 3.1 check 2) and, for acks, by batch key (3.3-3.5 on a DONE batch).
 *
 * <p>Why not objects in hash maps: a busy pipeline remembers every batch of the last 300 s (the
 * default window): 100,000 lifecycles/s means 30 million entries. As objects (an entry, two map
 * nodes, two key strings with their byte arrays) each one cost about 250 bytes in seven objects,
 * all of them medium-lived: too old to die in the young generation, so every young collection
 * copied them, then the old generation had to find them dead. That GC work was the largest cost of
 * a lifecycle in the core benchmark and the cause of the server's longest young pauses (see
 * bench/findings.md). Here an entry is a row of primitive arrays and its two keys are characters in
 * one shared text buffer: no object per entry at all, so the collector never traces or copies
 * them.
 *
 * <p>This class is the front: what the rest of the core asks. The rows and the text live in
 * {@link RememberedRows}, numbered in the order the batches left; the window is fixed and time
 * never runs backwards, so that order is also expiry order, and forgetting is moving the oldest
 * number on.
 *
 * <p>Two {@link EntryHashIndex}es (idempotency key → entry, batch key → acked entry) store, in one
 * long per slot, the key's mixed hash and the entry number, so a probe reads one array and touches
 * the text only when the hashes match. An entry whose key was taken over by a later one (a batch
 * key acked again) loses that index slot; its flags say which indexes still point at it. A
 * forgotten entry's slots are left stale rather than removed.
 *
 * <p>Why the indexes take entries in groups: with a dedup window of minutes the indexes are far
 * larger than the CPU's caches, so every insert at a random slot is a cache miss, and one insert
 * per call paid that miss in full (two per life cycle: a third of the core's cost of one). New
 * entries therefore wait in a small young table per index, which stays in the cache, and move to
 * the large one together (see {@link #indexPending}). And since nearly every enqueue brings a key
 * never seen before, a {@link RememberedKeyFilter} answers most idempotency lookups without
 * touching either table.
 */
final class RememberedBatches {
  private static final byte BY_IDEMPOTENCY_KEY = RememberedRows.BY_IDEMPOTENCY_KEY;
  private static final byte BY_BATCH_KEY = RememberedRows.BY_BATCH_KEY;
  private static final byte ACKED = RememberedRows.ACKED;

  /**
   * How many new entries wait in the young tables before they move to the large ones, at most:
   * a 64th of the entries remembered, between 8 and this, so that a quiet pipeline's young tables
   * take a few hundred bytes and a busy one's 32 KB each.
   */
  static final int PENDING_ENTRIES = 1024;
  private static final int MIN_PENDING = 8;

  private final RememberedRows rows;
  private final int maxPendingLimit;
  private int pendingLimit;
  private final EntryHashIndex byIdempotencyKey;
  private final EntryHashIndex byBatchKey;
  /**
   * Entries numbered from here on are in the young tables only (those not forgotten yet): at most
   * {@code pendingLimit} of them.
   */
  private long indexedUpTo;
  /** Where the warm-up loads of {@link #indexPending} go, so that they are not optimised away. */
  private long warmed;
  /** Every remembered idempotency key (and some forgotten ones): see {@link RememberedKeyFilter}. */
  private final RememberedKeyFilter idempotencyKeyFilter = new RememberedKeyFilter();

  /**
   * A copy to read with {@link #forEach} (and the counts) while the original carries on: the
   * columns and the text are copied, at memory speed; the indexes are not, so lookups on the copy
   * find nothing. For finishing a signature outside the pipeline's lock.
   */
  RememberedBatches copyForReading() {
    indexPending();
    RememberedBatches copy = new RememberedBatches(rows.copy(), MIN_PENDING);
    copy.indexedUpTo = rows.tail;
    copy.byIdempotencyKey.setSize(byIdempotencyKey.size());
    copy.byBatchKey.setSize(byBatchKey.size());
    return copy;
  }

  private RememberedBatches(RememberedRows rows, int pendingLimit) {
    this.rows = rows;
    this.maxPendingLimit = pendingLimit;
    this.pendingLimit = pendingLimit;
    this.byIdempotencyKey = new EntryHashIndex(rows.idempotencyKeys, pendingLimit);
    this.byBatchKey = new EntryHashIndex(rows.batchKeys, pendingLimit);
  }

  RememberedBatches(List<String> stageNames) {
    this(stageNames, PENDING_ENTRIES);
  }

  /** With at most {@code maxPendingLimit} (≥ 1) entries in the young tables: for tests. */
  RememberedBatches(List<String> stageNames, int maxPendingLimit) {
    if (maxPendingLimit < 1) {
      throw new IllegalArgumentException("maxPendingLimit must be ≥ 1, got " + maxPendingLimit);
    }
    this.rows = new RememberedRows(stageNames);
    this.maxPendingLimit = maxPendingLimit;
    this.pendingLimit = Math.min(MIN_PENDING, maxPendingLimit);
    this.byIdempotencyKey = new EntryHashIndex(rows.idempotencyKeys, pendingLimit);
    this.byBatchKey = new EntryHashIndex(rows.batchKeys, pendingLimit);
  }

  /**
   * Stages appended to the pipeline by an update (SPEC 3.9: stages only grow at the end, so the
   * indexes already stored stay right). A reading copy keeps its own.
   */
  void addStages(List<String> added) {
    rows.addStages(added);
  }

  /** Entries not yet forgotten (including those no index points at any more). */
  int size() {
    return rows.size();
  }

  /** Remembered idempotency keys. */
  int idempotencyKeyCount() {
    indexPending();
    return byIdempotencyKey.size();
  }

  /** Remembered acks (one per batch key: the latest). */
  int ackCount() {
    indexPending();
    return byBatchKey.size();
  }

  /**
   * Remembers {@code batch}, gone at {@code leftAtMs}: its idempotency key and, when {@code
   * ackedAttempt} ≥ 1, its ack (with {@code runId} and {@code startedAtMs}), replacing an older
   * ack of the same batch key.
   */
  void add(Batch batch, long leftAtMs, int ackedAttempt, long runId, long startedAtMs) {
    int idemHash = EntryHashIndex.mix(batch.idempotencyKey().hashCode());
    int keyHash = EntryHashIndex.mix(batch.key().hashCode());
    // The BY_ flags are set when the entry moves to the large tables.
    long n = rows.add(batch, leftAtMs, ackedAttempt, runId, startedAtMs, idemHash, keyHash);
    byIdempotencyKey.putYoung(idemHash, n);
    if (ackedAttempt > 0) {
      byBatchKey.putYoung(keyHash, n);
    }
    idempotencyKeyFilter.add(idemHash);
    if (idempotencyKeyFilter.isFull()) {
      rebuildFilter();
    }
    if (rows.tail - indexedUpTo >= pendingLimit) {
      indexPending();
    }
  }

  /** The remembered entry of idempotency key {@code key} (the latest), or null. */
  GoneBatch byIdempotencyKey(String key) {
    int hash = EntryHashIndex.mix(key.hashCode());
    if (!idempotencyKeyFilter.mightContain(hash)) {
      return null;
    }
    long n = byIdempotencyKey.find(key, hash);
    return n < 0 ? null : rows.entry(n);
  }

  /** The remembered ack of batch {@code key} (the latest, if it was acked more than once), or null. */
  GoneBatch ackOf(String key) {
    long n = byBatchKey.find(key, EntryHashIndex.mix(key.hashCode()));
    return n < 0 ? null : rows.entry(n);
  }

  /**
   * Moves the entries of the young tables to the large ones, in the order they were added (so a
   * later entry with the same key takes the slot over and clears the earlier one's flag). First
   * it loads each one's home slot in a loop of loads that do not depend on one another, so the
   * CPU waits for those cache misses side by side rather than one at a time; the inserts then
   * find their slots in the cache. Queries that read the flags or counts call this first, so
   * they see exactly what indexing every entry at once would give.
   */
  private void indexPending() {
    long tail = rows.tail;
    if (indexedUpTo == tail) {
      return;
    }
    int rowMask = rows.rowMask;
    byte[] flags = rows.flags;
    int[] idempotencyKeyHash = rows.idempotencyKeyHash;
    int[] batchKeyHash = rows.batchKeyHash;
    long from = Math.max(indexedUpTo, rows.head);
    long sum = 0;
    for (long n = from; n < tail; n++) {
      int row = (int) (n & rowMask);
      sum += byIdempotencyKey.homeSlot(idempotencyKeyHash[row]);
      if ((flags[row] & ACKED) != 0) {
        sum += byBatchKey.homeSlot(batchKeyHash[row]);
      }
    }
    warmed += sum;
    for (long n = from; n < tail; n++) {
      int row = (int) (n & rowMask);
      long replaced = byIdempotencyKey.put(idempotencyKeyHash[row], n);
      if (replaced >= 0) {
        flags[(int) (replaced & rowMask)] &= ~BY_IDEMPOTENCY_KEY;
      }
      flags[row] |= BY_IDEMPOTENCY_KEY;
      if ((flags[row] & ACKED) != 0) {
        replaced = byBatchKey.put(batchKeyHash[row], n);
        if (replaced >= 0) {
          flags[(int) (replaced & rowMask)] &= ~BY_BATCH_KEY;
        }
        flags[row] |= BY_BATCH_KEY;
      }
    }
    byIdempotencyKey.clearYoung();
    byBatchKey.clearYoung();
    indexedUpTo = tail;
    int wanted = Math.min(maxPendingLimit,
        Math.max(MIN_PENDING, Integer.highestOneBit(Math.max(1, size() >>> 6))));
    if (wanted != pendingLimit) {
      pendingLimit = wanted;
      byIdempotencyKey.resizeYoung(wanted);
      byBatchKey.resizeYoung(wanted);
    }
  }

  /** Builds the idempotency-key filter anew from the keys remembered now, forgetting the rest. */
  private void rebuildFilter() {
    idempotencyKeyFilter.reset(2L * size());
    for (long n = rows.head; n < rows.tail; n++) {
      idempotencyKeyFilter.add(rows.idempotencyKeyHash[(int) (n & rows.rowMask)]);
    }
  }

  /** Forgets every entry that left at least {@code windowMs} before {@code nowMs}. */
  void forgetExpired(long nowMs, long windowMs) {
    while (rows.head < rows.tail) {
      int row = (int) (rows.head & rows.rowMask);
      if (nowMs - rows.leftAtMs(rows.head) < windowMs) {
        break;
      }
      if ((rows.flags[row] & BY_IDEMPOTENCY_KEY) != 0) {
        byIdempotencyKey.forgotten();
      }
      if ((rows.flags[row] & BY_BATCH_KEY) != 0) {
        byBatchKey.forgotten();
      }
      rows.head++;
    }
  }

  /**
   * The entries the idempotency index (or the batch-key index) points at, as offsets from the
   * oldest entry, sorted by that key in {@link String#compareTo} order. For the signature: it
   * sorts numbers by comparing key characters in place, so that a pipeline remembering a million
   * batches does not hold a million view objects and key strings at once (on the server those
   * lived long enough to be copied by the collector: pauses of 200 ms, bench/findings.md).
   */
  int[] sortedByKey(boolean idempotency) {
    indexPending();
    byte flag = idempotency ? BY_IDEMPOTENCY_KEY : BY_BATCH_KEY;
    long head = rows.head;
    int count = 0;
    for (long n = head; n < rows.tail; n++) {
      if ((rows.flags[(int) (n & rows.rowMask)] & flag) != 0) {
        count++;
      }
    }
    int[] offsets = new int[count];
    int at = 0;
    for (long n = head; n < rows.tail; n++) {
      if ((rows.flags[(int) (n & rows.rowMask)] & flag) != 0) {
        offsets[at++] = (int) (n - head);
      }
    }
    IntMergeSort.sort(offsets, (a, b) -> rows.compareKeys(head + a, head + b, idempotency));
    return offsets;
  }

  /** {@code String.compareTo} of {@code key} and the key of the entry at offset {@code b}. */
  int compareKey(String key, int b, boolean idempotency) {
    return rows.compareKey(key, rows.head + b, idempotency);
  }

  /** The entry at offset {@code offset} from the oldest one, as a view. */
  GoneBatch entryAt(int offset) {
    return rows.entry(rows.head + offset);
  }

  /**
   * For tests: rehash each index at least every {@code inserts} inserts (in production every
   * 2^30, which no test can reach), so that the purge of stale slots runs.
   */
  void purgeEvery(long inserts) {
    byIdempotencyKey.purgeEvery(inserts);
    byBatchKey.purgeEvery(inserts);
  }

  /** For tests: how many times the two indexes were rehashed. */
  int rehashCount() {
    return byIdempotencyKey.rehashes() + byBatchKey.rehashes();
  }

  /** How many entries {@link #forEach} visits. */
  int indexedCount() {
    indexPending();
    int count = 0;
    for (long n = rows.head; n < rows.tail; n++) {
      if ((rows.flags[(int) (n & rows.rowMask)] & (BY_IDEMPOTENCY_KEY | BY_BATCH_KEY)) != 0) {
        count++;
      }
    }
    return count;
  }

  /** Visits the entries some index still points at, in the order they will be forgotten. */
  void forEach(Visitor visitor) {
    indexPending();
    for (long n = rows.head; n < rows.tail; n++) {
      byte flags = rows.flags[(int) (n & rows.rowMask)];
      if ((flags & (BY_IDEMPOTENCY_KEY | BY_BATCH_KEY)) != 0) {
        visitor.visit(
            rows.entry(n), (flags & BY_IDEMPOTENCY_KEY) != 0, (flags & BY_BATCH_KEY) != 0);
      }
    }
  }

  /** See {@link #forEach}. */
  @FunctionalInterface
  interface Visitor {
    void visit(GoneBatch entry, boolean byIdempotencyKey, boolean byBatchKey);
  }

  /**
   * Puts back an entry read from a snapshot, in forget order: indexed only where it was. A
   * snapshot keeps only entries some index points at, so nothing is replaced here.
   */
  void restore(GoneBatch g, boolean byIdempotency, boolean byBatch) {
    add(new Batch(g.batchKey, g.stage, g.records, 0, g.idempotencyKey, g.sequence), g.leftAtMs,
        g.acked ? g.attempt : 0, g.runId, g.startedAtMs);
    indexPending();
    long n = rows.tail - 1;
    int row = (int) (n & rows.rowMask);
    if (!byIdempotency) {
      byIdempotencyKey.remove(n);
      rows.flags[row] &= ~BY_IDEMPOTENCY_KEY;
    }
    if (g.acked && !byBatch) {
      byBatchKey.remove(n);
      rows.flags[row] &= ~BY_BATCH_KEY;
    }
  }

  @Override
  public String toString() {
    return "RememberedBatches[" + rows + ", " + byIdempotencyKey.size() + " keys, "
        + byBatchKey.size() + " acks, young tables for " + pendingLimit + "]";
  }
}
