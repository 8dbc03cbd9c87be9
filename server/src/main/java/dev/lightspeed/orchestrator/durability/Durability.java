package dev.lightspeed.orchestrator.durability;

import dev.lightspeed.orchestrator.host.PipelineRegistry;
import dev.lightspeed.orchestrator.host.PipelineStore;
import dev.lightspeed.orchestrator.journal.CommandLog;
import dev.lightspeed.orchestrator.journal.FileCommandLog;
import dev.lightspeed.orchestrator.journal.FsyncMode;
import dev.lightspeed.orchestrator.journal.InMemoryCommandLog;
import dev.lightspeed.orchestrator.journal.JournalFiles;
import dev.lightspeed.orchestrator.journal.SnapshotStore;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the pipelines live: in memory only, or in a data directory with a journal and snapshots.
 *
 * <p>Recovery = the newest snapshot + replay of the journal records after it; the pipelines come
 * back with the same signatures. While the server runs, a snapshotter thread takes a snapshot
 * when {@link SnapshotTrigger} says one is due, from the log ({@link ShadowSnapshot}: no pipeline
 * and no registry lock is taken), by default from a copy of the state that follows the journal
 * between snapshots ({@link ShadowRegistry}); a clean shutdown copies the live registry, which is
 * faster and waits for nobody then. The journal segments a snapshot covers are deleted, so disk
 * use stays bounded under a steady load.
 *
 * <p>This class opens a data directory (its lock, then recovery) and closes it; the snapshotter's
 * schedule and state are {@link Snapshotter}'s.
 */
public final class Durability implements PipelineStore {
  private static final Logger log = LoggerFactory.getLogger(Durability.class);

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

  /** The settings of a durable data directory. */
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
  private final FileChannel lockChannel;
  private final FileLock lock;
  /** Null in memory. */
  private final Snapshotter snapshotter;

  private Durability(
      PipelineRegistry registry,
      CommandLog journal,
      FileChannel lockChannel,
      FileLock lock,
      Snapshotter snapshotter) {
    this.registry = registry;
    this.journal = journal;
    this.lockChannel = lockChannel;
    this.lock = lock;
    this.snapshotter = snapshotter;
  }

  @Override
  public PipelineRegistry registry() {
    return registry;
  }

  /** Pipelines kept in memory only: a restart starts empty. */
  public static Durability inMemory() {
    return new Durability(
        new PipelineRegistry(new InMemoryCommandLog()), new InMemoryCommandLog(), null, null,
        null);
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
    Snapshotter snapshotter = new Snapshotter(
        registry, journal, snapshots, options, floor, snapshotBytes, replayedBytes[0]);
    return new Durability(registry, journal, lockChannel, lock, snapshotter);
  }

  /**
   * Takes a snapshot now, from the log, at the newest durable journal record, and compacts the
   * journal it covers; does nothing if no record was written since the last one. Calls go on
   * meanwhile: no pipeline is locked (see {@link ShadowSnapshot}).
   */
  @Override
  public void snapshot() throws IOException {
    if (snapshotter != null) {
      snapshotter.snapshot();
    }
  }

  /** The journal record the snapshotter's copy of the state is at; -1 when it has none (tests). */
  public long snapshotterCopyIndex() {
    return snapshotter == null ? -1 : snapshotter.copyIndex();
  }

  /**
   * How long the snapshotter waits after its {@code failuresInARow}-th failed turn in a row: 1 s,
   * doubling up to a minute. A failure that lasts (a full disk, a damaged segment file) is then
   * logged about once a minute, not four times a second.
   */
  public static long retryDelayMillis(int failuresInARow) {
    return Snapshotter.retryDelayMillis(failuresInARow);
  }

  /** Failed snapshotter turns since the last good one (for tests). */
  public int snapshotterFailuresInARow() {
    return snapshotter == null ? 0 : snapshotter.failuresInARow();
  }

  /** Takes a final snapshot (for a fast restart) and closes the journal. */
  @Override
  public void close() throws IOException {
    try {
      if (snapshotter != null) {
        snapshotter.close();
      }
    } finally {
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
