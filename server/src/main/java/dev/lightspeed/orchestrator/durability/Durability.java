package dev.lightspeed.orchestrator.durability;

import dev.lightspeed.orchestrator.host.PipelineRegistry;
import dev.lightspeed.orchestrator.host.PipelineStore;
import dev.lightspeed.orchestrator.journal.CommandLog;
import dev.lightspeed.orchestrator.journal.FileCommandLog;
import dev.lightspeed.orchestrator.journal.FsyncMode;
import dev.lightspeed.orchestrator.journal.InMemoryCommandLog;
import dev.lightspeed.orchestrator.journal.JournalFiles;
import dev.lightspeed.orchestrator.journal.SnapshotStore;
import dev.lightspeed.orchestrator.journal.v1.SnapshotFile;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the pipelines live: in memory only, or in a data directory with a journal and snapshots.
 *
 * <p>Recovery = the newest snapshot + replay of the journal records after it; the pipelines come
 * back with the same signatures. While the server runs, a snapshotter thread takes a snapshot
 * when {@link SnapshotTrigger} says one is due, from the log ({@link ShadowSnapshot}: no pipeline
 * and no registry lock is taken), by default from a copy of the state that follows the journal
 * between snapshots ({@link ShadowRegistry}); a clean shutdown copies the live registry, which is faster and
 * waits for nobody then. The journal segments a snapshot covers are deleted, so disk use stays
 * bounded under a steady load.
 */
public final class Durability implements PipelineStore {
  private static final Logger log = LoggerFactory.getLogger(Durability.class);

  /** The settings of a durable data directory. */
  /**
   * How much of one core a background snapshot may use; 1 = as fast as it can. Pacing it to a
   * quarter did not lower the p99 of calls on a 2-core machine (it stretched the time the shadow
   * registry is being built, and young pauses grew with it), so it is an operator's knob, not the
   * default (bench/findings.md).
   */
  public static final double DEFAULT_SNAPSHOT_CPU_SHARE = 1.0;

  /**
   * The snapshotter runs at this nice value on Linux: it uses idle CPU and yields to the threads
   * serving calls the moment they need it (bench/findings.md).
   */
  public static final int DEFAULT_SNAPSHOT_NICE = 10;

  /**
   * Journal records between snapshots (with the other conditions of {@link SnapshotTrigger}).
   * A restart then replays at most about this many small records (1.1-1.2 s for 1,000,000 on the
   * test VM); every 100,000 records, the snapshots of the durable unary bench case cost 10-17% of
   * the server's CPU per life cycle (bench/findings.md, round 4).
   */
  public static final long DEFAULT_SNAPSHOT_EVERY_RECORDS = 1_000_000;

  /**
   * How often the snapshotter looks whether a snapshot is due and, when it follows the journal,
   * applies what was written since: often, so that each turn's work is small (a quarter second
   * of the records, against seconds of them at once when a snapshot rebuilds its copy).
   */
  public static final long TURN_MILLIS = 250;

