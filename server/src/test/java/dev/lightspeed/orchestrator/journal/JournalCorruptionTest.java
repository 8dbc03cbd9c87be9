package dev.lightspeed.orchestrator.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Damage to the journal files: a bad record is a torn tail (truncated, start-up goes on) only if
 * it is in the last segment and no valid record follows it; anything else stops start-up naming
 * the file and the offset, and {@code --repair} drops exactly the records from the bad one on.
 */
class JournalCorruptionTest {
  private static final int SEG = JournalFormat.SEGMENT_HEADER_BYTES;
  private static final int H = JournalFormat.RECORD_HEADER_BYTES;

  @TempDir Path dir;

  private final List<Long> replayed = new ArrayList<>();
  /** Records replayed with another payload than the one appended. */
  private final List<Long> wrongPayloads = new ArrayList<>();

  private FileCommandLog open(boolean preallocate, boolean repair, long segmentBytes)
      throws IOException {
    replayed.clear();
    return FileCommandLog.open(dir, FsyncMode.ALWAYS, segmentBytes, preallocate, repair, 0,
        (index, bytes) -> {
          if (!new String(bytes, StandardCharsets.UTF_8).equals(payload(index))) {
            wrongPayloads.add(index);
          }
          replayed.add(index);
        });
  }

  private static String payload(long index) {
    return "record " + index + "-".repeat((int) (index % 7));
  }

  /** Appends records from..to, one group commit each, so every record is its own group. */
  private static void append(CommandLog log, long from, long to) {
    for (long i = from; i <= to; i++) {
      CommandLog.Appended a = log.append(payload(i).getBytes(StandardCharsets.UTF_8));
      assertThat(a.index()).isEqualTo(i);
      a.durable().join();
    }
  }

