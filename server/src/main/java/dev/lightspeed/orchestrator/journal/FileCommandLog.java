package dev.lightspeed.orchestrator.journal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
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
 * <p>Starting the next segment is not a write: if it fails (no file descriptor left, as under a
 * flood of connections, or no disk space for a new file), the writer goes on writing in the
 * current segment, past its nominal size, and tries again after each later group until it
 * succeeds. Nothing is refused and no restart is needed. The next segment's file is held open
 * ahead of time (the preallocated spare) and the directory's descriptor for its fsync is held for
 * the journal's life, so a roll normally needs no new descriptor at all.
 */
public final class FileCommandLog implements CommandLog {
  private static final Logger log = LoggerFactory.getLogger(FileCommandLog.class);
  /** Segments roll over at this size by default. */
  public static final long DEFAULT_SEGMENT_BYTES = 64L << 20;

  private record Pending(long index, byte[] payload, CompletableFuture<Void> durable) {}

  private record Segment(Path path, long firstIndex, long lastIndex) {}

  private final Path dir;
  /** Opens the segment files written to (a seam for fault-injection tests). */
  private final JournalFiles files;
  private final FsyncMode fsync;
  private final long segmentBytes;

  /** Guarded by {@code this}: the append queue, the next index, closing. */
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private long lastIndex;
  private boolean closing;
  private IOException failure;
  /**
   * Every record up to this index is in a segment file (written, and fsynced under fsync=always):
   * set by the writer after each group, before the group's futures complete. Readers of the
   * open journal ({@link #read}) never look past it, so they never meet a half-written record.
   */
  private volatile long durableIndex;

  /** Closed segments, oldest first; guarded by {@code segments}. */
  private final List<Segment> segments = new ArrayList<>();
  /** Owned by the writer thread. */
  private FileChannel active;
  private long activeFirstIndex;
  private long activeBytes;
  private long appendedBytes;
  /** Owned by the writer thread: the checksum of the last record written, the next one's link. */
  private int lastCrc;
  /** Records dropped by --repair at open (for tests and the report). */
  private long repairedRecords;
  /** Owned by the writer thread: the active segment is a preallocated (zero-filled) file. */
  private boolean activePreallocated;
  private final Thread writer;
  /** Prepares the next segment file; null without preallocation. */
  private SegmentPreallocator preallocator;
  /** The directory, held open so that its fsync after a roll needs no new descriptor. */
  private FileChannel dirChannel;
  /**
   * Opens a new segment file when no spare is ready; tests make it fail. Null: through
   * {@link #files} (so fault-injection tests see it too).
   */
  private SegmentOpener segmentOpener;
  /** Owned by the writer thread: failed attempts to start the next segment since the last one. */
  private int failedRolls;
  /** Owned by the writer thread: whether the segment {@link #openSegment} returned is a spare. */
  private boolean nextPreallocated;

  /** Creates a new, empty segment file for writing (tests inject failures here). */
  @FunctionalInterface
  interface SegmentOpener {
    FileChannel create(Path file) throws IOException;
  }

  private FileCommandLog(Path dir, FsyncMode fsync, long segmentBytes, JournalFiles files) {
    this.dir = dir;
    this.files = files;
    this.fsync = fsync;
    this.segmentBytes = segmentBytes;
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
    FileCommandLog journal = new FileCommandLog(dir, fsync, segmentBytes, files);
    journal.dirChannel = FileChannel.open(dir, StandardOpenOption.READ);
    if (!preallocate) {
      Files.deleteIfExists(dir.resolve(SegmentPreallocator.SPARE_NAME));
    }
    journal.recover(repair, afterIndex, replay);
    journal.durableIndex = journal.lastIndex;
    if (preallocate) {
      // after recovery, so that writing the zeros does not slow the replay down
      journal.preallocator = new SegmentPreallocator(dir, segmentBytes);
    }
    journal.writer.start();
    return journal;
  }

