package dev.lightspeed.orchestrator.server;

import dev.lightspeed.orchestrator.journal.CommandLog;
import dev.lightspeed.orchestrator.journal.InMemoryCommandLog;
import dev.lightspeed.orchestrator.journal.SnapshotStore;
import dev.lightspeed.orchestrator.journal.v1.SnapshotFile;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.Optional;

/**
 * A snapshot built from the log instead of from the live state (the "snapshot from log" idea of
 * Raft implementations such as Apache Ratis): a shadow registry of its own is recovered exactly
 * as start-up recovers one — the previous snapshot file, then the journal records after its
 * floor up to {@code upTo} read back from the segment files — and that shadow is written out.
 *
 * <p>Why: copying the live state means holding each pipeline's lock for a time proportional to
 * its state (seconds for hundreds of MB), and every call on that pipeline waits. Here the live
 * registry and its pipelines are never locked; the price is CPU and, while it runs, a second copy
 * of the state in memory (the shadow is garbage as soon as it is written). Determinism of the
 * core makes the two paths agree: the shadow at {@code upTo} is what a restart would recover
 * from the same files, which is what the live pipelines were at {@code upTo}. A {@link CpuPacer}
 * can keep that CPU to a share of one core ({@code --snapshot-cpu}).
 */
final class ShadowSnapshot {
  private ShadowSnapshot() {}

  /** What one snapshot did, for its log line. */
  record Taken(
      long floorIndex, int pipelines, long bytes, long previousFloor, long recordsReplayed,
      long loadMs, long replayMs, long writeMs) {}

  /**
   * Builds the snapshot at {@code upTo} (≤ the journal's durable index, > the newest snapshot's
   * floor) and saves it in {@code store}. The caller compacts the journal afterwards.
   */
  static Taken take(SnapshotStore store, CommandLog journal, long upTo, CpuPacer pacer)
      throws IOException {
    long started = System.nanoTime();
    PipelineRegistry shadow = new PipelineRegistry(new InMemoryCommandLog());
    long floor = 0;
    Optional<SnapshotStore.Stored> previous = store.latest();
    if (previous.isPresent()) {
      floor = Recovery.loadSnapshot(previous.get().file(), shadow);
    }
    if (upTo <= floor) {
      throw new IllegalArgumentException(
          "a snapshot at " + upTo + " would not be newer than the one at " + floor);
    }
    long loaded = System.nanoTime();
    abandonIfInterrupted();
    pacer.settle();
    long[] replayed = new long[1];
    journal.read(floor, upTo, (index, bytes) -> {
      Recovery.applyRecord(shadow, index, bytes);
      replayed[0]++;
      pacer.pace();
    });
    long applied = System.nanoTime();
    abandonIfInterrupted();
    SnapshotFile file = shadow.snapshotAt(upTo);
    store.save(upTo, file::writeTo);
    long written = System.nanoTime();
    return new Taken(
        upTo, file.getPipelinesCount(), file.getSerializedSize(), floor, replayed[0],
        millis(loaded - started), millis(applied - loaded), millis(written - applied));
  }

  /** Shutdown interrupts a snapshot; the phases that only compute do not notice by themselves. */
  private static void abandonIfInterrupted() throws InterruptedIOException {
    if (Thread.currentThread().isInterrupted()) {
      throw new InterruptedIOException("interrupted");
    }
  }

  private static long millis(long nanos) {
    return nanos / 1_000_000;
  }
}
