package dev.lightspeed.orchestrator.core;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

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
 * <p>Entries are numbered in the order they left ({@code head} ≤ n &lt; {@code tail}); the window
 * is fixed and time never runs backwards, so that order is also expiry order, and forgetting is
 * moving {@code head}. Row n lives at {@code n & (capacity - 1)} of every column; its keys at
 * {@code [textStart, textStart + idempotency length + key length)} of the text ring. Both grow by
 * doubling.
 *
 * <p>Two open-addressing indexes (idempotency key → entry, batch key → acked entry) store, in one
 * long per slot, the key's mixed hash and the entry number, so a probe reads one array and touches
 * the text only when the hashes match. An entry whose key was taken over by a later one (a batch
 * key acked again) loses that index slot; its flags say which indexes still point at it. A
 * forgotten entry's slots are left stale rather than removed (see {@link Index}).
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
  /** Flags: the idempotency index points at this entry. */
  private static final byte BY_IDEMPOTENCY_KEY = 1;
  /** Flags: the batch-key index points at this entry (an acked batch). */
  private static final byte BY_BATCH_KEY = 2;
  private static final byte ACKED = 4;

  private static final int MIN_ROWS = 16;
  /**
   * How many new entries wait in the young tables before they move to the large ones, at most:
   * a 64th of the entries remembered, between 8 and this, so that a quiet pipeline's young tables
   * take a few hundred bytes and a busy one's 32 KB each.
   */
  static final int PENDING_ENTRIES = 1024;
  private static final int MIN_PENDING = 8;

  // ---- rows: entry n at n & rowMask ----------------------------------------------------------
  private long head;
  private long tail;
  private int rowMask;
  private long[] leftAtMs;
  private long[] records;
  private long[] sequence;
  private long[] runId;
  private long[] startedAtMs;
  private long[] textStart;
  private int[] idempotencyKeyLength;
  private int[] batchKeyLength;
  private int[] attempt;
  /** The keys' mixed hashes, so that forgetting an entry finds its index slots without its text. */
  private int[] idempotencyKeyHash;
  private int[] batchKeyHash;
  /** Index into {@code stageNames}: a reference column would be the one thing here the GC scans. */
  private int[] stage;
  private byte[] flags;

  // ---- text ring: characters of both keys, logical offset t at t & textMask ------------------
  private char[] text = new char[1024];
  private int textMask = text.length - 1;
  /** The logical end of the text in use; its start is {@code textStart} of the head entry. */
  private long textEnd;

  private final int maxPendingLimit;
  private int pendingLimit;
  private final Index byIdempotencyKey;
  private final Index byBatchKey;
  /**
   * Entries numbered from here on are in the young tables only (those not forgotten yet): at most
   * {@code pendingLimit} of them.
   */
  private long indexedUpTo;
  /** Where the warm-up loads of {@link #indexPending} go, so that they are not optimised away. */
  private long warmed;
  /** Every remembered idempotency key (and some forgotten ones): see {@link RememberedKeyFilter}. */
  private final RememberedKeyFilter idempotencyKeyFilter = new RememberedKeyFilter();

  /** The pipeline's stage names in declaration order, and the way back. */
  private String[] stageNames;
  private final Map<String, Integer> stageIndex = new HashMap<>();

  /**
   * A copy to read with {@link #forEach} (and the counts) while the original carries on: the
   * columns and the text are copied, at memory speed; the indexes are not, so lookups on the copy
   * find nothing. For finishing a signature outside the pipeline's lock.
   */
  RememberedBatches copyForReading() {
    indexPending();
    RememberedBatches copy = new RememberedBatches(stageNames, stageIndex, MIN_PENDING);
    copy.indexedUpTo = tail;
    copy.head = head;
    copy.tail = tail;
    copy.rowMask = rowMask;
    copy.leftAtMs = leftAtMs.clone();
    copy.records = records.clone();
    copy.sequence = sequence.clone();
    copy.runId = runId.clone();
    copy.startedAtMs = startedAtMs.clone();
    copy.textStart = textStart.clone();
    copy.idempotencyKeyLength = idempotencyKeyLength.clone();
    copy.batchKeyLength = batchKeyLength.clone();
    copy.attempt = attempt.clone();
    copy.idempotencyKeyHash = idempotencyKeyHash.clone();
    copy.batchKeyHash = batchKeyHash.clone();
    copy.stage = stage.clone();
    copy.flags = flags.clone();
    copy.text = text.clone();
    copy.textMask = textMask;
    copy.textEnd = textEnd;
    copy.byIdempotencyKey.size = byIdempotencyKey.size;
    copy.byBatchKey.size = byBatchKey.size;
    return copy;
  }

  private RememberedBatches(
      String[] stageNames, Map<String, Integer> stageIndex, int pendingLimit) {
    this.stageNames = stageNames;
    this.stageIndex.putAll(stageIndex);
    this.maxPendingLimit = pendingLimit;
    this.pendingLimit = pendingLimit;
    this.byIdempotencyKey = new Index(true, pendingLimit);
    this.byBatchKey = new Index(false, pendingLimit);
  }

  RememberedBatches(List<String> stageNames) {
    this(stageNames, PENDING_ENTRIES);
  }

  /** With at most {@code maxPendingLimit} (≥ 1) entries in the young tables: for tests. */
  RememberedBatches(List<String> stageNames, int maxPendingLimit) {
    if (maxPendingLimit < 1) {
      throw new IllegalArgumentException("maxPendingLimit must be ≥ 1, got " + maxPendingLimit);
    }
    this.maxPendingLimit = maxPendingLimit;
    this.pendingLimit = Math.min(MIN_PENDING, maxPendingLimit);
    this.byIdempotencyKey = new Index(true, pendingLimit);
    this.byBatchKey = new Index(false, pendingLimit);
    this.stageNames = stageNames.toArray(String[]::new);
    for (int i = 0; i < this.stageNames.length; i++) {
      stageIndex.put(this.stageNames[i], i);
    }
    allocateRows(MIN_ROWS);
  }

  /**
   * Stages appended to the pipeline by an update (SPEC 3.9: stages only grow at the end, so the
   * indexes already stored stay right). A new array, so a reading copy keeps its own.
   */
  void addStages(List<String> added) {
    if (added.isEmpty()) {
      return;
    }
    String[] grown = java.util.Arrays.copyOf(stageNames, stageNames.length + added.size());
    for (String name : added) {
      stageIndex.put(name, stageIndex.size());
      grown[stageIndex.size() - 1] = name;
    }
    stageNames = grown;
  }

  /** Entries not yet forgotten (including those no index points at any more). */
  int size() {
    return (int) (tail - head);
  }

  /** Remembered idempotency keys. */
  int idempotencyKeyCount() {
    indexPending();
    return byIdempotencyKey.size;
  }

  /** Remembered acks (one per batch key: the latest). */
  int ackCount() {
    indexPending();
    return byBatchKey.size;
  }

  /**
   * Remembers {@code batch}, gone at {@code leftAtMs}: its idempotency key and, when {@code
   * ackedAttempt} ≥ 1, its ack (with {@code runId} and {@code startedAtMs}), replacing an older
   * ack of the same batch key.
   */
  void add(Batch batch, long leftAtMs, int ackedAttempt, long runId, long startedAtMs) {
    if (tail - head == rowMask + 1L) {
      growRows();
    }
    String idem = batch.idempotencyKey();
    String key = batch.key();
    long start = appendText(idem, key);
    long n = tail++;
    int row = (int) (n & rowMask);
    this.leftAtMs[row] = leftAtMs;
    this.records[row] = batch.records();
    this.sequence[row] = batch.sequence();
    this.runId[row] = runId;
    this.startedAtMs[row] = startedAtMs;
    this.textStart[row] = start;
    this.idempotencyKeyLength[row] = idem.length();
    this.batchKeyLength[row] = key.length();
    this.attempt[row] = ackedAttempt;
    Integer stageOfBatch = stageIndex.get(batch.stage());
    if (stageOfBatch == null) {
      throw new IllegalArgumentException("unknown stage '" + batch.stage() + "'");
    }
    this.stage[row] = stageOfBatch;
    int idemHash = mix(idem.hashCode());
    int keyHash = mix(key.hashCode());
    this.idempotencyKeyHash[row] = idemHash;
    this.batchKeyHash[row] = keyHash;
    // The BY_ flags are set when the entry moves to the large tables.
    flags[row] = ackedAttempt > 0 ? ACKED : 0;
    byIdempotencyKey.putYoung(idemHash, n);
    if (ackedAttempt > 0) {
      byBatchKey.putYoung(keyHash, n);
    }
    idempotencyKeyFilter.add(idemHash);
    if (idempotencyKeyFilter.isFull()) {
      rebuildFilter();
    }
    if (tail - indexedUpTo >= pendingLimit) {
      indexPending();
    }
  }

  /** The remembered entry of idempotency key {@code key} (the latest), or null. */
  GoneBatch byIdempotencyKey(String key) {
    int hash = mix(key.hashCode());
    if (!idempotencyKeyFilter.mightContain(hash)) {
      return null;
    }
    long n = byIdempotencyKey.find(key, hash);
    return n < 0 ? null : entry(n);
  }

  /** The remembered ack of batch {@code key} (the latest, if it was acked more than once), or null. */
  GoneBatch ackOf(String key) {
    long n = byBatchKey.find(key, mix(key.hashCode()));
    return n < 0 ? null : entry(n);
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
    if (indexedUpTo == tail) {
      return;
    }
    long from = Math.max(indexedUpTo, head);
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
    idempotencyKeyFilter.reset(2L * (tail - head));
    for (long n = head; n < tail; n++) {
      idempotencyKeyFilter.add(idempotencyKeyHash[(int) (n & rowMask)]);
    }
  }

  /** Forgets every entry that left at least {@code windowMs} before {@code nowMs}. */
  void forgetExpired(long nowMs, long windowMs) {
    while (head < tail) {
      int row = (int) (head & rowMask);
      if (nowMs - leftAtMs[row] < windowMs) {
        break;
      }
      if ((flags[row] & BY_IDEMPOTENCY_KEY) != 0) {
        byIdempotencyKey.forgotten();
      }
      if ((flags[row] & BY_BATCH_KEY) != 0) {
        byBatchKey.forgotten();
      }
      head++;
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
    int count = 0;
    for (long n = head; n < tail; n++) {
      if ((flags[(int) (n & rowMask)] & flag) != 0) {
        count++;
      }
    }
    int[] offsets = new int[count];
    int at = 0;
    for (long n = head; n < tail; n++) {
      if ((flags[(int) (n & rowMask)] & flag) != 0) {
        offsets[at++] = (int) (n - head);
      }
    }
    int[] scratch = new int[count];
    // Bottom-up merge sort: no boxing, no comparator objects.
    for (int width = 1; width < count; width *= 2) {
      for (int lo = 0; lo < count - width; lo += 2 * width) {
        int mid = lo + width;
        int hi = Math.min(lo + 2 * width, count);
        int i = lo;
        int j = mid;
        int k = lo;
        while (i < mid && j < hi) {
          scratch[k++] = compareKeys(offsets[j], offsets[i], idempotency) < 0
              ? offsets[j++] : offsets[i++];
        }
        while (i < mid) {
          scratch[k++] = offsets[i++];
        }
        while (j < hi) {
          scratch[k++] = offsets[j++];
        }
        System.arraycopy(scratch, lo, offsets, lo, hi - lo);
      }
    }
    return offsets;
  }

  /** {@code String.compareTo} of the keys of the entries at offsets {@code a} and {@code b}. */
  private int compareKeys(int a, int b, boolean idempotency) {
    int rowA = (int) ((head + a) & rowMask);
    int rowB = (int) ((head + b) & rowMask);
    long startA = textStart[rowA];
    long startB = textStart[rowB];
    int lengthA = idempotencyKeyLength[rowA];
    int lengthB = idempotencyKeyLength[rowB];
    if (!idempotency) {
      startA += lengthA;
      startB += lengthB;
      lengthA = batchKeyLength[rowA];
      lengthB = batchKeyLength[rowB];
    }
    for (int i = 0, n = Math.min(lengthA, lengthB); i < n; i++) {
      char ca = text[(int) ((startA + i) & textMask)];
      char cb = text[(int) ((startB + i) & textMask)];
      if (ca != cb) {
        return ca - cb;
      }
    }
    return lengthA - lengthB;
  }

  /** {@code String.compareTo} of {@code key} and the key of the entry at offset {@code b}. */
  int compareKey(String key, int b, boolean idempotency) {
    int row = (int) ((head + b) & rowMask);
    long start = textStart[row];
    int length = idempotencyKeyLength[row];
    if (!idempotency) {
      start += length;
      length = batchKeyLength[row];
    }
    for (int i = 0, n = Math.min(key.length(), length); i < n; i++) {
      char c = text[(int) ((start + i) & textMask)];
      if (key.charAt(i) != c) {
        return key.charAt(i) - c;
      }
    }
    return key.length() - length;
  }

  /** The entry at offset {@code offset} from the oldest one, as a view. */
  GoneBatch entryAt(int offset) {
    return entry(head + offset);
  }

  /**
   * For tests: rehash each index at least every {@code inserts} inserts (in production every
   * 2^30, which no test can reach), so that the purge of stale slots runs.
   */
  void purgeEvery(long inserts) {
    byIdempotencyKey.purgeEvery = inserts;
    byBatchKey.purgeEvery = inserts;
  }

  /** For tests: how many times the two indexes were rehashed. */
  int rehashCount() {
    return byIdempotencyKey.rehashes + byBatchKey.rehashes;
  }

  /** How many entries {@link #forEach} visits. */
  int indexedCount() {
    indexPending();
    int count = 0;
    for (long n = head; n < tail; n++) {
      if ((flags[(int) (n & rowMask)] & (BY_IDEMPOTENCY_KEY | BY_BATCH_KEY)) != 0) {
        count++;
      }
    }
    return count;
  }

  /** Visits the entries some index still points at, in the order they will be forgotten. */
  void forEach(Visitor visitor) {
    indexPending();
    for (long n = head; n < tail; n++) {
      int row = (int) (n & rowMask);
      if ((flags[row] & (BY_IDEMPOTENCY_KEY | BY_BATCH_KEY)) != 0) {
        visitor.visit(
            entry(n),
            (flags[row] & BY_IDEMPOTENCY_KEY) != 0,
            (flags[row] & BY_BATCH_KEY) != 0);
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
    long n = tail - 1;
    int row = (int) (n & rowMask);
    if (!byIdempotency) {
      byIdempotencyKey.remove(n);
      flags[row] &= ~BY_IDEMPOTENCY_KEY;
    }
    if (g.acked && !byBatch) {
      byBatchKey.remove(n);
      flags[row] &= ~BY_BATCH_KEY;
    }
  }

  // ---- rows and text ---------------------------------------------------------------------------

  private GoneBatch entry(long n) {
    int row = (int) (n & rowMask);
    long start = textStart[row];
    int idemLength = idempotencyKeyLength[row];
    return new GoneBatch(
        textAt(start, idemLength),
        textAt(start + idemLength, batchKeyLength[row]),
        stageNames[stage[row]],
        records[row],
        sequence[row],
        leftAtMs[row],
        (flags[row] & ACKED) != 0,
        attempt[row],
        runId[row],
        startedAtMs[row]);
  }

  private boolean keyEquals(long n, boolean idempotency, String key) {
    int row = (int) (n & rowMask);
    long start = textStart[row];
    int length = idempotencyKeyLength[row];
    if (!idempotency) {
      start += length;
      length = batchKeyLength[row];
    }
    if (length != key.length()) {
      return false;
    }
    for (int i = 0; i < length; i++) {
      if (text[(int) ((start + i) & textMask)] != key.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /** Whether entries {@code a} and {@code b} have the same idempotency (or batch) key. */
  private boolean sameKey(long a, long b, boolean idempotency) {
    int rowA = (int) (a & rowMask);
    int rowB = (int) (b & rowMask);
    long startA = textStart[rowA];
    long startB = textStart[rowB];
    int length = idempotencyKeyLength[rowA];
    if (idempotency) {
      if (length != idempotencyKeyLength[rowB]) {
        return false;
      }
    } else {
      startA += length;
      startB += idempotencyKeyLength[rowB];
      length = batchKeyLength[rowA];
      if (length != batchKeyLength[rowB]) {
        return false;
      }
    }
    for (int i = 0; i < length; i++) {
      if (text[(int) ((startA + i) & textMask)] != text[(int) ((startB + i) & textMask)]) {
        return false;
      }
    }
    return true;
  }

  private String textAt(long start, int length) {
    char[] chars = new char[length];
    for (int i = 0; i < length; i++) {
      chars[i] = text[(int) ((start + i) & textMask)];
    }
    return new String(chars);
  }

  /** Appends both keys to the text ring; returns where they start. */
  private long appendText(String idem, String key) {
    long textHead = head < tail ? textStart[(int) (head & rowMask)] : textEnd;
    long needed = (textEnd - textHead) + idem.length() + key.length();
    if (needed > text.length) {
      growText(textHead, needed);
    }
    long start = textEnd;
    for (int i = 0; i < idem.length(); i++) {
      text[(int) ((textEnd++) & textMask)] = idem.charAt(i);
    }
    for (int i = 0; i < key.length(); i++) {
      text[(int) ((textEnd++) & textMask)] = key.charAt(i);
    }
    return start;
  }

  private void growText(long textHead, long needed) {
    int capacity = text.length;
    while (capacity < needed) {
      capacity *= 2;
    }
    char[] grown = new char[capacity];
    int grownMask = capacity - 1;
    for (long t = textHead; t < textEnd; t++) {
      grown[(int) (t & grownMask)] = text[(int) (t & textMask)];
    }
    text = grown;
    textMask = grownMask;
  }

  private void allocateRows(int capacity) {
    rowMask = capacity - 1;
    leftAtMs = new long[capacity];
    records = new long[capacity];
    sequence = new long[capacity];
    runId = new long[capacity];
    startedAtMs = new long[capacity];
    textStart = new long[capacity];
    idempotencyKeyLength = new int[capacity];
    batchKeyLength = new int[capacity];
    attempt = new int[capacity];
    idempotencyKeyHash = new int[capacity];
    batchKeyHash = new int[capacity];
    stage = new int[capacity];
    flags = new byte[capacity];
  }

  private void growRows() {
    int oldMask = rowMask;
    long[] oldLeft = leftAtMs;
    long[] oldRecords = records;
    long[] oldSequence = sequence;
    long[] oldRun = runId;
    long[] oldStarted = startedAtMs;
    long[] oldText = textStart;
    int[] oldIdemLength = idempotencyKeyLength;
    int[] oldKeyLength = batchKeyLength;
    int[] oldAttempt = attempt;
    int[] oldIdemHash = idempotencyKeyHash;
    int[] oldKeyHash = batchKeyHash;
    int[] oldStage = stage;
    byte[] oldFlags = flags;
    allocateRows((oldMask + 1) * 2);
    for (long n = head; n < tail; n++) {
      int from = (int) (n & oldMask);
      int to = (int) (n & rowMask);
      leftAtMs[to] = oldLeft[from];
      records[to] = oldRecords[from];
      sequence[to] = oldSequence[from];
      runId[to] = oldRun[from];
      startedAtMs[to] = oldStarted[from];
      textStart[to] = oldText[from];
      idempotencyKeyLength[to] = oldIdemLength[from];
      batchKeyLength[to] = oldKeyLength[from];
      attempt[to] = oldAttempt[from];
      idempotencyKeyHash[to] = oldIdemHash[from];
      batchKeyHash[to] = oldKeyHash[from];
      stage[to] = oldStage[from];
      flags[to] = oldFlags[from];
    }
  }

  // ---- the two key indexes -------------------------------------------------------------------

  /**
   * Key → entry number, open addressing with linear probing. A slot holds the key's mixed hash
   * (never 0) in its high 32 bits and the entry number's low 32 bits in its low 32; 0 is empty.
   *
   * <p>Forgetting an entry does not touch the table: its slot goes stale, recognisable because
   * its number, read relative to {@code head}, lands at or beyond {@code tail}. Lookups step over
   * stale slots and inserts reuse the first one on their path, so the remove that used to cost a
   * cache miss per forgotten key (two per acked batch) is gone. A rehash drops stale slots; it runs
   * when live and stale slots fill half the table, and at least every 2^30 inserts so that a stale
   * number can never come back into range.
   */
  private final class Index {
    private static final long PURGE_EVERY = 1L << 30;

    private final boolean idempotency;
    private long[] slots = new long[16];
    private int mask = 15;
    /**
     * Entries added since the last {@link #indexPending}, same slot format; at most half full, and
     * small enough to stay in the cache. Emptied when they move to {@code slots}.
     */
    private long[] young;
    private int youngMask;
    private boolean youngEmpty = true;
    /** Slots pointing at entries not yet forgotten. */
    private int size;
    /** Slots not empty: live and stale. */
    private int occupied;
    private long insertsSinceRehash;
    /** {@link #PURGE_EVERY}, lowered by tests so that the purge actually runs. */
    private long purgeEvery = PURGE_EVERY;
    private int rehashes;

    Index(boolean idempotency, int pendingLimit) {
      this.idempotency = idempotency;
      resizeYoung(pendingLimit);
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
          // A stale slot's row may hold another entry by now: never compare its text.
          if (n < tail && keyEquals(n, idempotency, key)) {
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
        if (old < tail && (int) (slot >>> 32) == hash && sameKey(old, n, idempotency)) {
          break;
        }
      }
      young[i] = pack(hash, n);
    }

    void clearYoung() {
      if (!youngEmpty) {
        Arrays.fill(young, 0);
        youngEmpty = true;
      }
    }

    /** The slot a key of mixed hash {@code hash} probes first. */
    long homeSlot(int hash) {
      return slots[hash & mask];
    }

    /**
     * Points entry {@code n}'s key (mixed hash {@code hash}) at it; returns the entry it pointed
     * at before, or -1.
     */
    long put(int hash, long n) {
      int i = hash & mask;
      int stale = -1;
      for (long slot; (slot = slots[i]) != 0; i = (i + 1) & mask) {
        long old = number(slot);
        if (old >= tail) {
          if (stale < 0) {
            stale = i;
          }
        } else if ((int) (slot >>> 32) == hash && sameKey(old, n, idempotency)) {
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

    /** Entry {@code n}, which this index points at, was forgotten: its slot is stale now. */
    void forgotten() {
      size--;
    }

    /** Removes the slot that points at entry {@code n} (which must be indexed here). */
    void remove(long n) {
      int row = (int) (n & rowMask);
      int hash = idempotency ? idempotencyKeyHash[row] : batchKeyHash[row];
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

    private long number(long slot) {
      // The entry whose low 32 bits these are, among head .. head + 2^32 - 1.
      return head + ((slot - head) & 0xFFFF_FFFFL);
    }

    /** Drops stale slots, into a table at most a quarter full. */
    private void rehash() {
      int capacity = 16;
      while (capacity < 4L * size) {
        capacity *= 2;
      }
      long[] old = slots;
      slots = new long[capacity];
      mask = capacity - 1;
      for (long slot : old) {
        if (slot != 0 && number(slot) < tail) {
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
  }

  private static long pack(int hash, long n) {
    return ((long) hash << 32) | (n & 0xFFFF_FFFFL);
  }

  /** Spreads a {@code String.hashCode} over all bits; never 0, which marks an empty slot. */
  private static int mix(int h) {
    int x = h * 0x9E3779B9;
    x ^= x >>> 16;
    return x == 0 ? 1 : x;
  }

  @Override
  public String toString() {
    return "RememberedBatches[" + size() + " entries, " + byIdempotencyKey.size + " keys, "
        + byBatchKey.size + " acks, text " + text.length + " chars, rows " + (rowMask + 1)
        + ", young tables for " + pendingLimit + "]";
  }
}