  private void recover(boolean repair, long afterIndex, RecordConsumer replay) throws IOException {
    List<Path> files = segmentFiles();
    long expectedFirst = -1;
    // The chain link the next segment's first record must carry: 0 before record 1, unknown
    // before the first segment left by compaction.
    Integer chain = files.isEmpty() || firstIndexOf(files.get(0)) == 1 ? Integer.valueOf(0)
        : SegmentReader.UNKNOWN_CHAIN;
    SegmentReader.Scan lastScan = null;
    for (int i = 0; i < files.size(); i++) {
      Path file = files.get(i);
      boolean last = i == files.size() - 1;
      SegmentReader.Scan scan =
          SegmentReader.scan(file, afterIndex, Long.MAX_VALUE, replay, chain);
      boolean headerOk = scan.validBytes() >= JournalFormat.SEGMENT_HEADER_BYTES;
      if (headerOk && scan.firstIndex() != firstIndexOf(file)) {
        throw new JournalCorruptException(file, 0, "the segment header says its first record is "
            + scan.firstIndex() + ", its name says " + firstIndexOf(file));
      }
      if (headerOk && expectedFirst >= 0 && scan.firstIndex() != expectedFirst) {
        throw new JournalCorruptException(file, 0,
            "segment starts at index " + scan.firstIndex() + " where " + expectedFirst
                + " was expected; a segment is missing");
      }
      if (scan.end() == SegmentReader.End.BAD) {
        scan = handleBadRecord(files, i, scan, repair);
        if (scan.validBytes() < JournalFormat.SEGMENT_HEADER_BYTES || !last) {
          files = files.subList(0, i + 1); // repaired: the later segments are gone
        }
      }
      lastScan = scan;
      long segmentLast = scan.validBytes() < JournalFormat.SEGMENT_HEADER_BYTES
          ? firstIndexOf(file) - 1
          : scan.lastIndex();
      lastIndex = Math.max(lastIndex, segmentLast);
      expectedFirst = segmentLast + 1;
      chain = scan.chainKnown() ? Integer.valueOf(scan.lastCrc()) : chain;
      if (i < files.size() - 1) {
        segments.add(new Segment(file, scan.firstIndex(), segmentLast));
      }
      if (i == files.size() - 1) {
        break;
      }
    }
    lastCrc = chain == null ? 0 : chain;
    // Append to the last segment if it is intact and of the current format, else start a new one.
    Path tail = files.isEmpty() ? null : files.get(files.size() - 1);
    if (tail != null && lastScan.validBytes() >= JournalFormat.SEGMENT_HEADER_BYTES
        && lastScan.format() != JournalFormat.FORMAT
        && lastScan.lastIndex() >= lastScan.firstIndex()) {
      // An older format's records stay where they are, read as they are; new records go into a
      // segment of the current format.
      log.info("journal: {} is of format {}; records from {} on are written in format {}",
          tail.getFileName(), lastScan.format(), lastIndex + 1, JournalFormat.FORMAT);
      if (lastScan.validBytes() < Files.size(tail)) {
        truncate(tail, lastScan.validBytes()); // a closed segment ends at its records
      }
      segments.add(new Segment(tail, lastScan.firstIndex(), lastScan.lastIndex()));
      startSegment(lastIndex + 1, openSegment(lastIndex + 1));
    } else if (tail != null && lastScan.validBytes() >= JournalFormat.SEGMENT_HEADER_BYTES
        && lastScan.format() == JournalFormat.FORMAT) {
      active = this.files.open(tail, StandardOpenOption.WRITE);
      activeBytes = Files.size(tail);
      if (lastScan.end() == SegmentReader.End.CLEAN && lastScan.validBytes() < activeBytes) {
        // its records end in zeros: a preallocated segment, to be filled further
        activeBytes = lastScan.validBytes();
        activePreallocated = true;
      }
      active.position(activeBytes);
      activeFirstIndex = firstIndexOf(tail);
    } else {
      if (tail != null) {
        Files.delete(tail);
      }
      startSegment(lastIndex + 1, openSegment(lastIndex + 1));
    }
  }

