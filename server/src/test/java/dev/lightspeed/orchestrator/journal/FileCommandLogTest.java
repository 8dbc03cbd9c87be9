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
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileCommandLogTest {
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
    long secondRecordOffset = 16 + 16 + "first".length();
    corruptByteAt(segment, secondRecordOffset + 16); // a payload byte of "second"
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
    long secondRecordOffset = 16 + 16 + "first".length();
    corruptByteAt(segment, secondRecordOffset + 16);
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
              last.join(); // let groups of various sizes form
            }
          }
          last.join();
        } catch (Throwable e) {
          failures.add(e);
        }
      });
      appender.start();
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

  private static byte[] payload(long index) {
    return ("payload of record " + index + "-".repeat((int) (index % 17)))
        .getBytes(StandardCharsets.UTF_8);
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
