package dev.lightspeed.orchestrator.journal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Starting the next segment fails (issue 15: idle connections had taken every file descriptor,
 * and the roll's open failed with "Too many open files"): the journal writes on in the current
 * segment, tries again after each later group, and rolls once it can, without a restart and
 * without refusing a write.
 */
class SegmentRollFailureTest {
  private static final long SEGMENT_BYTES = 1024;

  @TempDir Path dir;

  private final List<String> replayed = new ArrayList<>();

  private FileCommandLog open(boolean preallocate) throws IOException {
    replayed.clear();
    return FileCommandLog.open(dir, FsyncMode.ALWAYS, SEGMENT_BYTES, preallocate, false, 0,
        (index, bytes) -> replayed.add(new String(bytes, StandardCharsets.UTF_8)));
  }

  /** Fails the first {@code failures} segment creations as a process out of descriptors does. */
  private static FileCommandLog.SegmentOpener failing(int failures, AtomicInteger attempts) {
    return file -> {
      if (attempts.incrementAndGet() <= failures) {
        throw new FileSystemException(file.toString(), null, "Too many open files");
      }
      return FileChannel.open(file, java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE);
    };
  }

  /** One record per group: each append waits for its fsync before the next is made. */
  private static List<String> appendOneByOne(FileCommandLog log, String prefix, int count)
      throws Exception {
    List<String> written = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String record = prefix + "-" + i + "-" + "x".repeat(80);
      log.append(record.getBytes(StandardCharsets.UTF_8)).durable().get(10, TimeUnit.SECONDS);
      written.add(record);
    }
    return written;
  }

  private List<Path> segments() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> JournalFormat.isSegmentName(p.getFileName().toString())).sorted()
          .toList();
    }
  }

  @Test
  void aFailedRoll_writesOnInTheCurrentSegment_andRollsOnceASegmentCanBeOpened()
      throws Exception {
    AtomicInteger attempts = new AtomicInteger();
    AtomicBoolean outOfDescriptors = new AtomicBoolean(true);
    List<String> written = new ArrayList<>();
    try (FileCommandLog log = open(false)) {
      log.openSegmentsWith(file -> {
        attempts.incrementAndGet();
        if (outOfDescriptors.get()) {
          throw new FileSystemException(file.toString(), null, "Too many open files");
        }
        return FileChannel.open(file, java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE);
      });
      // ~110 bytes a record: the segment is full after about 9, and each later group tries to
      // roll (after its reply, so the last try may still be under way here).
      written.addAll(appendOneByOne(log, "during", 14));
      assertThat(attempts.get()).as("a roll is tried after each group once the segment is full")
          .isGreaterThanOrEqualTo(3);
      assertThat(log.closedSegmentCount()).isZero();
      assertThat(Files.size(segments().get(0))).as("the segment grew past its size")
          .isGreaterThan(SEGMENT_BYTES);

      outOfDescriptors.set(false);
      written.addAll(appendOneByOne(log, "after", 30));
      assertThat(log.closedSegmentCount()).as("rolls resumed without a restart")
          .isGreaterThanOrEqualTo(2);
    }
    try (FileCommandLog log = open(false)) {
      assertThat(replayed).containsExactlyElementsOf(written);
      assertThat(log.lastIndex()).isEqualTo(written.size());
    }
  }

  @Test
  void aNewFileThatCannotBeCompleted_isDeleted_soRecoveryNeverMeetsAHalfMadeSegment()
      throws Exception {
    AtomicInteger attempts = new AtomicInteger();
    List<String> written = new ArrayList<>();
    try (FileCommandLog log = open(false)) {
      // The file is created, but writing its header fails, as on a full disk.
      log.openSegmentsWith(file -> {
        FileChannel created = FileChannel.open(file, java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE);
        attempts.incrementAndGet();
        created.close(); // writing to a closed channel fails
        return created;
      });
      written.addAll(appendOneByOne(log, "during", 14));
    } // closing waits for the writer, so no attempt is under way below
    assertThat(attempts.get()).isGreaterThanOrEqualTo(3);
    assertThat(segments()).as("no half-made segment is left").hasSize(1);
    try (FileCommandLog log = open(false)) {
      assertThat(replayed).containsExactlyElementsOf(written);
      written.addAll(appendOneByOne(log, "after", 12));
      assertThat(log.closedSegmentCount()).as("a restart needs no repair, and rolls go on")
          .isGreaterThanOrEqualTo(1);
    }
    try (FileCommandLog log = open(false)) {
      assertThat(replayed).containsExactlyElementsOf(written);
    }
  }

  @Test
  void withPreallocation_theNextSegmentAndTheDirectoryAreHeldOpen_andRollsNeedNoNewFile()
      throws Exception {
    AtomicInteger attempts = new AtomicInteger();
    List<String> written = new ArrayList<>();
    try (FileCommandLog log = open(true)) {
      log.openSegmentsWith(failing(Integer.MAX_VALUE, attempts));
      awaitSpare(log);
      List<Path> held = openFiles();
      assertThat(held).as("descriptors the journal holds before it needs them")
          .contains(dir.resolve(SegmentPreallocator.SPARE_NAME).toRealPath(), dir.toRealPath());
      for (int roll = 1; roll <= 3; roll++) {
        awaitSpare(log);
        int before = log.closedSegmentCount();
        // fills the segment, then a group rolls it into the spare; bounded in count
        for (int i = 0; i < 200 && log.closedSegmentCount() == before; i++) {
          written.addAll(appendOneByOne(log, "roll" + roll + "-" + i, 1));
        }
        assertThat(log.closedSegmentCount()).isGreaterThan(before);
      }
    }
    try (FileCommandLog log = open(true)) {
      assertThat(replayed).containsExactlyElementsOf(written);
    }
  }

  /** The files this process has open (Linux: /proc/self/fd). */
  private static List<Path> openFiles() throws IOException {
    List<Path> out = new ArrayList<>();
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      for (Path fd : fds.toList()) {
        try {
          out.add(Files.readSymbolicLink(fd));
        } catch (IOException closedMeanwhile) {
          // the descriptor of the listing itself, or one closed since
        }
      }
    }
    return out;
  }

  private static void awaitSpare(FileCommandLog log) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!log.spareReady()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("no spare segment prepared within 20 s");
      }
      Thread.sleep(5);
    }
  }
}