  /**
   * Decides what the bad record (or header) that {@code scan} of {@code files[i]} ended at is,
   * and acts: a torn tail is truncated; corruption throws, or under {@code repair} is truncated
   * with every later segment. Returns the scan as it stands after truncating.
   *
   * <p>A torn tail is what a crash while writing the last group leaves: only in the last
   * segment, and with no valid record anywhere after the bad one (every byte offset after it is
   * tried, so a corrupted length cannot hide the records it spans). Anything else is
   * corruption.
   */
  private SegmentReader.Scan handleBadRecord(
      List<Path> files, int i, SegmentReader.Scan scan, boolean repair) throws IOException {
    Path file = files.get(i);
    boolean last = i == files.size() - 1;
    long badAt = scan.validBytes();
    boolean headerBad = badAt < JournalFormat.SEGMENT_HEADER_BYTES;
    long lastKept = headerBad ? firstIndexOf(file) - 1 : scan.lastIndex();
    SegmentReader.Later later = headerBad
        ? validRecordsUnderABadHeader(file, scan, lastKept + 1)
        : SegmentReader.findValidAfter(file, scan.format(), badAt + 1, lastKept + 1);
    boolean headerTorn = headerBad && (scan.fileBytes() < JournalFormat.SEGMENT_HEADER_BYTES
        || scan.problem().startsWith("segment of zeros only"));
    if (last && later.count() == 0 && (!headerBad || headerTorn)) {
      log.warn("journal: truncating a torn last write at {} offset {} ({}; no valid record"
              + " after it; {} bytes dropped, which held no acknowledged record)",
          file, badAt, scan.problem(), scan.fileBytes() - badAt);
      truncate(file, badAt);
      return scan;
    }
    String detail = scan.problem();
    if (later.count() > 0) {
      detail += "; a valid record (index " + later.firstIndex() + ") follows at offset "
          + later.firstOffset() + ", so this is not a torn last write";
      if (last && !later.fromALaterGroup()) {
        detail += ". Every valid record after it was written in the same group commit as the"
            + " bad one, which a power loss during that write can also leave; if the machine"
            + " lost power, those records were never acknowledged";
      }
    } else if (!last) {
      detail += "; in a segment that is not the last one";
    }
    if (!repair) {
      throw new JournalCorruptException(file, badAt, detail);
    }
    long highest = Math.max(later.maxIndex(), highestIndexIn(files.subList(i + 1, files.size())));
    long dropped = Math.max(highest, lastKept + 1) - lastKept;
    log.warn("journal: --repair truncates {} at offset {} ({}), dropping records {}..{}: {}"
            + " records, the bad one and every one after it ({} bytes of this segment and {}"
            + " later segments)",
        file, badAt, detail, lastKept + 1, lastKept + dropped, dropped,
        scan.fileBytes() - badAt, files.size() - i - 1);
    repairedRecords += dropped;
    for (Path later2 : files.subList(i + 1, files.size())) {
      Files.delete(later2);
    }
    truncate(file, badAt);
    return scan;
  }

  /** The valid records of a segment whose header is bad, of whichever format finds more. */
  private static SegmentReader.Later validRecordsUnderABadHeader(
      Path file, SegmentReader.Scan scan, long expected) throws IOException {
    if (scan.fileBytes() <= JournalFormat.SEGMENT_HEADER_BYTES) {
      return SegmentReader.Later.NONE;
    }
    SegmentReader.Later current = SegmentReader.findValidAfter(
        file, JournalFormat.FORMAT, JournalFormat.SEGMENT_HEADER_BYTES, expected);
    SegmentReader.Later format1 = SegmentReader.findValidAfter(
        file, JournalFormat.FORMAT_1, JournalFormat.SEGMENT_HEADER_BYTES, expected);
    return format1.count() > current.count() ? format1 : current;
  }

  private static long firstIndexOf(Path segment) {
    return JournalFormat.firstIndexOf(segment.getFileName().toString());
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
    long next = afterIndex + 1;
    List<Path> files = segmentFiles();
    for (int i = 0; i < files.size() && next <= upToIndex; i++) {
      Path file = files.get(i);
      long first = JournalFormat.firstIndexOf(file.getFileName().toString());
      long following = i + 1 < files.size()
          ? JournalFormat.firstIndexOf(files.get(i + 1).getFileName().toString())
          : Long.MAX_VALUE;
      if (following <= next) {
        continue; // every record of this segment is at or below afterIndex
      }
      if (first > next) {
        throw new JournalCorruptException(file, 0,
            "segment starts at index " + first + " but record " + next + " was wanted; the"
                + " segment holding it is missing");
      }
      long wanted = Math.min(upToIndex, following - 1);
      SegmentReader.Scan scan =
          SegmentReader.scan(file, next - 1, wanted, consumer, SegmentReader.UNKNOWN_CHAIN);
      if (scan.lastIndex() < wanted) {
        throw new JournalCorruptException(file, scan.validBytes(),
            "record " + (scan.lastIndex() + 1) + " was wanted: "
                + (scan.problem() == null ? "the segment ends before it" : scan.problem()));
      }
      next = wanted + 1;
    }
    if (next <= upToIndex) {
      throw new IOException("journal " + dir + " ends before record " + next + " (wanted up to "
          + upToIndex + ")");
    }
  }

