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