  public record Options(
      Path dataDir,
      FsyncMode fsync,
      boolean repair,
      long segmentBytes,
      long snapshotEveryRecords,
      long snapshotEveryBytes,
      double snapshotJournalRatio,
      double snapshotCpuShare,
      int snapshotNice,
      boolean preallocate,
      boolean snapshotFollow) {

    public static Options defaults(Path dataDir) {
      return new Options(
          dataDir, FsyncMode.ALWAYS, false, FileCommandLog.DEFAULT_SEGMENT_BYTES,
          DEFAULT_SNAPSHOT_EVERY_RECORDS,
          256L << 20, SnapshotTrigger.DEFAULT_JOURNAL_RATIO, DEFAULT_SNAPSHOT_CPU_SHARE, DEFAULT_SNAPSHOT_NICE,
          true, true);
    }

    public Options withFsync(FsyncMode mode) {
      return new Options(dataDir, mode, repair, segmentBytes, snapshotEveryRecords,
          snapshotEveryBytes, snapshotJournalRatio, snapshotCpuShare, snapshotNice, preallocate, snapshotFollow);
    }

    public Options withRepair(boolean value) {
      return new Options(dataDir, fsync, value, segmentBytes, snapshotEveryRecords,
          snapshotEveryBytes, snapshotJournalRatio, snapshotCpuShare, snapshotNice, preallocate, snapshotFollow);
    }

    public Options withSegmentBytes(long value) {
      return new Options(dataDir, fsync, repair, value, snapshotEveryRecords, snapshotEveryBytes,
          snapshotJournalRatio, snapshotCpuShare, snapshotNice, preallocate, snapshotFollow);
    }

    public Options withSnapshotEveryRecords(long value) {
      return new Options(dataDir, fsync, repair, segmentBytes, value, snapshotEveryBytes,
          snapshotJournalRatio, snapshotCpuShare, snapshotNice, preallocate, snapshotFollow);
    }

    public Options withSnapshotEveryBytes(long value) {
      return new Options(dataDir, fsync, repair, segmentBytes, snapshotEveryRecords, value,
          snapshotJournalRatio, snapshotCpuShare, snapshotNice, preallocate, snapshotFollow);
    }

    /** Journal bytes since the last snapshot must reach this × its size (see SnapshotTrigger). */
    public Options withSnapshotJournalRatio(double value) {
      return new Options(dataDir, fsync, repair, segmentBytes, snapshotEveryRecords,
          snapshotEveryBytes, value, snapshotCpuShare, snapshotNice, preallocate, snapshotFollow);
    }

    /** The most of one core a background snapshot may use (see CpuPacer); 1 = no limit. */
    public Options withSnapshotCpuShare(double value) {
      return new Options(dataDir, fsync, repair, segmentBytes, snapshotEveryRecords,
          snapshotEveryBytes, snapshotJournalRatio, value, snapshotNice, preallocate, snapshotFollow);
    }

    /** The snapshotter thread's nice value on Linux (0 = the server's own priority). */
    public Options withSnapshotNice(int value) {
      return new Options(dataDir, fsync, repair, segmentBytes, snapshotEveryRecords,
          snapshotEveryBytes, snapshotJournalRatio, snapshotCpuShare, value, preallocate, snapshotFollow);
    }

    /** Whether journal segments are written into zero-filled files (see SegmentPreallocator). */
    public Options withPreallocate(boolean value) {
      return new Options(dataDir, fsync, repair, segmentBytes, snapshotEveryRecords,
          snapshotEveryBytes, snapshotJournalRatio, snapshotCpuShare, snapshotNice, value, snapshotFollow);
    }

    /**
     * Whether the snapshotter keeps its copy of the state between snapshots, following the
     * journal, so that a snapshot only writes it out (see {@link ShadowSnapshot}).
     */
    public Options withSnapshotFollow(boolean value) {
      return new Options(dataDir, fsync, repair, segmentBytes, snapshotEveryRecords,
          snapshotEveryBytes, snapshotJournalRatio, snapshotCpuShare, snapshotNice, preallocate,
          value);
    }

    SnapshotTrigger trigger() {
      return new SnapshotTrigger(snapshotEveryRecords, snapshotEveryBytes, snapshotJournalRatio);
    }
  }

  private final PipelineRegistry registry;
  private final CommandLog journal;
  private final SnapshotStore snapshots;
  private final Options options;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final ScheduledExecutorService snapshotter;
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
  /** The snapshotter thread's own: failed turns in a row, and when to try again. */
  private volatile int failuresInARow;
  private long retryAtNanos;
  private boolean closed;
  private volatile boolean closing;

