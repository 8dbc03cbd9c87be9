package dev.lightspeed.orchestrator.durability;

import dev.lightspeed.orchestrator.host.PipelineRegistry;
import dev.lightspeed.orchestrator.journal.CommandLog;
import dev.lightspeed.orchestrator.journal.SnapshotStore;
import dev.lightspeed.orchestrator.journal.v1.SnapshotFile;
import java.io.IOException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The snapshotter of an open data directory: a thread that, every {@link Durability#TURN_MILLIS},
 * follows the journal with its copy of the state ({@link ShadowRegistry}) and takes a snapshot
 * when {@link SnapshotTrigger} says one is due, paced by {@link CpuPacer} and at a lower priority
 * ({@link ThreadNice}); after a failure it waits ({@link #retryDelayMillis}) and tries again. At
 * shutdown it takes the last snapshot, of the live registry. It exists apart from {@link
 * Durability}, which opens the directory (lock, recovery), because its schedule and its state
 * (the last snapshot, the copy, the failures) live as long as the server runs.
 */
final class Snapshotter {
  /** Logs under Durability's name, as docs/operations.md lists it. */
  private static final Logger log = LoggerFactory.getLogger(Durability.class);

  private final PipelineRegistry registry;
  private final CommandLog journal;
  private final SnapshotStore snapshots;
  private final Durability.Options options;
  private final ScheduledExecutorService executor;
  /** The newest snapshot: its floor, the journal's appendedBytes when it was chosen, its size. */
  private long lastSnapshotIndex;
  private long bytesAtLastSnapshot;
  private long lastSnapshotBytes;
  /**
   * The snapshotter's copy of the state, following the journal (with {@code snapshotFollow}):
   * built on the snapshotter's first turn, dropped after any failure and built again. Guarded by
   * {@code this}.
   */
  private ShadowRegistry shadow;
  /** The event retention {@link #shadow} was given (0: none yet). */
  private int shadowRetention;
  /** The snapshotter thread's own: failed turns in a row, and when to try again. */
  private volatile int failuresInARow;
  private long retryAtNanos;
  private boolean closed;
  private volatile boolean closing;

  /**
   * Starts the snapshotter over {@code journal}, whose newest snapshot has floor {@code
   * snapshotIndex} and size {@code snapshotBytes}, with {@code journalBytesSinceSnapshot} bytes of
   * journal recovered after it.
   */
  Snapshotter(
      PipelineRegistry registry,
      CommandLog journal,
      SnapshotStore snapshots,
      Durability.Options options,
      long snapshotIndex,
      long snapshotBytes,
      long journalBytesSinceSnapshot) {
    this.registry = registry;
    this.journal = journal;
    this.snapshots = snapshots;
    this.options = options;
    this.lastSnapshotIndex = snapshotIndex;
    this.lastSnapshotBytes = snapshotBytes;
    // appendedBytes counts from this start; the journal recovered after the snapshot counts too
    this.bytesAtLastSnapshot = -journalBytesSinceSnapshot;
    this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "snapshotter");
      t.setDaemon(true);
      return t;
    });
    if (options.snapshotNice() > 0) {
      int nice = options.snapshotNice();
      executor.execute(() -> ThreadNice.lowerCurrentThread(nice));
    }
    executor.scheduleWithFixedDelay(this::turn, Durability.TURN_MILLIS, Durability.TURN_MILLIS,
        TimeUnit.MILLISECONDS);
  }

  /**
   * Takes a snapshot now, from the log, at the newest durable journal record, and compacts the
   * journal it covers; does nothing if no record was written since the last one. Calls go on
   * meanwhile: no pipeline is locked (see {@link ShadowSnapshot}).
   */
  synchronized void snapshot() throws IOException {
    if (closed) {
      return;
    }
    long upTo = journal.durableIndex();
    long bytesUpTo = journal.appendedBytes();
    if (upTo <= lastSnapshotIndex) {
      return;
    }
    long started = System.nanoTime();
    ShadowSnapshot.Taken taken;
    if (options.snapshotFollow()) {
      long catchUpStarted = System.nanoTime();
      long caughtUp = follow(upTo);
      long catchUpMs = (System.nanoTime() - catchUpStarted) / 1_000_000;
      try {
        taken = ShadowSnapshot.write(
            snapshots, shadow, lastSnapshotIndex, upTo - lastSnapshotIndex, 0, catchUpMs);
      } catch (IOException | RuntimeException e) {
        dropShadow();
        throw e;
      }
      log.info("snapshot at journal record {} ({} pipelines, {} bytes) in {} ms, from the log"
              + " by the snapshotter's copy of the state, which follows it: {} records since the"
              + " snapshot at record {}, the last {} applied in {} ms; written in {} ms",
          upTo, taken.pipelines(), taken.bytes(), (System.nanoTime() - started) / 1_000_000,
          taken.recordsReplayed(), taken.previousFloor(), caughtUp, catchUpMs, taken.writeMs());
    } else {
      taken = ShadowSnapshot.take(snapshots, journal, upTo,
          new CpuPacer(options.snapshotCpuShare()), registry.eventRetention());
      log.info("snapshot at journal record {} ({} pipelines, {} bytes) in {} ms, from the log:"
              + " previous snapshot (record {}) loaded in {} ms, {} journal records replayed in {}"
              + " ms, written in {} ms",
          upTo, taken.pipelines(), taken.bytes(), (System.nanoTime() - started) / 1_000_000,
          taken.previousFloor(), taken.loadMs(), taken.recordsReplayed(), taken.replayMs(),
          taken.writeMs());
    }
    compactJournal();
    lastSnapshotIndex = upTo;
    bytesAtLastSnapshot = bytesUpTo;
    lastSnapshotBytes = taken.bytes();
  }

  /**
   * Brings the snapshotter's copy of the state to journal record {@code upTo}, building it from
   * the files first if there is none; returns how many records it applied. Caller holds {@code
   * this}.
   */
  private long follow(long upTo) throws IOException {
    boolean building = shadow == null;
    long started = System.nanoTime();
    try {
      if (building) {
        shadow = ShadowRegistry.load(snapshots, journal);
      }
      // The live server's retention, set after recovery (so after a copy built at the start).
      if (shadowRetention != registry.eventRetention()) {
        shadowRetention = registry.eventRetention();
        shadow.eventRetention(shadowRetention);
      }
      long applied = shadow.catchUp(upTo, new CpuPacer(options.snapshotCpuShare()));
      if (building) {
        log.info("snapshotter: its copy of the state was built in {} ms (snapshot at record {}"
                + " loaded in {} ms, {} journal records applied); it follows the journal from here",
            (System.nanoTime() - started) / 1_000_000, shadow.loadedFloor(), shadow.loadMs(),
            applied);
      }
      return applied;
    } catch (IOException | RuntimeException e) {
      dropShadow();
      throw e;
    }
  }

  /** The journal record the snapshotter's copy of the state is at; -1 when it has none (tests). */
  synchronized long copyIndex() {
    return shadow == null ? -1 : shadow.appliedIndex();
  }

  /** Frees the snapshotter's copy of the state (the next turn builds it again). */
  private void dropShadow() {
    if (shadow == null) {
      return;
    }
    try {
      shadow.close();
    } catch (IOException e) {
      log.debug("closing the snapshotter's journal tail failed", e);
    }
    shadow = null;
    shadowRetention = 0;
  }

  /**
   * The shutdown snapshot: a copy of the live registry, faster than one from the log, and nobody
   * waits for its locks once calls have stopped. Only if every appended record is durable: else
   * (a failed journal, or writes still pending) the live state may be ahead of the disk, and the
   * snapshot is taken from the log instead.
   */
  private synchronized void snapshotLive() throws IOException {
    if (closed) {
      return;
    }
    if (journal.durableIndex() != journal.lastIndex() || journal.failure() != null
        || registry.gate().failed()) {
      // After a journal failure the live pipelines may hold changes that are on no disk (even
      // with every index durable: a change applied after the failure got no index at all).
      snapshot();
      return;
    }
    long started = System.nanoTime();
    SnapshotFile file = registry.snapshot();
    if (file.getFloorIndex() <= lastSnapshotIndex) {
      return; // nothing changed since the last snapshot
    }
    snapshots.save(file.getFloorIndex(), file::writeTo);
    compactJournal();
    lastSnapshotIndex = file.getFloorIndex();
    log.info("snapshot at journal record {} ({} pipelines, {} bytes) in {} ms, of the live"
            + " pipelines at shutdown",
        file.getFloorIndex(), file.getPipelinesCount(), file.getSerializedSize(),
        (System.nanoTime() - started) / 1_000_000);
  }

  /**
   * Deletes the journal segments that every kept snapshot covers: up to the floor of the oldest
   * one kept (the one before the newest), so that start-up can fall back to it, with the journal
   * after it, if the newest fails its checks.
   */
  private void compactJournal() throws IOException {
    var oldest = snapshots.oldest();
    if (oldest.isPresent()) {
      journal.compactUpTo(oldest.get().index());
    }
  }

  /** See {@link Durability#retryDelayMillis}. */
  static long retryDelayMillis(int failuresInARow) {
    return Math.min(60_000L, 1_000L << Math.min(Math.max(failuresInARow, 1) - 1, 6));
  }

  /** Failed turns since the last good one (for tests). */
  int failuresInARow() {
    return failuresInARow;
  }

  /**
   * One turn of the snapshotter: follow the journal (with {@code snapshotFollow}), then take a
   * snapshot if one is due. After a failure, turns are skipped until {@link #retryDelayMillis}.
   */
  private void turn() {
    if (failuresInARow > 0 && System.nanoTime() - retryAtNanos < 0) {
      return;
    }
    IOException journalFailure = journal.failure();
    if (journalFailure != null) {
      registry.gate().fail(journalFailure); // no call may have seen it yet
    }
    try {
      boolean due;
      synchronized (this) {
        if (closed) {
          return;
        }
        if (options.snapshotFollow()) {
          follow(journal.durableIndex());
        }
        due = options.trigger().due(
            journal.lastIndex() - lastSnapshotIndex,
            journal.appendedBytes() - bytesAtLastSnapshot,
            lastSnapshotBytes);
      }
      if (due) {
        snapshot();
      }
      if (failuresInARow > 0) {
        log.info("snapshotter works again after {} failed turns", failuresInARow);
        failuresInARow = 0;
      }
    } catch (IOException | RuntimeException e) {
      if (closing) {
        // close() interrupted it (reading or writing a file fails then); close snapshots anyway
        log.info("snapshot abandoned at shutdown: {}", e.toString());
        return;
      }
      failuresInARow++;
      long delay = retryDelayMillis(failuresInARow);
      retryAtNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delay);
      log.error("snapshotter failed ({} in a row); it tries again in {} s. The journal keeps"
              + " every record until a snapshot succeeds", failuresInARow, delay / 1000, e);
    }
  }

  /**
   * Stops the turns (a snapshot being built from the log is abandoned: the one of the live
   * registry is faster), takes that last snapshot and frees the copy of the state.
   */
  void close() throws IOException {
    closing = true;
    executor.shutdownNow();
    try {
      snapshotLive();
    } finally {
      synchronized (this) {
        closed = true;
        dropShadow();
      }
    }
  }
}
