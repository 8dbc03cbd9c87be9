package dev.lightspeed.orchestrator.server;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.journal.CommandLog;
import dev.lightspeed.orchestrator.journal.FileCommandLog;
import dev.lightspeed.orchestrator.journal.FsyncMode;
import dev.lightspeed.orchestrator.journal.InMemoryCommandLog;
import dev.lightspeed.orchestrator.journal.SnapshotStore;
import dev.lightspeed.orchestrator.journal.v1.Command;
import dev.lightspeed.orchestrator.journal.v1.SnapshotFile;
import java.io.IOException;
import java.io.InputStream;
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
 * back with the same signatures. Snapshots are taken every {@code snapshotEveryRecords} records or
 * {@code snapshotEveryBytes} journal bytes, and at a clean shutdown; the journal segments they
 * cover are deleted, so disk use stays bounded under a steady load.
 */
public final class Durability implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Durability.class);

  /** The settings of a durable data directory. */
  public record Options(
      Path dataDir,
      FsyncMode fsync,
      boolean repair,
      long segmentBytes,
      long snapshotEveryRecords,
      long snapshotEveryBytes) {

    public static Options defaults(Path dataDir) {
      return new Options(
          dataDir, FsyncMode.ALWAYS, false, FileCommandLog.DEFAULT_SEGMENT_BYTES, 100_000,
          256L << 20);
    }

    public Options withFsync(FsyncMode mode) {
      return new Options(dataDir, mode, repair, segmentBytes, snapshotEveryRecords, snapshotEveryBytes);
    }

    public Options withRepair(boolean value) {
      return new Options(dataDir, fsync, value, segmentBytes, snapshotEveryRecords, snapshotEveryBytes);
    }

    public Options withSegmentBytes(long value) {
      return new Options(dataDir, fsync, repair, value, snapshotEveryRecords, snapshotEveryBytes);
    }

    public Options withSnapshotEveryRecords(long value) {
      return new Options(dataDir, fsync, repair, segmentBytes, value, snapshotEveryBytes);
    }
  }

  final PipelineRegistry registry;
  private final CommandLog journal;
  private final SnapshotStore snapshots;
  private final Options options;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final ScheduledExecutorService snapshotter;
  private long lastSnapshotIndex;
  private long bytesAtLastSnapshot;
  private boolean closed;

  private Durability(
      PipelineRegistry registry,
      CommandLog journal,
      SnapshotStore snapshots,
      Options options,
      FileChannel lockChannel,
      FileLock lock,
      long snapshotIndex) {
    this.registry = registry;
    this.journal = journal;
    this.snapshots = snapshots;
    this.options = options;
    this.lockChannel = lockChannel;
    this.lock = lock;
    this.lastSnapshotIndex = snapshotIndex;
    if (snapshots == null) {
      this.snapshotter = null;
    } else {
      this.snapshotter = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "snapshotter");
        t.setDaemon(true);
        return t;
      });
      snapshotter.scheduleWithFixedDelay(this::snapshotIfDue, 1, 1, TimeUnit.SECONDS);
    }
  }

  /** Pipelines kept in memory only: a restart starts empty. */
  public static Durability inMemory() {
    return new Durability(
        new PipelineRegistry(new InMemoryCommandLog()), new InMemoryCommandLog(), null, null,
        null, null, 0);
  }

  /** Opens (or creates) a data directory and recovers every pipeline in it. */
  public static Durability open(Options options) throws IOException {
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
    SnapshotStore snapshots = new SnapshotStore(dir.resolve("snapshots"));
    PipelineRegistry registry = new PipelineRegistry(new InMemoryCommandLog());
    long floor = 0;
    var latest = snapshots.latest();
    if (latest.isPresent()) {
      SnapshotFile file;
      try (InputStream in = Files.newInputStream(latest.get().file())) {
        file = SnapshotFile.parseFrom(in);
      } catch (InvalidProtocolBufferException e) {
        throw new IOException("snapshot " + latest.get().file() + " is corrupt: " + e.getMessage(), e);
      }
      registry.restore(file);
      floor = file.getFloorIndex();
    }
    long[] replayed = new long[1];
    FileCommandLog journal =
        FileCommandLog.open(
            dir.resolve("journal"), options.fsync(), options.segmentBytes(), options.repair(),
            floor,
            (index, bytes) -> {
              try {
                registry.replay(index, Command.parseFrom(bytes));
              } catch (InvalidProtocolBufferException | RuntimeException e) {
                String why = e instanceof Rejection r ? r.toString() : e.getMessage();
                throw new IOException(
                    "journal record " + index + " cannot be applied (" + why + "); the journal"
                        + " does not match this server version or the snapshot", e);
              }
              replayed[0]++;
            });
    if (journal.lastIndex() < floor) {
      throw new IOException("journal ends at record " + journal.lastIndex() + " but snapshot "
          + latest.map(s -> s.file().toString()).orElse("") + " covers up to " + floor
          + "; journal files are missing");
    }
    registry.attach(journal);
    log.info("recovered {} pipelines from {} ({} snapshot + {} journal records) in {} ms",
        registry.all().size(), dir, latest.isPresent() ? "a" : "no", replayed[0],
        (System.nanoTime() - started) / 1_000_000);
    return new Durability(registry, journal, snapshots, options, lockChannel, lock, floor);
  }

  /** Takes a snapshot now and compacts the journal it covers. */
  public synchronized void snapshot() throws IOException {
    if (snapshots == null || closed) {
      return;
    }
    long started = System.nanoTime();
    long bytesBefore = journal.appendedBytes();
    SnapshotFile file = registry.snapshot();
    snapshots.save(file.getFloorIndex(), file::writeTo);
    journal.compactUpTo(file.getFloorIndex());
    lastSnapshotIndex = file.getFloorIndex();
    bytesAtLastSnapshot = bytesBefore;
    log.info("snapshot at journal record {} ({} pipelines, {} bytes) in {} ms",
        file.getFloorIndex(), file.getPipelinesCount(), file.getSerializedSize(),
        (System.nanoTime() - started) / 1_000_000);
  }

  private void snapshotIfDue() {
    try {
      boolean due;
      synchronized (this) {
        due = journal.lastIndex() - lastSnapshotIndex >= options.snapshotEveryRecords()
            || journal.appendedBytes() - bytesAtLastSnapshot >= options.snapshotEveryBytes();
      }
      if (due) {
        snapshot();
      }
    } catch (IOException | RuntimeException e) {
      log.error("snapshot failed; the journal keeps every record until one succeeds", e);
    }
  }

  /** Takes a final snapshot (for a fast restart) and closes the journal. */
  @Override
  public void close() throws IOException {
    if (snapshotter != null) {
      snapshotter.shutdownNow();
    }
    try {
      snapshot();
    } finally {
      synchronized (this) {
        closed = true;
      }
      journal.close();
      if (lock != null) {
        lock.release();
        lockChannel.close();
      }
    }
  }
}