  private Durability(
      PipelineRegistry registry,
      CommandLog journal,
      SnapshotStore snapshots,
      Options options,
      FileChannel lockChannel,
      FileLock lock,
      long snapshotIndex,
      long snapshotBytes,
      long journalBytesSinceSnapshot) {
    this.registry = registry;
    this.journal = journal;
    this.snapshots = snapshots;
    this.options = options;
    this.lockChannel = lockChannel;
    this.lock = lock;
    this.lastSnapshotIndex = snapshotIndex;
    this.lastSnapshotBytes = snapshotBytes;
    // appendedBytes counts from this start; the journal recovered after the snapshot counts too
    this.bytesAtLastSnapshot = -journalBytesSinceSnapshot;
    if (snapshots == null) {
      this.snapshotter = null;
    } else {
      this.snapshotter = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "snapshotter");
        t.setDaemon(true);
        return t;
      });
      if (options.snapshotNice() > 0) {
        int nice = options.snapshotNice();
        snapshotter.execute(() -> ThreadNice.lowerCurrentThread(nice));
      }
      snapshotter.scheduleWithFixedDelay(
          this::snapshotterTurn, TURN_MILLIS, TURN_MILLIS, TimeUnit.MILLISECONDS);
    }
  }

  @Override
  public PipelineRegistry registry() {
    return registry;
  }

  /** Pipelines kept in memory only: a restart starts empty. */
  public static Durability inMemory() {
    return new Durability(
        new PipelineRegistry(new InMemoryCommandLog()), new InMemoryCommandLog(), null, null,
        null, null, 0, 0, 0);
  }

  /** Opens (or creates) a data directory and recovers every pipeline in it. */
  public static Durability open(Options options) throws IOException {
    return open(options, JournalFiles.REAL);
  }

  /** As {@link #open(Options)}, writing journal segments and snapshots through {@code files}. */
  public static Durability open(Options options, JournalFiles files) throws IOException {
    Path dir = Files.createDirectories(options.dataDir());
    FileChannel lockChannel = FileChannel.open(
        dir.resolve("LOCK"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock = lockChannel.tryLock();
    if (lock == null) {
      lockChannel.close();
      throw new IOException(
          "data directory " + dir + " is in use by another server; stop it, or pass another"
              + " --data-dir");
    }
    long started = System.nanoTime();
    SnapshotStore snapshots = new SnapshotStore(dir.resolve("snapshots"), files);
    Path journalDir = dir.resolve("journal");
    Recovery.Loaded loaded = Recovery.loadNewestUsable(
        snapshots, FileCommandLog.firstSegmentIndex(journalDir), journalDir);
    PipelineRegistry registry = loaded.registry();
    long floor = loaded.floor();
    var latest = java.util.Optional.ofNullable(loaded.snapshot());
    long snapshotBytes = latest.isPresent() ? Files.size(latest.get().file()) : 0;
    long[] replayed = new long[1];
    long[] replayedBytes = new long[1];
    FileCommandLog journal =
        FileCommandLog.open(
            journalDir, options.fsync(), options.segmentBytes(), options.preallocate(),
            options.repair(),
            floor,
            (index, bytes) -> {
              registry.stateMachine().apply(index, bytes);
              replayed[0]++;
              replayedBytes[0] += 24 + bytes.length; // record header (format 2) + payload
            },
            files);
    if (journal.lastIndex() < floor) {
      throw new IOException("journal ends at record " + journal.lastIndex() + " but snapshot "
          + latest.map(s -> s.file().toString()).orElse("") + " covers up to " + floor
          + "; journal files are missing");
    }
    registry.attach(journal);
    log.info("recovered {} pipelines from {} ({} snapshot + {} journal records) in {} ms",
        registry.all().size(), dir, latest.isPresent() ? "a" : "no", replayed[0],
        (System.nanoTime() - started) / 1_000_000);
    return new Durability(
        registry, journal, snapshots, options, lockChannel, lock, floor, snapshotBytes,
        replayedBytes[0]);
  }

  /**
   * Takes a snapshot now, from the log, at the newest durable journal record, and compacts the
   * journal it covers; does nothing if no record was written since the last one. Calls go on
   * meanwhile: no pipeline is locked (see {@link ShadowSnapshot}).
   */
  @Override
  public synchronized void snapshot() throws IOException {
    if (snapshots == null || closed) {
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
      taken = ShadowSnapshot.take(
          snapshots, journal, upTo, new CpuPacer(options.snapshotCpuShare()));
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
  public synchronized long snapshotterCopyIndex() {
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
  }

  /**
   * The shutdown snapshot: a copy of the live registry, faster than one from the log, and nobody
   * waits for its locks once calls have stopped. Only if every appended record is durable: else
   * (a failed journal, or writes still pending) the live state may be ahead of the disk, and the
   * snapshot is taken from the log instead.
   */
  private synchronized void snapshotLive() throws IOException {
    if (snapshots == null || closed) {
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

  /**
   * How long the snapshotter waits after its {@code failuresInARow}-th failed turn in a row: 1 s,
   * doubling up to a minute. A failure that lasts (a full disk, a damaged segment file) is then
   * logged about once a minute, not four times a second.
   */
  public static long retryDelayMillis(int failuresInARow) {
    return Math.min(60_000L, 1_000L << Math.min(Math.max(failuresInARow, 1) - 1, 6));
  }

  /** Failed snapshotter turns since the last good one (for tests). */
  public int snapshotterFailuresInARow() {
    return failuresInARow;
  }

  /**
   * One turn of the snapshotter: follow the journal (with {@code snapshotFollow}), then take a
   * snapshot if one is due. After a failure, turns are skipped until {@link #retryDelayMillis}.
   */
  private void snapshotterTurn() {
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

  /** Takes a final snapshot (for a fast restart) and closes the journal. */
  @Override
  public void close() throws IOException {
    closing = true;
    if (snapshotter != null) {
      // a snapshot being built from the log is abandoned: the one below is faster
      snapshotter.shutdownNow();
    }
    try {
      snapshotLive();
    } finally {
      synchronized (this) {
        closed = true;
        dropShadow();
      }
      try {
        journal.close();
      } finally {
        // even when closing a failed journal throws: else the directory stays locked
        if (lock != null) {
          lock.release();
          lockChannel.close();
        }
      }
    }
  }
}
