package dev.lightspeed.orchestrator.journal;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The journal's file format (version {@value #FORMAT}); {@code docs/durability.md} describes it
 * for people. All integers are big-endian.
 *
 * <pre>
 * segment file  journal-&lt;first index, 20 digits&gt;.log
 *   header      magic "LSJ1" (int) | format (int) | first index (long)        16 bytes
 *   records     length (int) | crc32c (int) | index (long) | payload          16 + length bytes
 * </pre>
 *
 * The CRC32C covers the index and the payload; the payload is a protobuf {@code
 * lightspeed.orchestrator.journal.v1.Command}. Indexes are consecutive across segments.
 */
final class JournalFormat {
  static final int SEGMENT_MAGIC = 0x4C534A31; // "LSJ1"
  static final int FORMAT = 1;
  static final int SEGMENT_HEADER_BYTES = 16;
  static final int RECORD_HEADER_BYTES = 16;
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

  static void putSegmentHeader(ByteBuffer out, long firstIndex) {
    out.putInt(SEGMENT_MAGIC).putInt(FORMAT).putLong(firstIndex);
  }

  /** Appends one record to {@code out}, which must have room for 16 + payload bytes. */
  static void putRecord(ByteBuffer out, long index, byte[] payload, CRC32C crc) {
    crc.reset();
    ByteBuffer indexBytes = ByteBuffer.allocate(8).putLong(index).flip();
    crc.update(indexBytes);
    crc.update(payload);
    out.putInt(payload.length).putInt((int) crc.getValue()).putLong(index).put(payload);
  }
}
