package dev.lightspeed.orchestrator.journal;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * Reads one journal segment front to back, checking every record, and says where the valid part
 * ends and why. It never changes the file; {@link JournalRecovery} decides what a bad record is
 * (a torn tail, corruption, or something to repair), with {@link #findValidAfter} to look for
 * valid records past it.
 */
final class SegmentReader {
  /** How a scan ended. */
  enum End {
    /**
     * Every byte was a valid record, or the records end in zeros only: a preallocated segment
     * ({@code validBytes < fileBytes}).
     */
    CLEAN,
    /** A bad record (or header) at {@code validBytes}: a torn tail or corruption. */
    BAD
  }

  /**
   * The result of a scan: the segment's format, the records found, where the valid part ends,
   * and the checksum of its last valid record ({@code lastCrc}, the next record's chain link;
   * meaningful when {@code chainKnown}).
   */
  record Scan(int format, long firstIndex, long lastIndex, long validBytes, long fileBytes,
      End end, String problem, int lastCrc, boolean chainKnown) {}

  /** Chain link unknown: the first segment on disk after compaction, or a read from its middle. */
  static final Integer UNKNOWN_CHAIN = null;

  private SegmentReader() {}

  /**
   * Scans {@code file}, handing every record with an index above {@code afterIndex} to {@code
   * consumer}.
   */
  static Scan scan(Path file, long afterIndex, CommandLog.RecordConsumer consumer)
      throws IOException {
    return scan(file, afterIndex, Long.MAX_VALUE, consumer, UNKNOWN_CHAIN);
  }

  /**
   * As {@link #scan(Path, long, CommandLog.RecordConsumer)}, but stops after the record with
   * index {@code upToIndex} (the scan then ends CLEAN there). A segment that is still being
   * appended to can be read this way: the bytes after {@code upToIndex} may be a record the
   * writer is in the middle of, and are never looked at. {@code previousCrc}, if known, is the
   * checksum of the record before this segment's first one: its first record must link to it.
   */
  static Scan scan(Path file, long afterIndex, long upToIndex, CommandLog.RecordConsumer consumer,
      Integer previousCrc) throws IOException {
    long fileBytes = Files.size(file);
    try (InputStream raw = Files.newInputStream(file);
        DataInputStream in = new DataInputStream(new BufferedInputStream(raw, 1 << 20))) {
      if (fileBytes < JournalFormat.SEGMENT_HEADER_BYTES) {
        return new Scan(JournalFormat.FORMAT, 0, 0, 0, fileBytes, End.BAD,
            "segment header incomplete", 0, false);
      }
      int magic = in.readInt();
      int format = in.readInt();
      long firstIndex = in.readLong();
      if (magic != JournalFormat.SEGMENT_MAGIC) {
        String what = magic == 0 && format == 0 && firstIndex == 0 && restIsZero(in)
            ? "segment of zeros only" : "not a journal segment (bad magic)";
        return new Scan(JournalFormat.FORMAT, firstIndex, firstIndex - 1, 0, fileBytes, End.BAD,
            what, 0, false);
      }
      if (!JournalFormat.isReadable(format)) {
        return new Scan(format, firstIndex, firstIndex - 1, 0, fileBytes, End.BAD,
            "segment of format " + format + ", which this server version cannot read (a newer"
                + " version wrote it?)", 0, false);
      }
      int headerBytes = JournalFormat.recordHeaderBytes(format);
      byte[] headerRaw = new byte[headerBytes];
      ByteBuffer header = ByteBuffer.wrap(headerRaw);
      long offset = JournalFormat.SEGMENT_HEADER_BYTES;
      long expected = firstIndex;
      boolean chainKnown = previousCrc != null;
      int chain = chainKnown ? previousCrc : 0;
      CRC32C crc = new CRC32C();
      String problem = null;
      while (offset < fileBytes) {
        long remaining = fileBytes - offset;
        if (remaining < headerBytes) {
          if (restIsZero(in)) { // the last few bytes of a filled preallocated segment
            break;
          }
          problem = "record header cut short by the end of the file";
          break;
        }
        in.readFully(headerRaw);
        JournalFormat.Header h = JournalFormat.Header.read(format, header, 0);
        if (h.isZero()) {
          // No record has index 0: this is where writing stopped in a zero-filled file.
          if (!restIsZero(in)) {
            problem = "a record header of zeros with data after it";
          }
          break;
        }
        if (h.length() < 0 || h.length() > JournalFormat.MAX_RECORD_BYTES) {
          problem = "impossible record length " + h.length();
          break;
        }
        long extent = headerBytes + (long) h.length();
        if (extent > remaining) {
          problem = "record length " + h.length() + " runs past the end of the file";
          break;
        }
        byte[] payload = new byte[h.length()];
        in.readFully(payload);
        if (!h.matches(format, payload, 0, crc)) {
          problem = "checksum mismatch";
          break;
        }
        if (h.index() != expected) {
          problem = "index " + h.index() + " where " + expected + " was expected";
          break;
        }
        if (format == JournalFormat.FORMAT && chainKnown && h.previousCrc() != chain) {
          problem = String.format("broken chain: the record links to checksum %08x, the record"
              + " before it has %08x", h.previousCrc(), chain);
          break;
        }
        if (h.index() > afterIndex) {
          consumer.accept(h.index(), payload);
        }
        chain = h.crc();
        chainKnown = true;
        expected++;
        offset += extent;
        if (h.index() >= upToIndex) {
          break;
        }
      }
      return new Scan(format, firstIndex, expected - 1, offset, fileBytes,
          problem == null ? End.CLEAN : End.BAD, problem, chain, chainKnown);
    }
  }

  /** Valid records found after a bad one (see {@link #findValidAfter}). */
  record Later(int count, long firstOffset, long firstIndex, long maxIndex,
      boolean fromALaterGroup) {
    static final Later NONE = new Later(0, -1, 0, 0, false);
  }

  /**
   * Looks at every byte offset from {@code from} to the end of {@code file} for a valid record of
   * {@code format}: a header whose length fits in the file, whose index is at least {@code
   * expected} (the index the bad record should have had), and whose checksum matches. A
   * corrupted length cannot hide the records after it this way, since no length is trusted.
   * {@code fromALaterGroup} says whether one of them was written by a later group commit than
   * {@code expected} (format 2 only; in format 1 every valid record counts as one).
   */
  static Later findValidAfter(Path file, int format, long from, long expected) throws IOException {
    int headerBytes = JournalFormat.recordHeaderBytes(format);
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = channel.size();
      Window window = new Window(channel);
      CRC32C crc = new CRC32C();
      long highestPossible = expected + (size - from) / headerBytes + 1;
      Later found = Later.NONE;
      long p = Math.max(from, JournalFormat.SEGMENT_HEADER_BYTES);
      while (p + headerBytes <= size) {
        ByteBuffer b = window.cover(p, headerBytes);
        int at = (int) (p - window.start);
        long index = b.getLong(at + 8);
        if (index == 0) {
          // Zeros (a preallocated segment's rest): skip to where an index could be non-zero.
          int indexAt = at + 8;
          int length = b.limit() - indexAt;
          int mismatch = b.slice(indexAt, length).mismatch(ZERO_WINDOW.slice(0, length));
          int i = mismatch < 0 ? b.limit() : indexAt + mismatch;
          p = Math.max(p + 1, window.start + i - 15);
          continue;
        }
        JournalFormat.Header h = JournalFormat.Header.read(format, b, at);
        if (index < expected || index > highestPossible || h.length() < 0
            || h.length() > JournalFormat.MAX_RECORD_BYTES
            || p + headerBytes + h.length() > size) {
          p++;
          continue;
        }
        byte[] payload = window.read(p + headerBytes, h.length());
        if (!h.matches(format, payload, 0, crc)) {
          p++;
          continue;
        }
        found = new Later(found.count() + 1, found.count() == 0 ? p : found.firstOffset(),
            found.count() == 0 ? index : found.firstIndex(), Math.max(found.maxIndex(), index),
            found.fromALaterGroup() || h.groupFirstIndex(format) > expected);
        p += headerBytes + h.length();
      }
      return found;
    }
  }

  /** A window of a file in memory, moved forward as the scan goes. */
  private static final class Window {
    private final FileChannel channel;
    private final ByteBuffer buffer = ByteBuffer.allocate(WINDOW_BYTES);
    long start = -1;

    Window(FileChannel channel) {
      this.channel = channel;
    }

    /** The buffer, holding [{@code position}, {@code position + bytes}) at {@code position - start}. */
    ByteBuffer cover(long position, int bytes) throws IOException {
      if (start < 0 || position < start || position + bytes > start + buffer.limit()) {
        buffer.clear();
        start = position;
        fill(buffer, position);
      }
      return buffer;
    }

    byte[] read(long position, int bytes) throws IOException {
      byte[] out = new byte[bytes];
      if (position >= start && position + bytes <= start + buffer.limit()) {
        buffer.get((int) (position - start), out);
      } else {
        fill(ByteBuffer.wrap(out), position);
      }
      return out;
    }

    private void fill(ByteBuffer into, long position) throws IOException {
      while (into.hasRemaining()) {
        if (channel.read(into, position + into.position()) < 0) {
          break;
        }
      }
      into.flip();
    }
  }

  private static boolean restIsZero(InputStream in) throws IOException {
    // Read in chunks: a preallocated segment can have tens of MB of zeros after its records.
    byte[] chunk = new byte[64 << 10];
    try {
      int n;
      while ((n = in.read(chunk)) != -1) {
        if (Arrays.mismatch(chunk, 0, n, ZEROS, 0, n) != -1) {
          return false;
        }
      }
      return true;
    } catch (EOFException e) {
      return true;
    }
  }

  private static final byte[] ZEROS = new byte[64 << 10];
  private static final int WINDOW_BYTES = 1 << 20;
  /** Compared with a window of the file to skip zeros fast (vectorized). */
  private static final ByteBuffer ZERO_WINDOW =
      ByteBuffer.allocate(WINDOW_BYTES).asReadOnlyBuffer();
}
