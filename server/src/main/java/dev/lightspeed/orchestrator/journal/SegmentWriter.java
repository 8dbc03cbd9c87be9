package dev.lightspeed.orchestrator.journal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The journal's active segment, as the writer thread of {@link FileCommandLog} sees it: writes a
 * group of records with one {@code write} and (under fsync=always) one {@code fsync}, rolls to the
 * next segment when the active one is full, and switches to a preallocated spare when one is
 * ready. It exists apart from {@link FileCommandLog}, which keeps the queue and the group commit's
 * promises, so that what happens to the files reads in one place.
 *
 * <p>Everything here but {@link #spareReady} and {@link #openSegmentsWith} is owned by the writer
 * thread (and, before it starts, by opening).
 *
 * <p>Starting the next segment is not a write: if it fails (no file descriptor left, or no disk
 * space for a new file), the writer goes on in the current segment, past its nominal size, and
 * tries again after each later group (see {@link #tryOpenSegment}). The next segment's file is
 * held open ahead of time (the preallocated spare) and the directory's descriptor for its fsync is
 * held for the journal's life, so a roll normally needs no new descriptor at all.
 */
final class SegmentWriter {
  /** Logs under the journal's name, as docs/operations.md lists it. */
  private static final Logger log = LoggerFactory.getLogger(FileCommandLog.class);

  private final Segments segments;
  /** Opens the segment files written to (a seam for fault-injection tests). */
  private final JournalFiles files;
  private final FsyncMode fsync;
  private final long segmentBytes;
  /** The directory, held open so that its fsync after a roll needs no new descriptor. */
  private final FileChannel dirChannel;
  /** Prepares the next segment file; null without preallocation. */
  private SegmentPreallocator preallocator;
  /**
   * Opens a new segment file when no spare is ready; tests make it fail. Null: through
   * {@link #files} (so fault-injection tests see it too).
   */
  private FileCommandLog.SegmentOpener segmentOpener;

  private FileChannel active;
  private long activeFirstIndex;
  private long activeBytes;
  /** The active segment is a preallocated (zero-filled) file. */
  private boolean activePreallocated;
  /** The index of the last record written (before the first group: the last one recovered). */
  private long lastWritten;
  /** The checksum of the last record written, the next one's link. */
  private int lastCrc;
  /** Failed attempts to start the next segment since the last one. */
  private int failedRolls;
  /** Whether the segment {@link #openSegment} returned is a spare. */
  private boolean nextPreallocated;
  private ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
  private final CRC32C crc = new CRC32C();

  SegmentWriter(Segments segments, JournalFiles files, FsyncMode fsync, long segmentBytes,
      FileChannel dirChannel, long lastWritten, int lastCrc) {
    this.segments = segments;
    this.files = files;
    this.fsync = fsync;
    this.segmentBytes = segmentBytes;
    this.dirChannel = dirChannel;
    this.lastWritten = lastWritten;
    this.lastCrc = lastCrc;
  }

  /**
   * Goes on writing in {@code tail} at {@code bytes}; {@code preallocated}: zeros follow (a
   * preallocated segment, to be filled further).
   */
  void resume(Path tail, long bytes, boolean preallocated) throws IOException {
    active = files.open(tail, StandardOpenOption.WRITE);
    activeBytes = bytes;
    activePreallocated = preallocated;
    active.position(activeBytes);
    activeFirstIndex = Segments.firstIndexOf(tail);
  }

  /** Starts a new segment whose first record will be {@code firstIndex}. */
  void startNew(long firstIndex) throws IOException {
    startSegment(firstIndex, openSegment(firstIndex));
  }

  /** Writes segments into zero-filled files that {@code spares} prepares from now on. */
  void preallocateWith(SegmentPreallocator spares) {
    this.preallocator = spares;
  }

  /** Makes new segment files with {@code opener} from now on (tests inject failures). */
  void openSegmentsWith(FileCommandLog.SegmentOpener opener) {
    this.segmentOpener = opener;
  }

  /** Whether a preallocated spare segment is ready (for tests). */
  boolean spareReady() {
    return preallocator != null && preallocator.ready();
  }

  /**
   * Writes {@code batch} (consecutive indexes) into the active segment, durable under
   * fsync=always when this returns; returns the bytes written.
   */
  long writeGroup(List<FileCommandLog.Pending> batch) throws IOException {
    switchToSpareIfReady();
    long bytes = 0;
    long groupFirst = batch.get(0).index();
    for (FileCommandLog.Pending p : batch) {
      int size = JournalFormat.RECORD_HEADER_BYTES + p.payload().length;
      if (buffer.remaining() < size) {
        flush();
        if (buffer.capacity() < size) {
          buffer = ByteBuffer.allocateDirect(size);
        }
      }
      lastCrc = JournalFormat.putRecord(buffer, p.index(), p.payload(), lastCrc,
          (int) (p.index() - groupFirst), crc);
      bytes += size;
    }
    flush();
    if (fsync == FsyncMode.ALWAYS) {
      active.force(false);
    }
    activeBytes += bytes;
    lastWritten = batch.get(batch.size() - 1).index();
    return bytes;
  }

  /** After a group: starts the next segment if the active one is full. */
  void rollIfFull() throws IOException {
    if (activeBytes >= segmentBytes) {
      rollSegment();
    }
  }

  /** Closes the spare maker, the active segment (fsynced) and the directory. */
  void close() throws IOException {
    if (preallocator != null) {
      preallocator.close();
    }
    if (active != null) {
      active.force(false);
      active.close();
    }
    dirChannel.close();
  }

  private void flush() throws IOException {
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
      rollSegment();
    }
  }

  /**
   * Closes the active segment after the last record written and starts the next one, if it
   * can be opened; else the active one stays, to be written on, and the roll is tried again after
   * the next group. The next file is opened first, so a failure leaves the journal as it was.
   */
  private void rollSegment() throws IOException {
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
    segments.addClosed(
        new Segments.Segment(segments.pathOf(activeFirstIndex), activeFirstIndex, lastWritten));
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
    Path file = segments.pathOf(firstIndex);
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
}
