package dev.lightspeed.orchestrator.durability;

import dev.lightspeed.orchestrator.journal.CommandLog;
import dev.lightspeed.orchestrator.journal.SnapshotStore;
import dev.lightspeed.orchestrator.journal.v1.SnapshotFile;
import java.io.IOException;

/**
 * A snapshot built from the log instead of from the live state (the "snapshot from log" idea of
 * Raft implementations such as Apache Ratis): a {@link ShadowRegistry}, the snapshotter's own
 * copy of the pipelines recovered from the files, is brought to the wanted journal record and
 * written out.
 *
 * <p>Why: copying the live state means holding each pipeline's lock for a time proportional to
 * its state (seconds for hundreds of MB), and every call on that pipeline waits. Here the live
 * registry and its pipelines are never locked; the price is a second copy of the state in
 * memory and the CPU to keep it. {@link Durability} either keeps that copy between snapshots,
 * following the journal, so a snapshot only writes it ({@link #write}); or builds it for each
 * snapshot and drops it after ({@link #take}), which frees the memory between snapshots but
 * spends seconds of CPU at once on a large state. A {@link CpuPacer} can keep that CPU to a
 * share of one core ({@code --snapshot-cpu}).
 */
final class ShadowSnapshot {
  private ShadowSnapshot() {}

  /** What one snapshot did, for its log line. */
  record Taken(
      long floorIndex, int pipelines, long bytes, long previousFloor, long recordsReplayed,
      long loadMs, long replayMs, long writeMs) {}

  /**
   * Builds a shadow for this one snapshot at {@code upTo} (≤ the journal's durable index, > the
   * newest snapshot's floor), saves it in {@code store}, and drops it. The caller compacts the
   * journal afterwards.
   */
  static Taken take(SnapshotStore store, CommandLog journal, long upTo, CpuPacer pacer,
      int eventRetention) throws IOException {
    try (ShadowRegistry shadow = ShadowRegistry.load(store, journal)) {
      shadow.eventRetention(eventRetention);
      long floor = shadow.appliedIndex();
      if (upTo <= floor) {
        throw new IllegalArgumentException(
            "a snapshot at " + upTo + " would not be newer than the one at " + floor);
      }
      ShadowRegistry.abandonIfInterrupted();
      pacer.settle();
      long replayStarted = System.nanoTime();
      long replayed = shadow.catchUp(upTo, pacer);
      long replayMs = millis(System.nanoTime() - replayStarted);
      ShadowRegistry.abandonIfInterrupted();
      return write(store, shadow, floor, replayed, shadow.loadMs(), replayMs);
    }
  }

  /**
   * Saves {@code shadow} as it is, as the snapshot at its applied index; the other arguments are
   * only reported back (the previous snapshot's floor, and how the shadow got here since).
   */
  static Taken write(
      SnapshotStore store, ShadowRegistry shadow, long previousFloor, long recordsReplayed,
      long loadMs, long replayMs) throws IOException {
    long started = System.nanoTime();
    long upTo = shadow.appliedIndex();
    SnapshotFile file = shadow.snapshotFile();
    store.save(upTo, file::writeTo);
    return new Taken(
        upTo, file.getPipelinesCount(), file.getSerializedSize(), previousFloor, recordsReplayed,
        loadMs, replayMs, millis(System.nanoTime() - started));
  }

  private static long millis(long nanos) {
    return nanos / 1_000_000;
  }
}