  /**
   * Follows the segment files from record {@code afterIndex + 1} on; see {@link SegmentTail}.
   * Compaction must stay below the tail's position, as for {@link #read}.
   */
  @Override
  public Tail tail(long afterIndex) {
    return new SegmentTail(this, dir, afterIndex);
  }

  @Override
  public void compactUpTo(long index) throws IOException {
    List<Segment> drop = new ArrayList<>();
    synchronized (segments) {
      while (!segments.isEmpty() && segments.get(0).lastIndex() <= index) {
        drop.add(segments.remove(0));
      }
    }
    for (Segment s : drop) {
      Files.deleteIfExists(s.path());
      log.debug("journal: deleted {} (records {}..{} are in a snapshot)",
          s.path().getFileName(), s.firstIndex(), s.lastIndex());
    }
  }

  /** How many records --repair dropped when this journal was opened. */
  public long repairedRecords() {
    return repairedRecords;
  }

  /** Makes new segment files with {@code opener} from now on (tests inject failures). */
  void openSegmentsWith(SegmentOpener opener) {
    this.segmentOpener = opener;
  }

  /** Whether a preallocated spare segment is ready (for tests). */
  boolean spareReady() {
    return preallocator != null && preallocator.ready();
  }

  /** Number of closed segment files (for tests and metrics). */
  public int closedSegmentCount() {
    synchronized (segments) {
      return segments.size();
    }
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
    if (preallocator != null) {
      preallocator.close();
    }
    if (active != null) {
      active.force(false);
      active.close();
    }
    dirChannel.close();
  }

  // ---- the writer thread ---------------------------------------------------------------------

