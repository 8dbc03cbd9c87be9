package dev.lightspeed.orchestrator.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FileCommandLogTest {
  private static final int SEG = JournalFormat.SEGMENT_HEADER_BYTES;
  private static final int H = JournalFormat.RECORD_HEADER_BYTES;

  @TempDir Path dir;

  private final List<String> replayed = new ArrayList<>();

  private FileCommandLog open(boolean repair, long segmentBytes) throws IOException {
    replayed.clear();
    return FileCommandLog.open(dir, FsyncMode.ALWAYS, segmentBytes, repair, 0,
        (index, bytes) -> replayed.add(index + ":" + new String(bytes, StandardCharsets.UTF_8)));
  }

  private FileCommandLog open() throws IOException {
    return open(false, FileCommandLog.DEFAULT_SEGMENT_BYTES);
  }

  private static void appendAll(CommandLog log, String... commands) {
    List<CompletableFuture<Void>> durable = new ArrayList<>();
    for (String c : commands) {
      durable.add(log.append(c.getBytes(StandardCharsets.UTF_8)).durable());
    }
    CompletableFuture.allOf(durable.toArray(CompletableFuture[]::new)).join();
  }

  private Path onlySegment() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.toString().endsWith(".log")).sorted().findFirst().orElseThrow();
    }
  }

  @Test
  void append_assignsConsecutiveIndexes_andReopenReplaysThemInOrder() throws IOException {
    try (FileCommandLog log = open()) {
      assertThat(log.append("a".getBytes(StandardCharsets.UTF_8)).index()).isEqualTo(1);
      assertThat(log.append("b".getBytes(StandardCharsets.UTF_8)).index()).isEqualTo(2);
      appendAll(log, "c");
      assertThat(log.lastIndex()).isEqualTo(3);
    }
    try (FileCommandLog log = open()) {
      assertThat(replayed).containsExactly("1:a", "2:b", "3:c");
      assertThat(log.lastIndex()).isEqualTo(3);
      appendAll(log, "d");
    }
    try (FileCommandLog log = open()) {
      assertThat(replayed).containsExactly("1:a", "2:b", "3:c", "4:d");
    }
  }

  @Test
  void open_replaysOnlyRecordsAfterTheGivenIndex() throws IOException {
    try (FileCommandLog log = open()) {
      appendAll(log, "a", "b", "c");
    }
    List<Long> seen = new ArrayList<>();
    try (FileCommandLog log = FileCommandLog.open(dir, FsyncMode.ALWAYS,
        FileCommandLog.DEFAULT_SEGMENT_BYTES, false, 2, (i, b) -> seen.add(i))) {
      assertThat(seen).containsExactly(3L);
    }
  }

  @Test
  void tornTail_isTruncated_andTheLogGoesOn() throws IOException {
    try (FileCommandLog log = open()) {
      appendAll(log, "first", "second");
    }
    Path segment = onlySegment();
    long intact = Files.size(segment);
    // A crash in the middle of writing a third record: a header promising 100 bytes, 3 present.
    try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "rw")) {
      f.seek(intact);
      f.writeInt(100);
      f.writeInt(0xCAFE);
      f.writeLong(3);
      f.write(new byte[] {1, 2, 3});
    }
    try (FileCommandLog log = open()) {
      assertThat(replayed).containsExactly("1:first", "2:second");
      assertThat(Files.size(segment)).isEqualTo(intact);
      appendAll(log, "third");
    }
    try (FileCommandLog log = open()) {
      assertThat(replayed).containsExactly("1:first", "2:second", "3:third");
    }
  }

  @Test
  void badChecksumOnTheLastRecord_isATornWrite() throws IOException {
    try (FileCommandLog log = open()) {
      appendAll(log, "first", "second");
    }
    Path segment = onlySegment();
    flipLastByte(segment);
    try (FileCommandLog log = open()) {
      assertThat(replayed).containsExactly("1:first");
      assertThat(log.lastIndex()).isEqualTo(1);
    }
  }

  @Test
  void corruptMiddleRecord_stopsStartUp_namingFileAndOffset() throws IOException {
    try (FileCommandLog log = open()) {
      appendAll(log, "first", "second", "third");
    }
    Path segment = onlySegment();
    long secondRecordOffset = SEG + H + "first".length();
    corruptByteAt(segment, secondRecordOffset + H); // a payload byte of "second"
    assertThatThrownBy(this::open)
        .isInstanceOf(JournalCorruptException.class)
        .hasMessageContaining(segment.toString())
        .hasMessageContaining("offset " + secondRecordOffset)
        .hasMessageContaining("--repair");
    assertThat(Files.size(segment)).as("nothing is changed without --repair").isGreaterThan(secondRecordOffset + 20);
  }

  @Test
  void repair_truncatesAtTheCorruptRecord_droppingItAndLaterOnes() throws IOException {
    try (FileCommandLog log = open()) {
      appendAll(log, "first", "second", "third");
    }
    Path segment = onlySegment();
    long secondRecordOffset = SEG + H + "first".length();
    corruptByteAt(segment, secondRecordOffset + H);
    try (FileCommandLog log = open(true, FileCommandLog.DEFAULT_SEGMENT_BYTES)) {
      assertThat(replayed).containsExactly("1:first");
      assertThat(log.lastIndex()).isEqualTo(1);
      appendAll(log, "again");
    }
    try (FileCommandLog log = open()) {
      assertThat(replayed).containsExactly("1:first", "2:again");
    }
  }

  @Test
  void segmentsRoll_andCompactionDeletesOnlyCoveredClosedSegments() throws IOException {
    try (FileCommandLog log = open(false, 200)) {
      for (int i = 0; i < 30; i++) {
        appendAll(log, "record-" + i + "-with-some-padding");
      }
      assertThat(log.closedSegmentCount()).isGreaterThan(3);
      int before = segmentCount();
      log.compactUpTo(15);
      assertThat(segmentCount()).isLessThan(before);
      log.compactUpTo(30);
      assertThat(segmentCount()).as("the active segment stays").isGreaterThanOrEqualTo(1);
    }
    try (FileCommandLog log = FileCommandLog.open(dir, FsyncMode.ALWAYS, 200, false, 30,
        (i, b) -> replayed.add("unexpected " + i))) {
      assertThat(log.lastIndex()).isEqualTo(30);
      assertThat(replayed).isEmpty();
    }
  }

  @Test
  void concurrentAppends_allBecomeDurable_withDistinctIndexes() throws Exception {
    List<Long> indexes = java.util.Collections.synchronizedList(new ArrayList<>());
    try (FileCommandLog log = open()) {
      Thread[] threads = new Thread[4];
      for (int t = 0; t < threads.length; t++) {
        int id = t;
        threads[t] = new Thread(() -> {
          for (int i = 0; i < 250; i++) {
            CommandLog.Appended a = log.append(("t" + id + "-" + i).getBytes(StandardCharsets.UTF_8));
            a.durable().join();
            indexes.add(a.index());
          }
        });
        threads[t].start();
      }
      for (Thread t : threads) {
        t.join();
      }
    }
    assertThat(indexes).hasSize(1000).doesNotHaveDuplicates();
    try (FileCommandLog log = open()) {
      assertThat(replayed).hasSize(1000);
    }
  }

  @Test
  void read_whileAppendsGoOnAndSegmentsRoll_returnsEveryWrittenRecordIntact() throws Exception {
    // The snapshotter's use: read (floor, durableIndex] of the open journal, compact up to it,
    // repeat, while one thread appends without pause into 300-byte segments.
    int total = 10_000;
    List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    try (FileCommandLog log = open(false, 300)) {
      Thread appender = startAppender(log, total, failures);
      long floor = 0;
      int reads = 0;
      int readsWhileAppending = 0;
      java.util.Set<String> segmentsSeen = new java.util.HashSet<>();
      while (floor < total) {
        boolean appending = appender.isAlive();
        long upTo = log.durableIndex();
        if (upTo == floor) {
          Thread.onSpinWait();
          continue;
        }
        long[] next = {floor + 1};
        log.read(floor, upTo, (index, bytes) -> {
          assertThat(index).isEqualTo(next[0]);
          assertThat(bytes).isEqualTo(payload(index));
          next[0]++;
        });
        assertThat(next[0]).as("read every record up to %d", upTo).isEqualTo(upTo + 1);
        try (Stream<Path> files = Files.list(dir)) {
          files.forEach(f -> segmentsSeen.add(f.getFileName().toString()));
        }
        log.compactUpTo(upTo);
        floor = upTo;
        reads++;
        if (appending) {
          readsWhileAppending++;
        }
      }
      appender.join();
      assertThat(failures).isEmpty();
      assertThat(readsWhileAppending).as("reads overlapped the appends").isGreaterThan(2);
      assertThat(reads).isGreaterThan(2);
      assertThat(segmentsSeen).as("segments rolled while being read").hasSizeGreaterThan(20);
      assertThat(log.closedSegmentCount()).as("compaction kept up").isLessThanOrEqualTo(1);
      assertThatThrownBy(() -> log.read(total, total + 1, (i, b) -> {}))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void read_ofCompactedRecords_failsNamingTheMissingRecord() throws IOException {
    try (FileCommandLog log = open(false, 200)) {
      for (int i = 0; i < 30; i++) {
        appendAll(log, "record-" + i + "-with-some-padding");
      }
      log.compactUpTo(15);
      assertThatThrownBy(() -> log.read(0, 20, (i, b) -> {}))
          .isInstanceOf(JournalCorruptException.class)
          .hasMessageContaining("record 1 was wanted");
      List<Long> seen = new ArrayList<>();
      log.read(20, 30, (i, b) -> seen.add(i));
      assertThat(seen).containsExactly(21L, 22L, 23L, 24L, 25L, 26L, 27L, 28L, 29L, 30L);
    }
  }

  // ---- following the journal (CommandLog.Tail) -----------------------------------------------

  @ParameterizedTest(name = "preallocated = {0}")
  @ValueSource(booleans = {false, true})
  void tail_whileAppendsGoOnAndSegmentsRoll_handsOutEveryRecordOnceInOrder(boolean preallocate)
      throws Exception {
    // The snapshotter's use when it follows the journal: read up to durableIndex, again and
    // again, while one thread appends without pause into small segments, and compact behind.
    int total = 10_000;
    List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    try (FileCommandLog log = FileCommandLog.open(dir, FsyncMode.NEVER, 600, preallocate, false,
            0, (i, b) -> {});
        CommandLog.Tail tail = log.tail(0)) {
      Thread appender = startAppender(log, total, failures);
      long[] next = {1};
      int reads = 0;
      java.util.Set<String> segmentsSeen = new java.util.HashSet<>();
      while (tail.lastRead() < total) {
        long upTo = log.durableIndex();
        tail.readUpTo(upTo, (index, bytes) -> {
          assertThat(index).isEqualTo(next[0]);
          assertThat(bytes).isEqualTo(payload(index));
          next[0]++;
        });
        assertThat(tail.lastRead()).isEqualTo(upTo);
        assertThat(next[0]).isEqualTo(upTo + 1);
        try (Stream<Path> files = Files.list(dir)) {
          files.forEach(f -> segmentsSeen.add(f.getFileName().toString()));
        }
        if (reads++ % 3 == 0) {
          log.compactUpTo(upTo);
        }
      }
      appender.join();
      assertThat(failures).isEmpty();
      assertThat(reads).isGreaterThan(2);
      assertThat(segmentsSeen).as("segments rolled while being read").hasSizeGreaterThan(20);
      assertThatThrownBy(() -> tail.readUpTo(total + 1, (i, b) -> {}))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void tail_fromTheMiddle_startsAfterItsIndex_andReadsNothingTwice() throws IOException {
    try (FileCommandLog log = open(false, 200)) {
      for (int i = 1; i <= 30; i++) {
        appendAll(log, "record-" + i + "-with-some-padding");
      }
      assertThat(log.closedSegmentCount()).isGreaterThan(3);
      List<Long> seen = new ArrayList<>();
      try (CommandLog.Tail tail = log.tail(17)) {
        tail.readUpTo(17, (i, b) -> seen.add(i));
        assertThat(seen).isEmpty();
        tail.readUpTo(20, (i, b) -> seen.add(i));
        tail.readUpTo(20, (i, b) -> seen.add(i));
        appendAll(log, "record-31");
        tail.readUpTo(31, (i, b) -> seen.add(i));
      }
      assertThat(seen).containsExactly(18L, 19L, 20L, 21L, 22L, 23L, 24L, 25L, 26L, 27L, 28L,
          29L, 30L, 31L);
    }
  }

  @Test
  void tail_ofRecordsLargerThanItsBuffer_readsThemWhole() throws IOException {
    byte[] large = new byte[1 << 20]; // the tail reads 256 KiB at a time
    for (int i = 0; i < large.length; i++) {
      large[i] = (byte) (i * 31);
    }
    try (FileCommandLog log = open(false, 4 << 20)) {
      List<byte[]> seen = new ArrayList<>();
      try (CommandLog.Tail tail = log.tail(0)) {
        appendAll(log, "small");
        log.append(large).durable().join();
        appendAll(log, "after");
        tail.readUpTo(3, (i, b) -> seen.add(b));
        log.append(large).durable().join();
        tail.readUpTo(4, (i, b) -> seen.add(b));
      }
      assertThat(seen).hasSize(4);
      assertThat(new String(seen.get(0), StandardCharsets.UTF_8)).isEqualTo("small");
      assertThat(seen.get(1)).isEqualTo(large);
      assertThat(new String(seen.get(2), StandardCharsets.UTF_8)).isEqualTo("after");
      assertThat(seen.get(3)).isEqualTo(large);
    }
  }

  @Test
  void tail_ofACorruptRecord_failsNamingIt_andIsUnusableAfter() throws IOException {
    try (FileCommandLog log = open(false, 200)) {
      for (int i = 1; i <= 12; i++) {
        appendAll(log, "record-" + i + "-with-some-padding");
      }
      // the first record of the second segment
      Path second;
      try (Stream<Path> files = Files.list(dir)) {
        second = files.filter(p -> p.toString().endsWith(".log")).sorted().skip(1).findFirst()
            .orElseThrow();
      }
      long firstOfSecond = JournalFormat.firstIndexOf(second.getFileName().toString());
      corruptByteAt(second, JournalFormat.SEGMENT_HEADER_BYTES + JournalFormat.RECORD_HEADER_BYTES);
      List<Long> seen = new ArrayList<>();
      CommandLog.Tail tail = log.tail(0);
      assertThatThrownBy(() -> tail.readUpTo(12, (i, b) -> seen.add(i)))
          .isInstanceOf(JournalCorruptException.class)
          .hasMessageContaining(second.getFileName().toString())
          .hasMessageContaining("checksum mismatch in record " + firstOfSecond);
      assertThat(seen).hasSize((int) firstOfSecond - 1);
      assertThatThrownBy(() -> tail.readUpTo(12, (i, b) -> {}))
          .isInstanceOf(IllegalStateException.class);
      tail.close();
    }
  }

  @Test
  void tail_ofCompactedRecords_failsSayingSo() throws IOException {
    try (FileCommandLog log = open(false, 200)) {
      for (int i = 1; i <= 30; i++) {
        appendAll(log, "record-" + i + "-with-some-padding");
      }
      log.compactUpTo(15);
      try (CommandLog.Tail tail = log.tail(0)) {
        assertThatThrownBy(() -> tail.readUpTo(30, (i, b) -> {}))
            .isInstanceOf(IOException.class)
            .hasMessageContaining("no segment holding record 1");
      }
    }
  }

  /**
   * Appends {@code payload(1..total)} on a thread of its own, checking each index, waiting for
   * durability every 64 records so that groups of various sizes form; failures go to {@code
   * failures}.
   */
  private static Thread startAppender(CommandLog log, int total, List<Throwable> failures) {
    Thread appender = new Thread(() -> {
      try {
        CompletableFuture<Void> last = null;
        for (int i = 1; i <= total; i++) {
          CommandLog.Appended a = log.append(payload(i));
          if (a.index() != i) {
            throw new AssertionError("index " + a.index() + " for append " + i);
          }
          last = a.durable();
          if (i % 64 == 0) {
            last.join();
          }
        }
        last.join();
      } catch (Throwable e) {
        failures.add(e);
      }
    });
    appender.start();
    return appender;
  }

  private static byte[] payload(long index) {
    return ("payload of record " + index + "-".repeat((int) (index % 17)))
        .getBytes(StandardCharsets.UTF_8);
  }

  // ---- preallocated segments -----------------------------------------------------------------

  private FileCommandLog openPreallocated(long segmentBytes) throws IOException {
    replayed.clear();
    return FileCommandLog.open(dir, FsyncMode.ALWAYS, segmentBytes, true, false, 0,
        (index, bytes) -> replayed.add(index + ":" + new String(bytes, StandardCharsets.UTF_8)));
  }

  private static void awaitSpare(FileCommandLog log) throws InterruptedException {
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (!log.spareReady()) {
      assertThat(System.nanoTime()).as("a spare segment within 20 s").isLessThan(deadline);
      Thread.sleep(5);
    }
  }

  private Path segment(long firstIndex) {
    return dir.resolve(JournalFormat.segmentName(firstIndex));
  }

  /** Records "a", "b" in a plain first segment, then "c" in a preallocated one from index 3. */
  private FileCommandLog threeRecordsLastOnePreallocated() throws Exception {
    try (FileCommandLog log = open()) {
      appendAll(log, "a", "b");
    }
    FileCommandLog log = openPreallocated(4096);
    awaitSpare(log);
    appendAll(log, "c"); // the plain segment is closed before this group: a spare is ready
    return log;
  }

  @Test
  void preallocation_closesThePlainFirstSegment_andWritesIntoAZeroFilledOne() throws Exception {
    try (FileCommandLog log = threeRecordsLastOnePreallocated()) {
      assertThat(Files.size(segment(1))).as("cut to its two records").isEqualTo(SEG + 2 * (H + 1));
      assertThat(Files.size(segment(3))).as("the spare's full size").isEqualTo(4096);
      awaitSpare(log);
      assertThat(dir.resolve(SegmentPreallocator.SPARE_NAME)).hasSize(4096);
    }
    assertThat(dir.resolve(SegmentPreallocator.SPARE_NAME)).as("deleted at close").doesNotExist();
    try (FileCommandLog log = openPreallocated(4096)) {
      assertThat(replayed).containsExactly("1:a", "2:b", "3:c");
      assertThat(Files.size(segment(3))).as("its zeros are kept to be filled").isEqualTo(4096);
      awaitSpare(log);
      appendAll(log, "d");
      assertThat(segmentCount()).as("d went into the recovered preallocated segment").isEqualTo(2);
      assertThat(Files.size(segment(3))).isEqualTo(4096);
    }
    try (FileCommandLog log = open()) {
      assertThat(replayed).as("a journal without preallocation reads it too")
          .containsExactly("1:a", "2:b", "3:c", "4:d");
      appendAll(log, "e");
    }
    try (FileCommandLog log = open()) {
      assertThat(replayed).containsExactly("1:a", "2:b", "3:c", "4:d", "5:e");
    }
  }

  @Test
  void aNewJournalsEmptyFirstSegment_isReplacedByTheSpare() throws Exception {
    try (FileCommandLog log = openPreallocated(4096)) {
      awaitSpare(log);
      appendAll(log, "a");
      assertThat(segmentCount()).isEqualTo(1);
      assertThat(Files.size(segment(1))).isEqualTo(4096);
    }
    try (FileCommandLog log = openPreallocated(4096)) {
      assertThat(replayed).containsExactly("1:a");
    }
  }

  @Test
  void preallocatedSegments_areCutToTheirRecordsWhenTheyRoll() throws Exception {
    List<String> expected = new ArrayList<>();
    int next = 0;
    // First with large preallocated segments, then with smaller ones: the recovered segment's
    // zeros reach beyond where it now rolls.
    for (long segmentBytes : new long[] {4096, 300}) {
      try (FileCommandLog log = openPreallocated(segmentBytes)) {
        for (int i = 0; i < 30; i++, next++) {
          if (i % 7 == 0) {
            awaitSpare(log);
          }
          String record = "record-" + next + "-with-some-padding";
          appendAll(log, record);
          expected.add((next + 1) + ":" + record);
        }
      }
    }
    List<Path> segments;
    try (Stream<Path> s = Files.list(dir)) {
      segments = s.filter(p -> p.toString().endsWith(".log")).sorted().toList();
    }
    assertThat(segments.size()).isGreaterThan(3);
    for (Path closed : segments.subList(0, segments.size() - 1)) {
      SegmentReader.Scan scan = SegmentReader.scan(closed, 0, (i, b) -> { });
      assertThat(scan.validBytes()).as(closed + " has no zeros after its records")
          .isEqualTo(Files.size(closed));
    }
    try (FileCommandLog log = openPreallocated(300)) {
      assertThat(replayed).isEqualTo(expected);
    }
  }

  @Test
  void tornRecordInAPreallocatedSegment_isTruncated_andTheLogGoesOn() throws Exception {
    try (FileCommandLog log = threeRecordsLastOnePreallocated()) {
      appendAll(log, "d");
    }
    long intact = SEG + 2 * (H + 1); // "c" and "d"
    try (RandomAccessFile f = new RandomAccessFile(segment(3).toFile(), "rw")) {
      f.seek(intact); // a crash while writing "e": its header, 3 of its 100 bytes, then zeros
      f.writeInt(100);
      f.writeInt(0xCAFE);
      f.writeLong(5);
      f.write(new byte[] {1, 2, 3});
    }
    try (FileCommandLog log = openPreallocated(4096)) {
      assertThat(replayed).containsExactly("1:a", "2:b", "3:c", "4:d");
      assertThat(Files.size(segment(3))).isEqualTo(intact);
      appendAll(log, "e");
    }
    try (FileCommandLog log = open()) {
      assertThat(replayed).containsExactly("1:a", "2:b", "3:c", "4:d", "5:e");
    }
  }

  @Test
  void junkAfterTheZerosOfAPreallocatedSegment_isATornWrite_andTruncated() throws Exception {
    try (FileCommandLog log = threeRecordsLastOnePreallocated()) {
      // closing leaves "c" followed by zeros
    }
    long end = SEG + H + 1;
    // a page of a lost group written while an earlier one was not: no valid record in it
    corruptByteAt(segment(3), end + 100);
    try (FileCommandLog log = openPreallocated(4096)) {
      assertThat(replayed).containsExactly("1:a", "2:b", "3:c");
      assertThat(Files.size(segment(3))).isEqualTo(end);
    }
  }

  @Test
  void aValidRecordAfterTheZerosOfAPreallocatedSegment_isCorruption() throws Exception {
    try (FileCommandLog log = threeRecordsLastOnePreallocated()) {
      appendAll(log, "d");
    }
    long end = SEG + 2 * (H + 1);
    // "c" and "d", then zeros: zero the header of "c", as if its sector had been lost
    try (RandomAccessFile f = new RandomAccessFile(segment(3).toFile(), "rw")) {
      f.seek(SEG);
      f.write(new byte[H]);
    }
    assertThatThrownBy(() -> openPreallocated(4096))
        .isInstanceOf(JournalCorruptException.class)
        .hasMessageContaining(segment(3).toString())
        .hasMessageContaining("offset " + SEG)
        .hasMessageContaining("zeros with data after it")
        .hasMessageContaining("a valid record (index 4) follows at offset " + (SEG + H + 1));
    assertThat(Files.size(segment(3))).as("nothing changed").isGreaterThan(end);
  }

  @Test
  void aLeftoverSpare_isDeletedAtStart_andNeverReadAsASegment() throws Exception {
    Files.createDirectories(dir);
    Files.write(dir.resolve(SegmentPreallocator.SPARE_NAME), new byte[] {1, 2, 3});
    try (FileCommandLog log = open()) {
      appendAll(log, "a");
    }
    assertThat(dir.resolve(SegmentPreallocator.SPARE_NAME)).doesNotExist();
    Files.write(dir.resolve(SegmentPreallocator.SPARE_NAME), new byte[] {1, 2, 3});
    try (FileCommandLog log = openPreallocated(4096)) {
      assertThat(replayed).containsExactly("1:a");
      awaitSpare(log);
      assertThat(dir.resolve(SegmentPreallocator.SPARE_NAME)).hasSize(4096);
      appendAll(log, "b");
    }
    try (FileCommandLog log = open()) {
      assertThat(replayed).containsExactly("1:a", "2:b");
    }
  }

  @Test
  void durabilityFutures_completeOnTheWriterThread_inIndexOrder() throws Exception {
    List<Long> onWriter = java.util.Collections.synchronizedList(new ArrayList<>());
    List<String> elsewhere = java.util.Collections.synchronizedList(new ArrayList<>());
    String testThread = Thread.currentThread().getName();
    List<CompletableFuture<Void>> all = new ArrayList<>();
    try (FileCommandLog log = open()) {
      for (int i = 0; i < 200; i++) {
        CommandLog.Appended appended = log.append(("r" + i).getBytes(StandardCharsets.UTF_8));
        // a future that is durable already runs its callback here, on the test's thread
        all.add(appended.durable().thenRun(() -> {
          String thread = Thread.currentThread().getName();
          if (thread.equals("journal-writer")) {
            onWriter.add(appended.index());
          } else if (!thread.equals(testThread)) {
            elsewhere.add(thread);
          }
        }));
      }
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
    }
    assertThat(elsewhere).isEmpty();
    assertThat(onWriter).isNotEmpty().isSorted();
  }

  private int segmentCount() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return (int) s.filter(p -> p.toString().endsWith(".log")).count();
    }
  }

  private static void flipLastByte(Path file) throws IOException {
    corruptByteAt(file, Files.size(file) - 1);
  }

  private static void corruptByteAt(Path file, long offset) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.seek(offset);
      int b = f.read();
      f.seek(offset);
      f.write(b ^ 0xFF);
    }
  }
}
