package dev.lightspeed.orchestrator.core;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The storage of {@link RememberedBatches}: one row of primitive columns per remembered batch,
 * and both of its keys as characters in one shared text ring, so that no remembered batch is an
 * object (why: see {@link RememberedBatches}).
 *
 * <p>Entries are numbered in the order they were added ({@code head} ≤ n &lt; {@code tail}) and
 * forgotten oldest first by moving {@code head}. Row n lives at {@code n & rowMask} of every
 * column; its keys at {@code [textStart, textStart + idempotency length + key length)} of the text
 * ring, logical offset t at {@code t & textMask}. Both grow by doubling.
 *
 * <p>The ring's bounds ({@code head}, {@code tail}, {@code rowMask}), the flags and the key hashes
 * are package-private fields that {@link RememberedBatches} reads and writes in place: its loops
 * over the young entries and its forgetting touch them per entry, as they did when all of this
 * was one class.
 */
final class RememberedRows {
  /** Flags: the idempotency index points at this entry. */
  static final byte BY_IDEMPOTENCY_KEY = 1;
  /** Flags: the batch-key index points at this entry (an acked batch). */
  static final byte BY_BATCH_KEY = 2;
  static final byte ACKED = 4;

  private static final int MIN_ROWS = 16;

  long head;
  long tail;
  int rowMask;
  private long[] leftAtMs;
  private long[] records;
  private long[] sequence;
  private long[] runId;
  private long[] startedAtMs;
  private long[] textStart;
  private int[] idempotencyKeyLength;
  private int[] batchKeyLength;
  private int[] attempt;
  /** The keys' mixed hashes, so that re-indexing an entry needs no text. */
  int[] idempotencyKeyHash;
  int[] batchKeyHash;
  /** Index into {@code stageNames}: a reference column would be the one thing here the GC scans. */
  private int[] stage;
  byte[] flags;

  private char[] text = new char[1024];
  private int textMask = text.length - 1;
  /** The logical end of the text in use; its start is {@code textStart} of the head entry. */
  private long textEnd;

  /** The pipeline's stage names in declaration order, and the way back. */
  private String[] stageNames;
  private final Map<String, Integer> stageIndex = new HashMap<>();

  /** The idempotency keys and the batch keys, as {@link EntryHashIndex} sees them. */
  final EntryHashIndex.Entries idempotencyKeys = new Keys(true);
  final EntryHashIndex.Entries batchKeys = new Keys(false);

  RememberedRows(List<String> stageNames) {
    this.stageNames = stageNames.toArray(String[]::new);
    for (int i = 0; i < this.stageNames.length; i++) {
      stageIndex.put(this.stageNames[i], i);
    }
    allocateRows(MIN_ROWS);
  }

  private RememberedRows(RememberedRows original) {
    stageNames = original.stageNames;
    stageIndex.putAll(original.stageIndex);
    head = original.head;
    tail = original.tail;
    rowMask = original.rowMask;
    leftAtMs = original.leftAtMs.clone();
    records = original.records.clone();
    sequence = original.sequence.clone();
    runId = original.runId.clone();
    startedAtMs = original.startedAtMs.clone();
    textStart = original.textStart.clone();
    idempotencyKeyLength = original.idempotencyKeyLength.clone();
    batchKeyLength = original.batchKeyLength.clone();
    attempt = original.attempt.clone();
    idempotencyKeyHash = original.idempotencyKeyHash.clone();
    batchKeyHash = original.batchKeyHash.clone();
    stage = original.stage.clone();
    flags = original.flags.clone();
    text = original.text.clone();
    textMask = original.textMask;
    textEnd = original.textEnd;
  }

  /** A copy of every column and the text, at memory speed. */
  RememberedRows copy() {
    return new RememberedRows(this);
  }

  /**
   * Stages appended to the pipeline by an update (SPEC 3.9: stages only grow at the end, so the
   * indexes already stored stay right). A new array, so a copy keeps its own.
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

  /**
   * Appends {@code batch} as the newest entry, with the keys' mixed hashes and the {@link #ACKED}
   * flag when {@code ackedAttempt} ≥ 1; returns its number.
   */
  long add(Batch batch, long leftAtMs, int ackedAttempt, long runId, long startedAtMs,
      int idemHash, int keyHash) {
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
    this.idempotencyKeyHash[row] = idemHash;
    this.batchKeyHash[row] = keyHash;
    flags[row] = ackedAttempt > 0 ? ACKED : 0;
    return n;
  }

  /** Entry {@code n} as a view. */
  GoneBatch entry(long n) {
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

  /** When entry {@code n} left. */
  long leftAtMs(long n) {
    return leftAtMs[(int) (n & rowMask)];
  }

  /** {@code String.compareTo} of the keys of entries {@code a} and {@code b}. */
  int compareKeys(long a, long b, boolean idempotency) {
    int rowA = (int) (a & rowMask);
    int rowB = (int) (b & rowMask);
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

  /** {@code String.compareTo} of {@code key} and the key of entry {@code b}. */
  int compareKey(String key, long b, boolean idempotency) {
    int row = (int) (b & rowMask);
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

  /** One of the two keys of every entry, for an index. */
  private final class Keys implements EntryHashIndex.Entries {
    private final boolean idempotency;

    Keys(boolean idempotency) {
      this.idempotency = idempotency;
    }

    @Override
    public long oldest() {
      return head;
    }

    @Override
    public long end() {
      return tail;
    }

    @Override
    public boolean keyEquals(long n, String key) {
      return RememberedRows.this.keyEquals(n, idempotency, key);
    }

    @Override
    public boolean sameKey(long a, long b) {
      return RememberedRows.this.sameKey(a, b, idempotency);
    }

    @Override
    public int hash(long n) {
      int row = (int) (n & rowMask);
      return idempotency ? idempotencyKeyHash[row] : batchKeyHash[row];
    }
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

  @Override
  public String toString() {
    return size() + " entries, text " + text.length + " chars, rows " + (rowMask + 1);
  }

  /** Entries not yet forgotten. */
  int size() {
    return (int) (tail - head);
  }
}