  private void writeLoop() {
    List<Pending> batch = new ArrayList<>();
    ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
    CRC32C crc = new CRC32C();
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
        switchToSpareIfReady();
        long bytes = 0;
        long groupFirst = batch.get(0).index();
        for (Pending p : batch) {
          int size = JournalFormat.RECORD_HEADER_BYTES + p.payload().length;
          if (buffer.remaining() < size) {
            flush(buffer);
            if (buffer.capacity() < size) {
              buffer = ByteBuffer.allocateDirect(size);
            }
          }
          lastCrc = JournalFormat.putRecord(buffer, p.index(), p.payload(), lastCrc,
              (int) (p.index() - groupFirst), crc);
          bytes += size;
        }
        flush(buffer);
        if (fsync == FsyncMode.ALWAYS) {
          active.force(false);
        }
        activeBytes += bytes;
        synchronized (this) {
          appendedBytes += bytes;
        }
        long written = batch.get(batch.size() - 1).index();
        durableIndex = written;
        // Here, in index order. A callback's exception stays in its own dependent future.
        for (Pending p : batch) {
          p.durable().complete(null);
        }
        if (activeBytes >= segmentBytes) {
          rollSegment(written);
        }
      } catch (IOException | RuntimeException e) {
        fail(batch, e);
        return;
      } finally {
        batch.clear();
      }
    }
  }

  private void flush(ByteBuffer buffer) throws IOException {
    buffer.flip();
    while (buffer.hasRemaining()) {
      active.write(buffer);
    }
    buffer.clear();
  }

  /**
   * Before a group: a segment that is not preallocated (the first one, or one recovered from a
   * journal written without preallocation) makes way for a ready spare, so that the group is
   * written into zeros.
   */
  private void switchToSpareIfReady() throws IOException {
    if (activePreallocated || preallocator == null || !preallocator.ready()) {
      return;
    }
    if (activeBytes == JournalFormat.SEGMENT_HEADER_BYTES) {
      // No record in it yet: the spare replaces it under the same name (rename is atomic).
      FileChannel next = tryOpenSegment(activeFirstIndex);
      if (next != null) {
        active.close();
        startSegment(activeFirstIndex, next);
      }
    } else {
      rollSegment(durableIndex);
    }
  }

  /**
   * Closes the active segment after {@code lastWritten} and starts the next one, if the next one
   * can be opened; else the active one stays, to be written on, and the roll is tried again after
   * the next group. The next file is opened first, so a failure leaves the journal as it was.
   */
  private void rollSegment(long lastWritten) throws IOException {
    FileChannel next = tryOpenSegment(lastWritten + 1);
    if (next == null) {
      return;
    }
    if (activePreallocated) {
      // Cut any unused zeros, so that only the active segment ever ends in them. A segment
      // rolls once it holds segmentBytes, the spare's size, so this only cuts one preallocated
      // under a larger segment size than the current one.
      active.truncate(activeBytes);
      active.force(true);
    } else {
      active.force(false);
    }
    active.close();
    synchronized (segments) {
      segments.add(new Segment(dir.resolve(JournalFormat.segmentName(activeFirstIndex)),
          activeFirstIndex, lastWritten));
    }
    startSegment(lastWritten + 1, next);
  }

  /**
   * The next segment file, opened and with its header, or null if that failed: logged (WARN at
   * the first failure, then every 1000th), and the caller keeps writing where it is.
   */
  private FileChannel tryOpenSegment(long firstIndex) {
    try {
      FileChannel next = openSegment(firstIndex);
      if (failedRolls > 0) {
        log.info("journal: started segment {} after {} failed attempts",
            JournalFormat.segmentName(firstIndex), failedRolls);
        failedRolls = 0;
      }
      return next;
    } catch (IOException e) {
      failedRolls++;
      if (failedRolls == 1 || failedRolls % 1000 == 0) {
        log.atWarn()
            .addKeyValue("event", "journal_roll_failed")
            .addKeyValue("attempts", failedRolls)
            .log("journal: cannot start segment {} ({}); writing on in the current segment ({}"
                    + " bytes, segments roll at {}) and trying again after the next write."
                    + " Nothing is refused; free descriptors or disk space.",
                JournalFormat.segmentName(firstIndex), e.toString(), activeBytes, segmentBytes);
      }
      return null;
    }
  }

  /**
   * Opens the segment file starting at {@code firstIndex}, with its header written and fsynced:
   * the preallocated spare if one is ready (its descriptor is already open), else a new file. A
   * new file that cannot be completed is deleted, so a failure leaves no segment behind.
   */
  private FileChannel openSegment(long firstIndex) throws IOException {
    Path file = dir.resolve(JournalFormat.segmentName(firstIndex));
    ByteBuffer header = ByteBuffer.allocate(JournalFormat.SEGMENT_HEADER_BYTES);
    JournalFormat.putSegmentHeader(header, firstIndex);
    header.flip();
    FileChannel spare = preallocator == null ? null : preallocator.takeAs(file, header);
    if (spare != null) {
      spare.position(JournalFormat.SEGMENT_HEADER_BYTES);
      nextPreallocated = true;
      return spare;
    }
    FileChannel created = segmentOpener != null
        ? segmentOpener.create(file)
        : files.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    try {
      while (header.hasRemaining()) {
        created.write(header);
      }
      created.force(false);
    } catch (IOException e) {
      created.close();
      Files.deleteIfExists(file);
      throw e;
    }
    nextPreallocated = false;
    return created;
  }

  /** Makes {@code channel}, from {@link #openSegment}, the active segment. */
  private void startSegment(long firstIndex, FileChannel channel) throws IOException {
    active = channel;
    activePreallocated = nextPreallocated;
    dirChannel.force(true);
    activeFirstIndex = firstIndex;
    activeBytes = JournalFormat.SEGMENT_HEADER_BYTES;
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
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    try (Stream<Path> list = Files.list(dir)) {
      return list.map(p -> p.getFileName().toString())
          .filter(JournalFormat::isSegmentName)
          .sorted()
          .findFirst()
          .map(JournalFormat::firstIndexOf)
          .orElse(0L);
    }
  }

  List<Path> segmentFiles() throws IOException {
    try (Stream<Path> list = Files.list(dir)) {
      return list.filter(p -> JournalFormat.isSegmentName(p.getFileName().toString()))
          .sorted()
          .toList();
    }
  }

  private static void truncate(Path file, long size) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.truncate(size);
      ch.force(true);
    }
  }

  /** The highest index of a valid record in {@code files} (0 if none), for --repair's report. */
  private static long highestIndexIn(List<Path> files) {
    long highest = 0;
    for (Path f : files) {
      try {
        SegmentReader.Scan scan = SegmentReader.scan(f, Long.MAX_VALUE, (i, p) -> {});
        if (scan.validBytes() >= JournalFormat.SEGMENT_HEADER_BYTES) {
          highest = Math.max(highest, scan.lastIndex());
        }
        if (scan.end() == SegmentReader.End.BAD && scan.validBytes() > 0) {
          highest = Math.max(highest, SegmentReader.findValidAfter(
              f, scan.format(), scan.validBytes() + 1, scan.lastIndex() + 1).maxIndex());
        }
      } catch (IOException e) {
        // unreadable: counted as none
      }
    }
    return highest;
  }

  static void fsyncDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }
}
