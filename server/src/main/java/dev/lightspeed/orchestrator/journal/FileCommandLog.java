package dev.lightspeed.orchestrator.journal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded journal: segmented files of length-prefixed records with chained CRC32C checksums
 * (see {@link JournalFormat}), written by one thread with group commit.
 *
 * <p>Group commit: {@link #append} only queues the record and returns. The writer thread takes
 * everything queued, writes it with one {@code write}, makes it durable with one {@code fsync},
 * then completes the records' futures itself, in index order. Concurrent requests thus share an
 * fsync, and no reply can precede the fsync of its record. Completing on the writer saves a
 * thread hand-off per group; it is why the futures' callbacks must be short and never wait (see
 * {@link CommandLog#append}).
 *
 * <p>Preallocation (optional, on in the server): segments are written into zero-filled files
 * prepared in the background ({@link SegmentPreallocator}), which makes each fsync cheaper. The
 * active segment then ends in zeros; a record header of zeros marks the end of its records (no
 * record has index 0), and a closed segment is cut to its records when the next one starts.
 *
 * <p>Failure is final: if a write or fsync fails, every pending and later append fails, because
 * the in-memory state is then ahead of the disk; the server must be restarted (it recovers from
 * the journal).
 *
 * <p>Starting the next segment is not a write: if it fails, the writer goes on in the current
 * segment and tries again after each later group; nothing is refused and no restart is needed
 * ({@link SegmentWriter} says how).
 *
 * <p>This class keeps the queue, the writer thread and the group commit's promises. Opening is
 * {@link JournalRecovery}, the files the writer writes are {@link SegmentWriter}'s, and the
 * segment files they share (and {@link #read} reads) are {@link Segments}.
 */
public final class FileCommandLog implements CommandLog {
  private static final Logger log = LoggerFactory.getLogger(FileCommandLog.class);
  /** Segments roll over at this size by default. */
  public static final long DEFAULT_SEGMENT_BYTES = 64L << 20;

  /** A record queued for the writer: its index, its bytes, and the promise of its fsync. */
  record Pending(long index, byte[] payload, CompletableFuture<Void> durable) {}

  private final Segments segments;
  /** Owned by the writer thread (and by opening, before it starts). */
  private final SegmentWriter segmentWriter;

  /** Guarded by {@code this}: the append queue, the next index, closing. */
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private long lastIndex;
  private boolean closing;
  private IOException failure;
  private long appendedBytes;
  /**
   * Every record up to this index is in a segment file (written, and fsynced under fsync=always):
   * set by the writer after each group, before the group's futures complete. Readers of the
   * open journal ({@link #read}) never look past it, so they never meet a half-written record.
   */
  private volatile long durableIndex;
  /** Records dropped by --repair at open (for tests and the report). */
  private final long repairedRecords;
  private final Thread writer;

  /** Creates a new, empty segment file for writing (tests inject failures here). */
  @FunctionalInterface
  interface SegmentOpener {
    FileChannel create(Path file) throws IOException;
  }

  private FileCommandLog(Segments segments, SegmentWriter segmentWriter, long lastIndex,
      long repairedRecords) {
    this.segments = segments;
    this.segmentWriter = segmentWriter;
    this.lastIndex = lastIndex;
    this.durableIndex = lastIndex;
    this.repairedRecords = repairedRecords;
    this.writer = new Thread(this::writeLoop, "journal-writer");
    this.writer.setDaemon(true);
  }

  /**
   * Opens (or creates) the journal in {@code dir}, checking every record and handing those with an
   * index above {@code afterIndex} to {@code replay} in order. A torn tail (a bad record in the
   * last segment with no valid record after it) is truncated with a log line; any other bad
   * record throws {@link JournalCorruptException}, unless {@code repair} is set, in which case the
   * journal is truncated there and the dropped records are counted ({@link #repairedRecords}).
   */
  public static FileCommandLog open(
      Path dir,
      FsyncMode fsync,
      long segmentBytes,
      boolean repair,
      long afterIndex,
      RecordConsumer replay)
      throws IOException {
    return open(dir, fsync, segmentBytes, false, repair, afterIndex, replay);
  }

  /**
   * As {@link #open(Path, FsyncMode, long, boolean, long, RecordConsumer)}; with {@code
   * preallocate}, segments are written into zero-filled files prepared in the background. A
   * segment that is not preallocated (the first one of a new journal, or one recovered from a
   * journal written without preallocation) is closed as soon as a preallocated one is ready.
   */
  public static FileCommandLog open(
      Path dir,
      FsyncMode fsync,
      long segmentBytes,
      boolean preallocate,
      boolean repair,
      long afterIndex,
      RecordConsumer replay)
      throws IOException {
    return open(dir, fsync, segmentBytes, preallocate, repair, afterIndex, replay, JournalFiles.REAL);
  }

  /** As above, writing segments through {@code files} (tests inject faults there). */
  public static FileCommandLog open(
      Path dir,
      FsyncMode fsync,
      long segmentBytes,
      boolean preallocate,
      boolean repair,
      long afterIndex,
      RecordConsumer replay,
      JournalFiles files)
      throws IOException {
    Files.createDirectories(dir);
    FileChannel dirChannel = FileChannel.open(dir, StandardOpenOption.READ);
    if (!preallocate) {
      Files.deleteIfExists(dir.resolve(SegmentPreallocator.SPARE_NAME));
    }
    Segments segments = new Segments(dir);
    JournalRecovery.Recovered found = JournalRecovery.recover(segments, repair, afterIndex, replay);
    SegmentWriter segmentWriter = new SegmentWriter(
        segments, files, fsync, segmentBytes, dirChannel, found.lastIndex(), found.lastCrc());
    if (found.resume() != null) {
      segmentWriter.resume(found.resume(), found.resumeBytes(), found.resumePreallocated());
    } else {
      segmentWriter.startNew(found.lastIndex() + 1);
    }
    FileCommandLog journal =
        new FileCommandLog(segments, segmentWriter, found.lastIndex(), found.repairedRecords());
    if (preallocate) {
      // after recovery, so that writing the zeros does not slow the replay down
      segmentWriter.preallocateWith(new SegmentPreallocator(dir, segmentBytes));
    }
    journal.writer.start();
    return journal;
  }

  @Override
  public Appended append(byte[] command) {
    CompletableFuture<Void> durable = new CompletableFuture<>();
    long index;
    synchronized (this) {
      if (failure != null) {
        durable.completeExceptionally(failure);
        return new Appended(lastIndex, durable);
      }
      if (closing) {
        durable.completeExceptionally(new IOException("journal is closed"));
        return new Appended(lastIndex, durable);
      }
      index = ++lastIndex;
      queue.add(new Pending(index, command, durable));
      if (queue.size() == 1) {
        notifyAll();
      }
    }
    return new Appended(index, durable);
  }

  @Override
  public synchronized IOException failure() {
    return failure;
  }

  @Override
  public synchronized long lastIndex() {
    return lastIndex;
  }

  @Override
  public synchronized long appendedBytes() {
    return appendedBytes;
  }

  @Override
  public long durableIndex() {
    return durableIndex;
  }

  /**
   * Reads records ({@code afterIndex}, {@code upToIndex}] from the segment files while the writer
   * goes on appending. Safe against the writer because every record up to {@link #durableIndex()}
   * was written (a {@code write} that returned, so another file descriptor reads it back from
   * the page cache) before that index was published, in a segment that existed then: the scan of
   * the active segment stops at {@code upToIndex}, before any record the writer may be in the
   * middle of, and a segment rolled after the listing only holds later records. Compaction is the
   * caller's to keep away (only the snapshotter compacts, and it is the one reading).
   */
  @Override
  public void read(long afterIndex, long upToIndex, RecordConsumer consumer) throws IOException {
    long durable = durableIndex;
    if (upToIndex > durable) {
      throw new IllegalArgumentException(
          "records up to " + upToIndex + " asked for, but only " + durable + " are written");
    }
    segments.read(afterIndex, upToIndex, consumer);
  }

  /**
   * Follows the segment files from record {@code afterIndex + 1} on; see {@link SegmentTail}.
   * Compaction must stay below the tail's position, as for {@link #read}.
   */
  @Override
  public Tail tail(long afterIndex) {
    return new SegmentTail(this, segments.dir(), afterIndex);
  }

  @Override
  public void compactUpTo(long index) throws IOException {
    segments.compactUpTo(index);
  }

  /** How many records --repair dropped when this journal was opened. */
  public long repairedRecords() {
    return repairedRecords;
  }

  /** Makes new segment files with {@code opener} from now on (tests inject failures). */
  void openSegmentsWith(SegmentOpener opener) {
    segmentWriter.openSegmentsWith(opener);
  }

  /** Whether a preallocated spare segment is ready (for tests). */
  boolean spareReady() {
    return segmentWriter.spareReady();
  }

  /** Number of closed segment files (for tests and metrics). */
  public int closedSegmentCount() {
    return segments.closedCount();
  }

  @Override
  public void close() throws IOException {
    synchronized (this) {
      closing = true;
      notifyAll();
    }
    try {
      writer.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    segmentWriter.close();
  }

  // ---- the writer thread ---------------------------------------------------------------------

  private void writeLoop() {
    List<Pending> batch = new ArrayList<>();
    while (true) {
      synchronized (this) {
        while (queue.isEmpty() && !closing) {
          try {
            wait();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
        }
        if (queue.isEmpty()) {
          return; // closing, nothing left
        }
        batch.addAll(queue);
        queue.clear();
      }
      try {
        long bytes = segmentWriter.writeGroup(batch);
        synchronized (this) {
          appendedBytes += bytes;
        }
        durableIndex = batch.get(batch.size() - 1).index();
        // Here, in index order. A callback's exception stays in its own dependent future.
        for (Pending p : batch) {
          p.durable().complete(null);
        }
        segmentWriter.rollIfFull();
      } catch (IOException | RuntimeException e) {
        fail(batch, e);
        return;
      } finally {
        batch.clear();
      }
    }
  }

  private void fail(List<Pending> batch, Exception e) {
    IOException cause = e instanceof IOException io ? io : new IOException(e);
    log.error("journal: write failed; refusing every further change until restart", cause);
    List<Pending> rest;
    synchronized (this) {
      failure = cause;
      rest = new ArrayList<>(queue);
      queue.clear();
    }
    List<Pending> failed = new ArrayList<>(batch);
    failed.addAll(rest);
    for (Pending p : failed) {
      p.durable().completeExceptionally(cause);
    }
  }

  // ---- files ---------------------------------------------------------------------------------

  /**
   * The index of the first record of the first segment in journal directory {@code dir}, from
   * the file names; 0 if there is none. Start-up checks it against the snapshot before opening.
   */
  public static long firstSegmentIndex(Path dir) throws IOException {
    return Segments.firstSegmentIndex(dir);
  }

  /** The segment files in the directory now, oldest first (for {@link SegmentTail}). */
  List<Path> segmentFiles() throws IOException {
    return segments.files();
  }

  static void fsyncDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }
}
