package dev.lightspeed.orchestrator.journal;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * Reads one journal segment front to back, checking every record, and says where the valid part
 * ends and why. It never changes the file; {@link FileCommandLog} decides what to do with a bad
 * record (truncate a torn tail, stop on corruption, or repair when asked).
 */
final class SegmentReader {
  /** How a scan ended. */
  enum End {
    /**
     * Every byte was a valid record, or the records end in zeros only: a preallocated segment
     * ({@code validBytes < fileBytes}).
     */
    CLEAN,
    /** The last record is incomplete or zero-filled: a crash mid-write. Safe to truncate. */
    TORN,
    /** A complete record is bad and something follows it. */
    CORRUPT
  }

  /** The result of a scan: the records found and where the valid part ends. */
  record Scan(long firstIndex, long lastIndex, long validBytes, long fileBytes, End end, String problem) {}

  private SegmentReader() {}

  /**
   * Scans {@code file}, whose first record must have index {@code firstIndex}, handing every
   * record with an index above {@code afterIndex} to {@code consumer}.
   */
  static Scan scan(Path file, long afterIndex, CommandLog.RecordConsumer consumer)
      throws IOException {
    return scan(file, afterIndex, Long.MAX_VALUE, consumer);
  }

  /**
   * As {@link #scan(Path, long, CommandLog.RecordConsumer)}, but stops after the record with
   * index {@code upToIndex} (the scan then ends CLEAN there). A segment that is still being
   * appended to can be read this way: the bytes after {@code upToIndex} may be a record the
   * writer is in the middle of, and are never looked at.
   */
  static Scan scan(Path file, long afterIndex, long upToIndex, CommandLog.RecordConsumer consumer)
      throws IOException {
    long fileBytes = Files.size(file);
    try (InputStream raw = Files.newInputStream(file);
        DataInputStream in = new DataInputStream(new BufferedInputStream(raw, 1 << 20))) {
      if (fileBytes < JournalFormat.SEGMENT_HEADER_BYTES) {
        return new Scan(0, 0, 0, fileBytes, End.TORN, "segment header incomplete");
      }
      int magic = in.readInt();
      int format = in.readInt();
      long firstIndex = in.readLong();
      if (magic != JournalFormat.SEGMENT_MAGIC || format != JournalFormat.FORMAT) {
        return new Scan(firstIndex, firstIndex - 1, 0, fileBytes, End.CORRUPT,
            "not a journal segment of format " + JournalFormat.FORMAT);
      }
      long offset = JournalFormat.SEGMENT_HEADER_BYTES;
      long expected = firstIndex;
      CRC32C crc = new CRC32C();
      ByteBuffer indexBytes = ByteBuffer.allocate(8);
      while (offset < fileBytes) {
        long remaining = fileBytes - offset;
        if (remaining < JournalFormat.RECORD_HEADER_BYTES) {
          if (restIsZero(in)) { // the last few bytes of a filled preallocated segment
            return new Scan(firstIndex, expected - 1, offset, fileBytes, End.CLEAN, null);
          }
          return new Scan(firstIndex, expected - 1, offset, fileBytes, End.TORN,
              "record header cut short");
        }
        int length = in.readInt();
        int storedCrc = in.readInt();
        long index = in.readLong();
        if (length == 0 && storedCrc == 0 && index == 0) {
          // No record has index 0: this is where writing stopped in a zero-filled file.
          if (restIsZero(in)) {
            return new Scan(firstIndex, expected - 1, offset, fileBytes, End.CLEAN, null);
          }
          return new Scan(firstIndex, expected - 1, offset, fileBytes, End.CORRUPT,
              "a record header of zeros with data after it");
        }
        if (length < 0 || length > JournalFormat.MAX_RECORD_BYTES) {
          return bad(firstIndex, expected, offset, fileBytes, in, End.CORRUPT,
              "impossible record length " + length);
        }
        long extent = JournalFormat.RECORD_HEADER_BYTES + (long) length;
        if (extent > remaining) {
          return bad(firstIndex, expected, offset, fileBytes, in, End.TORN,
              "record of " + length + " bytes cut short");
        }
        byte[] payload = new byte[length];
        in.readFully(payload);
        crc.reset();
        crc.update(indexBytes.clear().putLong(index).flip());
        crc.update(payload);
        if ((int) crc.getValue() != storedCrc) {
          // A bad checksum on the very last record is a torn write; anywhere else, corruption.
          End end = offset + extent == fileBytes ? End.TORN : End.CORRUPT;
          return bad(firstIndex, expected, offset, fileBytes, in, end, "checksum mismatch");
        }
        if (index != expected) {
          return bad(firstIndex, expected, offset, fileBytes, in, End.CORRUPT,
              "index " + index + " where " + expected + " was expected");
        }
        if (index > afterIndex) {
          consumer.accept(index, payload);
        }
        expected++;
        offset += extent;
        if (index >= upToIndex) {
          break;
        }
      }
      return new Scan(firstIndex, expected - 1, offset, fileBytes, End.CLEAN, null);
    }
  }

  /** A bad record at {@code offset}; a zero-filled rest of the file counts as a torn tail. */
  private static Scan bad(
      long firstIndex, long expected, long offset, long fileBytes, DataInputStream in, End end,
      String problem) throws IOException {
    if (end == End.CORRUPT && restIsZero(in)) {
      end = End.TORN;
      problem = problem + " in a zero-filled tail";
    }
    return new Scan(firstIndex, expected - 1, offset, fileBytes, end, problem);
  }

  private static boolean restIsZero(InputStream in) throws IOException {
    // The header just read was part of the rest; a zero-filled tail has an all-zero header too,
    // which fails as "checksum mismatch" or "index 0", and is caught here by the bytes after it.
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
}
