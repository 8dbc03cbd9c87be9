package dev.lightspeed.orchestrator.durability;

/**
 * When the next snapshot is due. A snapshot costs time in proportion to the state (write it; and,
 * when the snapshotter does not follow the journal, load the previous one) plus, without
 * following, the journal since the last one (replay it). So one is due only once the journal since the last snapshot is at least {@code
 * journalRatio} times the last snapshot's size, which keeps the snapshotter's work per journal
 * byte bounded however large the state grows; and, as before, once {@code everyRecords} records
 * or {@code everyBytes} journal bytes have been written since, so small states are not
 * snapshotted after every few records.
 *
 * <p>What this bounds (docs/durability.md): the journal a restart replays is at most about {@code
 * max(journalRatio × snapshot size, everyRecords records or everyBytes)} plus what arrives while
 * a snapshot is built, and disk use is the snapshot plus that journal.
 *
 * @param everyRecords at least this many records since the last snapshot (--snapshot-every) ...
 * @param everyBytes ... or at least this many journal bytes
 * @param journalRatio and, either way, journal bytes since ≥ this × the last snapshot's bytes
 */
record SnapshotTrigger(long everyRecords, long everyBytes, double journalRatio) {
  /** 1: the journal since the last snapshot may grow about as large as the snapshot itself. */
  static final double DEFAULT_JOURNAL_RATIO = 1.0;

  SnapshotTrigger {
    if (everyRecords < 1 || everyBytes < 1 || journalRatio < 0) {
      throw new IllegalArgumentException(
          "snapshot trigger needs records ≥ 1, bytes ≥ 1, ratio ≥ 0 (got " + everyRecords + ", "
              + everyBytes + ", " + journalRatio + ")");
    }
  }

  /**
   * Whether a snapshot is due, {@code records} and {@code journalBytes} having been appended since
   * the last one, whose file had {@code lastSnapshotBytes} bytes (0 when there is none).
   */
  boolean due(long records, long journalBytes, long lastSnapshotBytes) {
    if (records < 1) {
      return false;
    }
    boolean proportionate = journalBytes >= journalRatio * lastSnapshotBytes;
    return proportionate && (records >= everyRecords || journalBytes >= everyBytes);
  }
}
