package dev.lightspeed.orchestrator.journal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Follows an open {@link FileCommandLog}'s segment files: each {@link #readUpTo} hands out the
 * records after the last one it handed out, starting where that one ended (segment and byte
 * offset), so following the journal costs the new records only, not a scan from the segment's
 * start as {@link FileCommandLog#read} does.
 *
 * <p>Safe against the writer for the reasons {@link FileCommandLog#read} is: only records up to
 * the durable index are read, and those were written before that index was published. Nothing
 * read past them is kept between calls, since those bytes (zeros of a preallocated segment, or
 * half a record) may change. When the records of a segment end (zeros, or the end of the file),
 * the next record is in the segment named after its index, which the writer created before it
 * wrote that record there.
 */
final class SegmentTail implements CommandLog.Tail {
  private static final int BUFFER_BYTES = 256 << 10;

  private final FileCommandLog log;
  private final Path dir;
  private final CRC32C crc = new CRC32C();
  /** Raw bytes read from the segment at {@code bufferOffset}; cleared after every call. */
  private ByteBuffer buffer = ByteBuffer.allocate(BUFFER_BYTES);
  private long lastRead;
  private Path segment;
  private FileChannel channel;
  /** Where the record with index {@code nextIndex} starts in {@code segment}. */
  private long offset;
  private long nextIndex;
  private long bufferOffset;
  private boolean broken;
  /** The open segment's format and record header size. */
  private int format;
  private int headerBytes;
  /** The checksum of the last record read, which the next one links to; unknown at first. */
  private boolean chainKnown;
  private int chain;

  SegmentTail(FileCommandLog log, Path dir, long afterIndex) {
    this.log = log;
    this.dir = dir;
    this.lastRead = afterIndex;
  }

  @Override
  public long lastRead() {
    return lastRead;
  }

  @Override
  public void readUpTo(long upToIndex, CommandLog.RecordConsumer consumer) throws IOException {
    if (broken) {
      throw new IllegalStateException("this tail failed before; open a new one");
    }
    long durable = log.durableIndex();
    if (upToIndex > durable) {
      throw new IllegalArgumentException(
          "records up to " + upToIndex + " asked for, but only " + durable + " are written");
    }
    boolean done = false;
    try {
      if (channel == null && lastRead < upToIndex) {
        openSegmentHolding(lastRead + 1);
      }
      bufferOffset = offset;
      buffer.clear().flip();
      while (lastRead < upToIndex) {
        readRecord(consumer);
      }
      done = true;
    } finally {
      if (buffer.capacity() > BUFFER_BYTES) {
        buffer = ByteBuffer.allocate(BUFFER_BYTES); // grown for one large record: not kept
      }
      buffer.clear().flip();
      if (!done) {
        broken = true;
      }
    }
  }

  /** Reads the record at {@code offset}: hands it out if it is new, or moves to the next segment. */
  private void readRecord(CommandLog.RecordConsumer consumer) throws IOException {
    if (!available(headerBytes)) {
      nextSegment();
      return;
    }
    int at = (int) (offset - bufferOffset);
    JournalFormat.Header h = JournalFormat.Header.read(format, buffer, at);
    if (h.isZero()) {
      nextSegment(); // the zeros of a preallocated segment: its records end here
      return;
    }
    if (h.length() < 0 || h.length() > JournalFormat.MAX_RECORD_BYTES) {
      throw corrupt("impossible record length " + h.length());
    }
    if (h.index() != nextIndex) {
      throw corrupt("index " + h.index() + " where " + nextIndex + " was expected");
    }
    if (!available(headerBytes + h.length())) {
      throw corrupt("record " + h.index() + " of " + h.length() + " bytes cut short");
    }
    at = (int) (offset - bufferOffset) + headerBytes;
    byte[] payload = new byte[h.length()];
    buffer.get(at, payload);
    if (!h.matches(format, payload, 0, crc)) {
      throw corrupt("checksum mismatch in record " + h.index());
    }
    if (format == JournalFormat.FORMAT && chainKnown && h.previousCrc() != chain) {
      throw corrupt("broken chain at record " + h.index());
    }
    chain = h.crc();
    chainKnown = true;
    offset += headerBytes + h.length();
    nextIndex++;
    if (h.index() > lastRead) {
      consumer.accept(h.index(), payload);
      lastRead = h.index();
    }
  }

  /**
   * Whether {@code bytes} bytes from {@code offset} are in the buffer, reading more of the file
   * if not; false at the end of the file.
   */
  private boolean available(int bytes) throws IOException {
    long end = bufferOffset + buffer.limit();
    if (offset + bytes <= end) {
      return true;
    }
    if (buffer.capacity() < bytes) {
      buffer = ByteBuffer.allocate(Math.max(bytes, buffer.capacity() * 2));
    }
    buffer.clear();
    bufferOffset = offset;
    while (buffer.hasRemaining()) {
      int n = channel.read(buffer, bufferOffset + buffer.position());
      if (n < 0) {
        break;
      }
    }
    buffer.flip();
    return buffer.limit() >= bytes;
  }

  /** The records of this segment ended: the next one starts the segment named after it. */
  private void nextSegment() throws IOException {
    Path next = dir.resolve(JournalFormat.segmentName(nextIndex));
    if (next.equals(segment) || !Files.exists(next)) {
      throw corrupt("its records end before record " + nextIndex + ", and no segment starts there");
    }
    open(next, nextIndex);
  }

  /** Opens the segment that holds record {@code index}: the last one starting at or before it. */
  private void openSegmentHolding(long index) throws IOException {
    List<Path> files = log.segmentFiles();
    Path holding = null;
    for (Path f : files) {
      if (JournalFormat.firstIndexOf(f.getFileName().toString()) <= index) {
        holding = f;
      }
    }
    if (holding == null) {
      throw new IOException(
          "journal " + dir + " has no segment holding record " + index + " (compacted away?)");
    }
    open(holding, JournalFormat.firstIndexOf(holding.getFileName().toString()));
  }

  private void open(Path file, long firstIndex) throws IOException {
    closeChannel();
    try {
      channel = FileChannel.open(file, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw new IOException("journal segment " + file + " was removed while being read", e);
    }
    segment = file;
    offset = 0;
    bufferOffset = 0;
    buffer.clear().flip();
    if (!available(JournalFormat.SEGMENT_HEADER_BYTES)
        || buffer.getInt(0) != JournalFormat.SEGMENT_MAGIC
        || !JournalFormat.isReadable(buffer.getInt(4))
        || buffer.getLong(8) != firstIndex) {
      throw corrupt("not a journal segment of a known format starting at " + firstIndex);
    }
    format = buffer.getInt(4);
    headerBytes = JournalFormat.recordHeaderBytes(format);
    offset = JournalFormat.SEGMENT_HEADER_BYTES;
    nextIndex = firstIndex;
  }

  private JournalCorruptException corrupt(String detail) {
    return new JournalCorruptException(segment, offset, detail);
  }

  private void closeChannel() throws IOException {
    if (channel != null) {
      channel.close();
      channel = null;
    }
  }

  @Override
  public void close() throws IOException {
    closeChannel();
  }
}
