package dev.lightspeed.orchestrator.journal;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * Snapshot files in a directory, named {@code snapshot-<index, 20 digits>.pb} after the journal
 * index they cover. A snapshot is written to a temporary file, fsynced, then renamed into place,
 * so a crash leaves either the old or the new snapshot, never half of one.
 *
 * <p>The newest two are kept: if the newest fails its checks at start-up, the server falls back
 * to the one before it, which is why the journal is compacted only up to that one's index
 * ({@link #oldest}).
 *
 * <p>File format 2 (all integers big-endian): a 32-byte header, then the body (a protobuf
 * {@code SnapshotFile}):
 *
 * <pre>
 *   magic "LSSN" (int) | format 2 (int) | index (long) | body length (long)
 *   | CRC32C of the body (int) | CRC32C of the 28 header bytes before it (int)
 * </pre>
 *
 * Format 1, written before, is the body alone, without a header or a checksum; it is still read,
 * told apart by its first byte (the tag of {@code floor_index}, 0x08; the magic starts 0x4C).
 */
public final class SnapshotStore {
  static final int MAGIC = 0x4C53534E; // "LSSN"
  static final int FORMAT = 2;
  static final int HEADER_BYTES = 32;
  /**
   * A format 1 file starts with the tag of {@code SnapshotFile.floor_index} (field 1, varint),
   * which is never 0 in a snapshot; a damaged magic is not mistaken for one (0x4C vs 0x08).
   */
  private static final byte FORMAT_1_FIRST_BYTE = 0x08;
  /** A snapshot moved aside after failing its checks gets this suffix (and is never listed). */
  public static final String CORRUPT_SUFFIX = ".corrupt";

  private final Path dir;
  /** Opens the snapshot files written (a seam for fault-injection tests). */
  private final JournalFiles files;

  public SnapshotStore(Path dir) throws IOException {
    this(dir, JournalFiles.REAL);
  }

  public SnapshotStore(Path dir, JournalFiles files) throws IOException {
    this.dir = Files.createDirectories(dir);
    this.files = files;
    try (Stream<Path> list = Files.list(dir)) {
      for (Path p : list.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList()) {
        Files.delete(p); // a snapshot that was being written when the server died
      }
    }
  }

  /** A stored snapshot: the index it covers and its file. */
  public record Stored(long index, Path file) {}

  /** The newest snapshot, if any. */
  public Optional<Stored> latest() throws IOException {
    List<Stored> all = list();
    return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
  }

  /** The oldest snapshot kept: the journal must still hold every record after it. */
  public Optional<Stored> oldest() throws IOException {
    List<Stored> all = list();
    return all.isEmpty() ? Optional.empty() : Optional.of(all.get(0));
  }

  /**
   * Writes a snapshot covering {@code index} with {@code writer} (the body), then drops all but
   * it and the newest older one.
   */
  public Stored save(long index, IoConsumer<OutputStream> writer) throws IOException {
    Path target = dir.resolve(name(index));
    Path tmp = dir.resolve(name(index) + ".tmp");
    try (FileChannel ch = files.open(tmp, StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      ch.position(HEADER_BYTES);
      CRC32C crc = new CRC32C();
      long[] length = new long[1];
      OutputStream body = new FilterOutputStream(
          new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 20)) {
        @Override
        public void write(int b) throws IOException {
          crc.update(b);
          length[0]++;
          out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
          crc.update(b, off, len);
          length[0] += len;
          out.write(b, off, len);
        }

        @Override
        public void close() {
          // the channel is closed below, after the header
        }
      };
      writer.accept(body);
      body.flush();
      ByteBuffer header = header(index, length[0], (int) crc.getValue());
      while (header.hasRemaining()) {
        ch.write(header, header.position());
      }
      ch.force(true);
    }
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    FileCommandLog.fsyncDirectory(dir);
    List<Stored> all = list();
    for (int i = 0; i < all.size(); i++) {
      Stored old = all.get(i);
      boolean previous = old.index() < index && (i + 1 == all.size()
          || all.get(i + 1).index() >= index);
      if (old.index() < index && !previous) {
        Files.deleteIfExists(old.file());
      }
    }
    return new Stored(index, target);
  }

  private static ByteBuffer header(long index, long bodyBytes, int bodyCrc) {
    ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
    header.putInt(MAGIC).putInt(FORMAT).putLong(index).putLong(bodyBytes).putInt(bodyCrc);
    CRC32C crc = new CRC32C();
    crc.update(header.array(), 0, HEADER_BYTES - 4);
    header.putInt((int) crc.getValue());
    return header.flip();
  }

  /**
   * Reads {@code stored}'s body with {@code parser}, checking the header and the checksum first
   * or as it reads: a file that fails any check throws {@link SnapshotCorruptException} naming
   * it, and whatever {@code parser} built is to be thrown away. A format 1 file (no header, no
   * checksum) is handed to {@code parser} as it is.
   */
  public <T> T read(Stored stored, IoFunction<InputStream, T> parser) throws IOException {
    Path file = stored.file();
    long size = Files.size(file);
    try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 20)) {
      byte[] head = raw.readNBytes(HEADER_BYTES);
      ByteBuffer h = ByteBuffer.wrap(head);
      if (head.length < 4 || h.getInt(0) != MAGIC) {
        if (head.length == 0 || head[0] != FORMAT_1_FIRST_BYTE) {
          throw new SnapshotCorruptException(file, 0, "not a snapshot: bad magic");
        }
        // format 1: the body alone
        InputStream whole = new java.io.SequenceInputStream(
            new java.io.ByteArrayInputStream(head), raw);
        return parse(file, 0, whole, parser);
      }
      if (head.length < HEADER_BYTES) {
        throw new SnapshotCorruptException(file, head.length, "header cut short: the file has "
            + size + " bytes");
      }
      CRC32C crc = new CRC32C();
      crc.update(head, 0, HEADER_BYTES - 4);
      if ((int) crc.getValue() != h.getInt(28)) {
        throw new SnapshotCorruptException(file, 0, "header checksum mismatch");
      }
      int format = h.getInt(4);
      if (format != FORMAT) {
        throw new SnapshotCorruptException(file, 4, "snapshot format " + format + ", which this"
            + " server version cannot read (a newer version wrote it?)");
      }
      if (h.getLong(8) != stored.index()) {
        throw new SnapshotCorruptException(file, 8, "the header says it covers journal record "
            + h.getLong(8) + ", its name says " + stored.index());
      }
      long bodyBytes = h.getLong(16);
      if (bodyBytes != size - HEADER_BYTES) {
        throw new SnapshotCorruptException(file, 16, "the header says the body has " + bodyBytes
            + " bytes, the file holds " + (size - HEADER_BYTES) + " (truncated or extended)");
      }
      ChecksummedInput body = new ChecksummedInput(raw);
      T parsed = parse(file, HEADER_BYTES, body, parser);
      byte[] rest = new byte[8192];
      while (body.read(rest, 0, rest.length) >= 0) {
        // what the parser left unread: the checksum covers it too
      }
      if (body.count != bodyBytes || (int) body.crc.getValue() != h.getInt(24)) {
        throw new SnapshotCorruptException(file, HEADER_BYTES, "body checksum mismatch");
      }
      return parsed;
    }
  }

  private static <T> T parse(Path file, long offset, InputStream in,
      IoFunction<InputStream, T> parser) throws IOException {
    try {
      return parser.apply(in);
    } catch (SnapshotCorruptException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw new SnapshotCorruptException(file, offset, "its body does not parse: " + e, e);
    }
  }

  /** Renames a snapshot that failed its checks out of the way, keeping it for inspection. */
  public Path moveAside(Stored stored) throws IOException {
    Path aside = stored.file().resolveSibling(stored.file().getFileName() + CORRUPT_SUFFIX);
    Files.move(stored.file(), aside, StandardCopyOption.REPLACE_EXISTING);
    FileCommandLog.fsyncDirectory(dir);
    return aside;
  }

  /** Every snapshot, oldest first. */
  public List<Stored> list() throws IOException {
    try (Stream<Path> list = Files.list(dir)) {
      return list.map(Path::getFileName)
          .map(Path::toString)
          .filter(n -> n.matches("snapshot-\\d{20}\\.pb"))
          .sorted()
          .map(n -> new Stored(Long.parseLong(n.substring(9, 29)), dir.resolve(n)))
          .toList();
    }
  }

  public Path dir() {
    return dir;
  }

  private static String name(long index) {
    return String.format("snapshot-%020d.pb", index);
  }

  /** Counts and checksums what is read through it. */
  private static final class ChecksummedInput extends FilterInputStream {
    final CRC32C crc = new CRC32C();
    long count;

    ChecksummedInput(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      int b = in.read();
      if (b >= 0) {
        crc.update(b);
        count++;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = in.read(b, off, len);
      if (n > 0) {
        crc.update(b, off, n);
        count += n;
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      long skipped = 0;
      while (skipped < n && read() >= 0) {
        skipped++;
      }
      return skipped;
    }

    @Override
    public boolean markSupported() {
      return false;
    }
  }

  /** A consumer that may throw IOException. */
  @FunctionalInterface
  public interface IoConsumer<T> {
    void accept(T value) throws IOException;
  }

  /** A function that may throw IOException. */
  @FunctionalInterface
  public interface IoFunction<T, R> {
    R apply(T value) throws IOException;
  }
}
