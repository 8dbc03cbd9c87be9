package dev.lightspeed.orchestrator.journal;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The journal's file formats; {@code docs/durability.md} describes them for people. All integers
 * are big-endian. New segments are written in format {@value #FORMAT}; segments of format
 * {@value #FORMAT_1} (written before chained checksums) are still read, so a data directory
 * upgrades in place: its old segments are read, the next segment is written in the new format.
 *
 * <pre>
 * segment file  journal-&lt;first index, 20 digits&gt;.log
 *   header      magic "LSJ1" (int) | format (int) | first index (long)              16 bytes
 * format 2 record:
 *   length (int) | crc32c (int) | index (long) | previous crc (int) | group offset (int)
 *   | payload                                                                   24 + length bytes
 *   crc32c covers length, index, previous crc, group offset and payload
 * format 1 record:
 *   length (int) | crc32c (int) | index (long) | payload                       16 + length bytes
 *   crc32c covers index and payload
 * </pre>
 *
 * <p>The previous crc chains each record to the one before it (in the journal, across segments;
 * 0 before the first record), as etcd's WAL does: a record cannot be dropped, replaced or
 * reordered without breaking the chain. The group offset is how many records of the same
 * group commit (one write + one fsync) precede this one, so recovery can tell whether a valid
 * record after a bad one was written in the same, never acknowledged, group. The payload is a
 * protobuf {@code lightspeed.orchestrator.journal.v1.Command}. Indexes are consecutive across
 * segments.
 */
final class JournalFormat {
  static final int SEGMENT_MAGIC = 0x4C534A31; // "LSJ1"
  /** The format new segments are written in. */
  static final int FORMAT = 2;
  /** The format before chained checksums; read, never written. */
  static final int FORMAT_1 = 1;
  static final int SEGMENT_HEADER_BYTES = 16;
  /** Record header bytes of the current format. */
  static final int RECORD_HEADER_BYTES = 24;
  static final int FORMAT_1_RECORD_HEADER_BYTES = 16;
  static final int MAX_RECORD_BYTES = 64 << 20;

  private JournalFormat() {}

  static String segmentName(long firstIndex) {
    return String.format("journal-%020d.log", firstIndex);
  }

  static boolean isSegmentName(String name) {
    return name.matches("journal-\\d{20}\\.log");
  }

  static long firstIndexOf(String segmentName) {
    return Long.parseLong(segmentName.substring(8, 28));
  }

  static boolean isReadable(int format) {
    return format == FORMAT || format == FORMAT_1;
  }

  static int recordHeaderBytes(int format) {
    return format == FORMAT_1 ? FORMAT_1_RECORD_HEADER_BYTES : RECORD_HEADER_BYTES;
  }

  static void putSegmentHeader(ByteBuffer out, long firstIndex) {
    out.putInt(SEGMENT_MAGIC).putInt(FORMAT).putLong(firstIndex);
  }

  /**
   * Appends one record to {@code out}, which must have room for 24 + payload bytes; returns its
   * checksum, the next record's {@code previousCrc}.
   */
  static int putRecord(
      ByteBuffer out, long index, byte[] payload, int previousCrc, int groupOffset, CRC32C crc) {
    int sum = checksum(FORMAT, payload.length, index, previousCrc, groupOffset, payload, 0, crc);
    out.putInt(payload.length).putInt(sum).putLong(index).putInt(previousCrc).putInt(groupOffset)
        .put(payload);
    return sum;
  }

  /** A record header as read; {@code previousCrc} and {@code groupOffset} are 0 in format 1. */
  record Header(int length, int crc, long index, int previousCrc, int groupOffset) {
    static Header read(int format, ByteBuffer in, int at) {
      if (format == FORMAT_1) {
        return new Header(in.getInt(at), in.getInt(at + 4), in.getLong(at + 8), 0, 0);
      }
      return new Header(in.getInt(at), in.getInt(at + 4), in.getLong(at + 8), in.getInt(at + 16),
          in.getInt(at + 20));
    }

    boolean isZero() {
      return length == 0 && crc == 0 && index == 0 && previousCrc == 0 && groupOffset == 0;
    }

    /** Whether the record's checksum matches {@code payload[from, from + length)}. */
    boolean matches(int format, byte[] payload, int from, CRC32C crc32c) {
      return crc == checksum(format, length, index, previousCrc, groupOffset, payload, from, crc32c);
    }

    /** The index of the first record of the group commit this record was written in. */
    long groupFirstIndex(int format) {
      // format 1 has no groups: each record counts as its own
      return format == FORMAT_1 ? index : index - groupOffset;
    }
  }

  private static int checksum(
      int format, int length, long index, int previousCrc, int groupOffset, byte[] payload,
      int from, CRC32C crc) {
    crc.reset();
    ByteBuffer fields = ByteBuffer.allocate(20);
    if (format == FORMAT_1) {
      fields.putLong(index);
    } else {
      fields.putInt(length).putLong(index).putInt(previousCrc).putInt(groupOffset);
    }
    crc.update(fields.flip());
    crc.update(payload, from, length);
    return (int) crc.getValue();
  }
}
