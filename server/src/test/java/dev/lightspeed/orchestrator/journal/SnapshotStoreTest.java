package dev.lightspeed.orchestrator.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The snapshot file's header and checksums: every damage is caught, naming file and offset. */
class SnapshotStoreTest {
  @TempDir Path dir;

  private static final String BODY = "\u0008\u0007 a snapshot body of some length, any bytes";

  private SnapshotStore.Stored saveOne(SnapshotStore store, long index) throws IOException {
    return store.save(index, out -> out.write(BODY.getBytes(StandardCharsets.ISO_8859_1)));
  }

  private static String readAll(SnapshotStore store, SnapshotStore.Stored s) throws IOException {
    return store.read(s, in -> new String(in.readAllBytes(), StandardCharsets.ISO_8859_1));
  }

  @Test
  void aSavedSnapshot_readsBack_withItsHeader() throws IOException {
    SnapshotStore store = new SnapshotStore(dir);
    SnapshotStore.Stored s = saveOne(store, 42);
    assertThat(readAll(store, s)).isEqualTo(BODY);
    ByteBuffer head = ByteBuffer.wrap(Files.readAllBytes(s.file()), 0, SnapshotStore.HEADER_BYTES);
    assertThat(head.getInt(0)).isEqualTo(SnapshotStore.MAGIC);
    assertThat(head.getInt(4)).isEqualTo(SnapshotStore.FORMAT);
    assertThat(head.getLong(8)).isEqualTo(42);
    assertThat(head.getLong(16)).isEqualTo(BODY.length());
  }

  @Test
  void theNewestTwo_areKept() throws IOException {
    SnapshotStore store = new SnapshotStore(dir);
    saveOne(store, 10);
    saveOne(store, 20);
    saveOne(store, 30);
    assertThat(store.list()).extracting(SnapshotStore.Stored::index).containsExactly(20L, 30L);
    assertThat(store.oldest().orElseThrow().index()).isEqualTo(20);
  }

  /** Offsets: magic 0, format 4, index 8, body length 16, body crc 24, header crc 28, body 32. */
  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "magic, 0, 0", "format, 7, 0", "index, 15, 0", "body-length, 23, 0", "body-crc, 27, 0",
      "header-crc, 31, 0", "body-first-byte, 32, 32", "body-last-byte, -1, 32"})
  void aDamagedByte_failsTheChecks_namingFileAndOffset(String field, long at, long reported)
      throws IOException {
    SnapshotStore store = new SnapshotStore(dir);
    SnapshotStore.Stored s = saveOne(store, 42);
    long offset = at >= 0 ? at : Files.size(s.file()) - 1;
    try (RandomAccessFile f = new RandomAccessFile(s.file().toFile(), "rw")) {
      f.seek(offset);
      int b = f.read();
      f.seek(offset);
      f.write(b ^ 0x01);
    }
    assertThatThrownBy(() -> readAll(store, s))
        .isInstanceOf(SnapshotCorruptException.class)
        .hasMessageContaining(s.file().toString())
        .hasMessageContaining("offset " + reported);
  }

  @Test
  void aTruncatedBody_failsTheChecks() throws IOException {
    SnapshotStore store = new SnapshotStore(dir);
    SnapshotStore.Stored s = saveOne(store, 42);
    try (RandomAccessFile f = new RandomAccessFile(s.file().toFile(), "rw")) {
      f.setLength(f.length() - 10);
    }
    assertThatThrownBy(() -> readAll(store, s))
        .isInstanceOf(SnapshotCorruptException.class)
        .hasMessageContaining("offset 16")
        .hasMessageContaining("truncated");
  }

  @Test
  void aTruncatedHeader_failsTheChecks() throws IOException {
    SnapshotStore store = new SnapshotStore(dir);
    SnapshotStore.Stored s = saveOne(store, 42);
    try (RandomAccessFile f = new RandomAccessFile(s.file().toFile(), "rw")) {
      f.setLength(20);
    }
    assertThatThrownBy(() -> readAll(store, s))
        .isInstanceOf(SnapshotCorruptException.class)
        .hasMessageContaining("header cut short");
  }

  /** A header that is intact (its checksum matches) but says something else than expected. */
  private static void rewriteHeader(Path file, int format, long index) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      byte[] head = new byte[SnapshotStore.HEADER_BYTES];
      f.readFully(head);
      ByteBuffer h = ByteBuffer.wrap(head);
      h.putInt(4, format).putLong(8, index);
      CRC32C crc = new CRC32C();
      crc.update(head, 0, 28);
      h.putInt(28, (int) crc.getValue());
      f.seek(0);
      f.write(head);
    }
  }

  @Test
  void aNewerFormat_isRefused_sayingSo() throws IOException {
    SnapshotStore store = new SnapshotStore(dir);
    SnapshotStore.Stored s = saveOne(store, 42);
    rewriteHeader(s.file(), 3, 42);
    assertThatThrownBy(() -> readAll(store, s))
        .isInstanceOf(SnapshotCorruptException.class)
        .hasMessageContaining("offset 4")
        .hasMessageContaining("snapshot format 3");
  }

  @Test
  void anIndexThatDisagreesWithTheName_isRefused() throws IOException {
    SnapshotStore store = new SnapshotStore(dir);
    SnapshotStore.Stored s = saveOne(store, 42);
    rewriteHeader(s.file(), SnapshotStore.FORMAT, 41);
    assertThatThrownBy(() -> readAll(store, s))
        .isInstanceOf(SnapshotCorruptException.class)
        .hasMessageContaining("offset 8")
        .hasMessageContaining("covers journal record 41, its name says 42");
  }

  @Test
  void aFormat1File_isReadAsItIs() throws IOException {
    SnapshotStore store = new SnapshotStore(dir);
    Path file = dir.resolve(String.format("snapshot-%020d.pb", 7));
    Files.write(file, BODY.getBytes(StandardCharsets.ISO_8859_1));
    SnapshotStore.Stored s = store.latest().orElseThrow();
    assertThat(readAll(store, s)).isEqualTo(BODY);
  }

  @Test
  void aCorruptSnapshotMovedAside_isNotListedAnyMore() throws IOException {
    SnapshotStore store = new SnapshotStore(dir);
    saveOne(store, 10);
    SnapshotStore.Stored newest = saveOne(store, 20);
    Path aside = store.moveAside(newest);
    assertThat(aside).exists().hasFileName(newest.file().getFileName() + ".corrupt");
    assertThat(store.latest().orElseThrow().index()).isEqualTo(10);
  }
}