  private List<Path> segments() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> JournalFormat.isSegmentName(p.getFileName().toString())).sorted()
          .toList();
    }
  }

  /** The byte offset of every record in {@code segment}, by walking its (intact) headers. */
  private static List<Long> recordOffsets(Path segment, int headerBytes) throws IOException {
    List<Long> offsets = new ArrayList<>();
    try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "r")) {
      long at = SEG;
      while (at + headerBytes <= f.length()) {
        f.seek(at);
        int length = f.readInt();
        f.readInt();
        if (f.readLong() == 0) {
          break; // zeros of a preallocated segment
        }
        offsets.add(at);
        at += headerBytes + length;
      }
    }
    return offsets;
  }

  private static void xorByteAt(Path file, long offset, int mask) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.seek(offset);
      int b = f.read();
      f.seek(offset);
      f.write(b ^ mask);
    }
  }

  private static List<Long> range(long from, long to) {
    List<Long> out = new ArrayList<>();
    for (long i = from; i <= to; i++) {
      out.add(i);
    }
    return out;
  }

  // ---- the reproduction: a corrupted length in the middle of the last segment ----------------

  @ParameterizedTest(name = "preallocated={0}")
  @ValueSource(booleans = {false, true})
  void aCorruptedLengthInTheMiddleOfTheLastSegment_stopsStartUp_andRepairDropsTheTrueCount(
      boolean preallocate) throws Exception {
    try (FileCommandLog log = open(preallocate, false, 4 << 20)) {
      append(log, 1, 300);
    }
    Path segment = segments().get(segments().size() - 1);
    long first = JournalFormat.firstIndexOf(segment.getFileName().toString());
    List<Long> offsets = recordOffsets(segment, H);
    long bad = offsets.get((int) (150 - first));
    long size = Files.size(segment);
    // One bit: the length grows by 64 KiB, past the records (and into the zeros if preallocated).
    xorByteAt(segment, bad + 1, 0x01);

    assertThatThrownBy(() -> open(preallocate, false, 4 << 20))
        .isInstanceOf(JournalCorruptException.class)
        .hasMessageContaining(segment.toString())
        .hasMessageContaining("offset " + bad)
        .hasMessageContaining("a valid record (index 151)")
        .hasMessageContaining("--repair");
    assertThat(Files.size(segment)).as("nothing changed without --repair").isEqualTo(size);

    try (FileCommandLog log = open(preallocate, true, 4 << 20)) {
      assertThat(replayed).isEqualTo(range(1, 149));
      assertThat(log.repairedRecords()).as("records 150..300").isEqualTo(151);
      append(log, 150, 151);
    }
    try (FileCommandLog log = open(preallocate, false, 4 << 20)) {
      assertThat(replayed).isEqualTo(range(1, 151));
    }
  }

  // ---- every field of a record, in the last and in an earlier segment -----------------------

  /** Byte offsets in a format 2 record header: length 0, crc 4, index 8, link 16, group 20. */
  @ParameterizedTest(name = "{0} in the {1} segment")
  @CsvSource({
      "length-grows, last", "length-shrinks, last", "checksum, last", "index, last",
      "chain-link, last", "group-offset, last", "payload, last",
      "length-grows, earlier", "length-shrinks, earlier", "checksum, earlier", "index, earlier",
      "chain-link, earlier", "group-offset, earlier", "payload, earlier"})
  void aDamagedFieldOfARecord_stopsStartUp_namingFileAndOffset(String field, String where)
      throws Exception {
    try (FileCommandLog log = open(false, false, 1024)) {
      append(log, 1, 60);
    }
    List<Path> files = segments();
    assertThat(files).hasSizeGreaterThan(2);
    Path segment = where.equals("last") ? files.get(files.size() - 1) : files.get(0);
    List<Long> offsets = recordOffsets(segment, H);
    assertThat(offsets).as("a record with others after it").hasSizeGreaterThan(2);
    long bad = offsets.get(1);
    long size = Files.size(segment);
    switch (field) {
      case "length-grows" -> xorByteAt(segment, bad + 2, 0x10); // + 4 KiB
      case "length-shrinks" -> xorByteAt(segment, bad + 3, 0x04);
      case "checksum" -> xorByteAt(segment, bad + 5, 0x20);
      case "index" -> xorByteAt(segment, bad + 15, 0x01);
      case "chain-link" -> xorByteAt(segment, bad + 17, 0x01);
      case "group-offset" -> xorByteAt(segment, bad + 23, 0x01);
      case "payload" -> xorByteAt(segment, bad + H + 2, 0x01);
      default -> throw new AssertionError(field);
    }
    assertThatThrownBy(() -> open(false, false, 1024))
        .isInstanceOf(JournalCorruptException.class)
        .hasMessageContaining(segment.toString())
        .hasMessageContaining("offset " + bad);
    assertThat(Files.size(segment)).isEqualTo(size);
    assertThat(segments()).isEqualTo(files);
  }

  @Test
  void repairOfARecordInAnEarlierSegment_dropsItAndEveryLaterSegment_countingThem()
      throws Exception {
    try (FileCommandLog log = open(false, false, 1024)) {
      append(log, 1, 60);
    }
    List<Path> files = segments();
    Path segment = files.get(0);
    long bad = recordOffsets(segment, H).get(3); // record 4
    xorByteAt(segment, bad + H + 1, 0x01);
    try (FileCommandLog log = open(false, true, 1024)) {
      assertThat(replayed).isEqualTo(range(1, 3));
      assertThat(log.repairedRecords()).as("records 4..60").isEqualTo(57);
      assertThat(log.lastIndex()).isEqualTo(3);
    }
    assertThat(segments()).containsExactly(segment);
    assertThat(Files.size(segment)).isEqualTo(bad);
  }

  @Test
  void aDamagedSegmentHeader_stopsStartUp_andRepairCountsTheRecordsBehindIt() throws Exception {
    try (FileCommandLog log = open(false, false, 1024)) {
      append(log, 1, 60);
    }
    List<Path> files = segments();
    Path last = files.get(files.size() - 1);
    long first = JournalFormat.firstIndexOf(last.getFileName().toString());
    xorByteAt(last, 1, 0x01); // the magic
    assertThatThrownBy(() -> open(false, false, 1024))
        .isInstanceOf(JournalCorruptException.class)
        .hasMessageContaining(last.toString())
        .hasMessageContaining("offset 0")
        .hasMessageContaining("bad magic");
    try (FileCommandLog log = open(false, true, 1024)) {
      assertThat(replayed).isEqualTo(range(1, first - 1));
      assertThat(log.repairedRecords()).isEqualTo(60 - first + 1);
    }
  }

  @Test
  void aRecordReplacedByAnotherWithItsOwnValidChecksum_breaksTheChainOfTheNextOne()
      throws Exception {
    try (FileCommandLog log = open(false, false, 1 << 20)) {
      append(log, 1, 10);
    }
    Path segment = segments().get(0);
    List<Long> offsets = recordOffsets(segment, H);
    // Record 5 rewritten whole, self-consistent (same index, length and link, another payload):
    // only record 6's link to it can tell.
    byte[] other = payload(5).getBytes(StandardCharsets.UTF_8);
    other[0] = 'R';
    ByteBuffer replaced = ByteBuffer.allocate(H + other.length);
    int link;
    try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "r")) {
      f.seek(offsets.get(4) + 16);
      link = f.readInt();
    }
    JournalFormat.putRecord(replaced, 5, other, link, 0, new CRC32C());
    try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "rw")) {
      f.seek(offsets.get(4));
      f.write(replaced.array());
    }
    assertThatThrownBy(() -> open(false, false, 1 << 20))
        .isInstanceOf(JournalCorruptException.class)
        .hasMessageContaining("offset " + offsets.get(5))
        .hasMessageContaining("broken chain");
  }

  @Test
  void aMissingSegmentInTheMiddle_stopsStartUp() throws Exception {
    try (FileCommandLog log = open(false, false, 1024)) {
      append(log, 1, 60);
    }
    List<Path> files = segments();
    Files.delete(files.get(1));
    assertThatThrownBy(() -> open(false, false, 1024))
        .isInstanceOf(JournalCorruptException.class)
        .hasMessageContaining(files.get(2).toString())
        .hasMessageContaining("a segment is missing");
  }

  // ---- a torn tail still recovers, at every byte boundary of the last record -----------------

  @ParameterizedTest(name = "preallocated={0}")
  @ValueSource(booleans = {false, true})
  void aTornLastRecord_cutAtAnyByte_isTruncatedAndStartUpGoesOn(boolean preallocate)
      throws Exception {
    try (FileCommandLog log = open(preallocate, false, 1 << 20)) {
      append(log, 1, 20);
    }
    Path segment = segments().get(segments().size() - 1);
    List<Long> offsets = recordOffsets(segment, H);
    long lastStart = offsets.get(offsets.size() - 1);
    long lastEnd = lastStart + H + payload(20).length();
    Path pristine = dir.resolveSibling(dir.getFileName() + "-pristine");
    Files.copy(segment, pristine, StandardCopyOption.REPLACE_EXISTING);
    for (long cut = lastStart + 1; cut < lastEnd; cut++) {
      Files.copy(pristine, segment, StandardCopyOption.REPLACE_EXISTING);
      try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "rw")) {
        if (preallocate) {
          f.seek(cut); // the rest of the record never reached the disk: zeros
          f.write(new byte[(int) (lastEnd - cut)]);
        } else {
          f.setLength(cut);
        }
      }
      try (FileCommandLog log = open(preallocate, false, 1 << 20)) {
        assertThat(replayed).as("cut at %d", cut).isEqualTo(range(1, 19));
        assertThat(log.lastIndex()).isEqualTo(19);
        assertThat(log.repairedRecords()).isZero();
      }
      assertThat(Files.size(segment)).as("cut at %d", cut).isGreaterThanOrEqualTo(lastStart);
    }
    Files.delete(pristine);
    try (FileCommandLog log = open(preallocate, false, 1 << 20)) {
      append(log, 20, 21);
    }
    try (FileCommandLog log = open(preallocate, false, 1 << 20)) {
      assertThat(replayed).isEqualTo(range(1, 21));
    }
  }

  @Test
  void aTornGroup_whoseLaterRecordsReachedTheDisk_isCorruption_namingTheSameGroup()
      throws Exception {
    try (FileCommandLog log = open(false, false, 1 << 20)) {
      append(log, 1, 5);
      List<CompletableFuture<Void>> group = new ArrayList<>();
      synchronized (log) { // queued together: one group commit
        for (long i = 6; i <= 10; i++) {
          group.add(log.append(payload(i).getBytes(StandardCharsets.UTF_8)).durable());
        }
      }
      CompletableFuture.allOf(group.toArray(CompletableFuture[]::new)).join();
    }
    Path segment = segments().get(0);
    long seventh = recordOffsets(segment, H).get(6);
    xorByteAt(segment, seventh + H, 0x01); // record 7's payload: a sector lost in the crash
    assertThatThrownBy(() -> open(false, false, 1 << 20))
        .isInstanceOf(JournalCorruptException.class)
        .hasMessageContaining("offset " + seventh)
        .hasMessageContaining("same group commit");
  }

  // ---- format 1: read as it is, written in format 2 from then on -----------------------------

  /** Writes records from..to in format 1, as the server did before format 2. */
  private Path writeFormat1Segment(long from, long to) throws IOException {
    Path file = dir.resolve(JournalFormat.segmentName(from));
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.writeInt(JournalFormat.SEGMENT_MAGIC);
      f.writeInt(1);
      f.writeLong(from);
      CRC32C crc = new CRC32C();
      for (long i = from; i <= to; i++) {
        byte[] p = payload(i).getBytes(StandardCharsets.UTF_8);
        crc.reset();
        crc.update(ByteBuffer.allocate(8).putLong(i).flip());
        crc.update(p);
        f.writeInt(p.length);
        f.writeInt((int) crc.getValue());
        f.writeLong(i);
        f.write(p);
      }
    }
    return file;
  }

  @ParameterizedTest(name = "preallocated={0}")
  @ValueSource(booleans = {false, true})
  void aFormat1Journal_opens_andNewRecordsGoToAFormat2Segment(boolean preallocate)
      throws Exception {
    Files.createDirectories(dir);
    writeFormat1Segment(1, 30);
    writeFormat1Segment(31, 40);
    try (FileCommandLog log = open(preallocate, false, 1 << 20)) {
      assertThat(replayed).isEqualTo(range(1, 40));
      append(log, 41, 45);
      List<Long> followed = new ArrayList<>();
      try (CommandLog.Tail tail = log.tail(0)) {
        tail.readUpTo(45, (i, b) -> followed.add(i));
      }
      assertThat(followed).isEqualTo(range(1, 45));
    }
    List<Path> files = segments();
    assertThat(files).hasSizeGreaterThan(2);
    for (Path newer : files.subList(2, files.size())) {
      try (RandomAccessFile f = new RandomAccessFile(newer.toFile(), "r")) {
        f.seek(4);
        assertThat(f.readInt()).as("format of %s", newer).isEqualTo(JournalFormat.FORMAT);
      }
    }
    try (FileCommandLog log = open(preallocate, false, 1 << 20)) {
      assertThat(replayed).isEqualTo(range(1, 45));
    }
    assertThat(wrongPayloads).isEmpty();
  }

  @Test
  void aFormat1JournalWithACorruptedLength_stopsStartUp() throws Exception {
    Files.createDirectories(dir);
    Path segment = writeFormat1Segment(1, 30);
    long bad = recordOffsets(segment, JournalFormat.FORMAT_1_RECORD_HEADER_BYTES).get(14);
    xorByteAt(segment, bad + 1, 0x01);
    assertThatThrownBy(() -> open(false, false, 1 << 20))
        .isInstanceOf(JournalCorruptException.class)
        .hasMessageContaining(segment.toString())
        .hasMessageContaining("offset " + bad);
    try (FileCommandLog log = open(false, true, 1 << 20)) {
      assertThat(replayed).isEqualTo(range(1, 14));
      assertThat(log.repairedRecords()).isEqualTo(16);
    }
  }

  @Test
  void aSegmentOfAnUnknownFormat_stopsStartUp_sayingSo() throws Exception {
    try (FileCommandLog log = open(false, false, 1 << 20)) {
      append(log, 1, 3);
    }
    Path segment = segments().get(0);
    xorByteAt(segment, 7, 0x07); // format 2 -> 5
    assertThatThrownBy(() -> open(false, false, 1 << 20))
        .isInstanceOf(JournalCorruptException.class)
        .hasMessageContaining(segment.toString())
        .hasMessageContaining("format 5");
  }
}
