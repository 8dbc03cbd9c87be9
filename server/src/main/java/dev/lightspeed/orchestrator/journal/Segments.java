package dev.lightspeed.orchestrator.journal;

import dev.lightspeed.orchestrator.journal.CommandLog.RecordConsumer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The segment files of one journal directory: which there are, which of them are closed (no
 * longer written to), and reading records across them. It exists so that the three parts of
 * {@link FileCommandLog} that meet at the segment files share one list of them: opening ({@link
 * JournalRecovery}) finds the closed segments, the writer ({@link SegmentWriter}) adds one at each
 * roll, and compaction and readers take them away and read them.
 */
final class Segments {
  /** Logs under the journal's name, as docs/operations.md lists it. */
  private static final Logger log = LoggerFactory.getLogger(FileCommandLog.class);

  /** A closed segment: the file holding records {@code firstIndex..lastIndex}. */
  record Segment(Path path, long firstIndex, long lastIndex) {}

  private final Path dir;
  /** Closed segments, oldest first; guarded by {@code closed}. */
  private final List<Segment> closed = new ArrayList<>();

  Segments(Path dir) {
    this.dir = dir;
  }

  Path dir() {
    return dir;
  }

  /** The file of the segment whose first record is {@code firstIndex}. */
  Path pathOf(long firstIndex) {
    return dir.resolve(JournalFormat.segmentName(firstIndex));
  }

  /** Records that {@code segment} is closed: the writer moved on to the next one. */
  void addClosed(Segment segment) {
    synchronized (closed) {
      closed.add(segment);
    }
  }

  /** Number of closed segment files. */
  int closedCount() {
    synchronized (closed) {
      return closed.size();
    }
  }

  /** Deletes every closed segment whose records are all at or below {@code index}. */
  void compactUpTo(long index) throws IOException {
    List<Segment> drop = new ArrayList<>();
    synchronized (closed) {
      while (!closed.isEmpty() && closed.get(0).lastIndex() <= index) {
        drop.add(closed.remove(0));
      }
    }
    for (Segment s : drop) {
      Files.deleteIfExists(s.path());
      log.debug("journal: deleted {} (records {}..{} are in a snapshot)",
          s.path().getFileName(), s.firstIndex(), s.lastIndex());
    }
  }

  /** The segment files in the directory now, oldest first. */
  List<Path> files() throws IOException {
    try (Stream<Path> list = Files.list(dir)) {
      return list.filter(p -> JournalFormat.isSegmentName(p.getFileName().toString()))
          .sorted()
          .toList();
    }
  }

  /** The index of the first record of {@code segment}, from its name. */
  static long firstIndexOf(Path segment) {
    return JournalFormat.firstIndexOf(segment.getFileName().toString());
  }

  /**
   * The index of the first record of the first segment in journal directory {@code dir}, from
   * the file names; 0 if there is none.
   */
  static long firstSegmentIndex(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    try (Stream<Path> list = Files.list(dir)) {
      return list.map(p -> p.getFileName().toString())
          .filter(JournalFormat::isSegmentName)
          .sorted()
          .findFirst()
          .map(JournalFormat::firstIndexOf)
          .orElse(0L);
    }
  }

  /**
   * Hands records ({@code afterIndex}, {@code upToIndex}] to {@code consumer}, from the segment
   * files listed now; {@link FileCommandLog#read} says why this is safe while the writer appends.
   */
  void read(long afterIndex, long upToIndex, RecordConsumer consumer) throws IOException {
    long next = afterIndex + 1;
    List<Path> files = files();
    for (int i = 0; i < files.size() && next <= upToIndex; i++) {
      Path file = files.get(i);
      long first = firstIndexOf(file);
      long following = i + 1 < files.size() ? firstIndexOf(files.get(i + 1)) : Long.MAX_VALUE;
      if (following <= next) {
        continue; // every record of this segment is at or below afterIndex
      }
      if (first > next) {
        throw new JournalCorruptException(file, 0,
            "segment starts at index " + first + " but record " + next + " was wanted; the"
                + " segment holding it is missing");
      }
      long wanted = Math.min(upToIndex, following - 1);
      SegmentReader.Scan scan =
          SegmentReader.scan(file, next - 1, wanted, consumer, SegmentReader.UNKNOWN_CHAIN);
      if (scan.lastIndex() < wanted) {
        throw new JournalCorruptException(file, scan.validBytes(),
            "record " + (scan.lastIndex() + 1) + " was wanted: "
                + (scan.problem() == null ? "the segment ends before it" : scan.problem()));
      }
      next = wanted + 1;
    }
    if (next <= upToIndex) {
      throw new IOException("journal " + dir + " ends before record " + next + " (wanted up to "
          + upToIndex + ")");
    }
  }
}
