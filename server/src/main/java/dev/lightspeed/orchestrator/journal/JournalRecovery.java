package dev.lightspeed.orchestrator.journal;

import dev.lightspeed.orchestrator.journal.CommandLog.RecordConsumer;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opening a journal directory: checks every record of every segment, replays those after the
 * snapshot, truncates a torn tail, and throws on corruption (or, under {@code --repair}, truncates
 * the journal there). It exists apart from {@link FileCommandLog} because it runs once, before the
 * writer starts, and decides what a bad record is ({@link SegmentReader} only finds it); its
 * result says where the writer goes on.
 */
final class JournalRecovery {
  /** Logs under the journal's name, as docs/operations.md lists it. */
  private static final Logger log = LoggerFactory.getLogger(FileCommandLog.class);

  /**
   * What opening found: the last record and its checksum (the next record's chain link), the
   * records --repair dropped, and the segment to go on writing in ({@code resume}, with its
   * records ending at {@code resumeBytes}, followed by zeros if {@code resumePreallocated}), or
   * null if the writer starts a new segment at {@code lastIndex + 1}.
   */
  record Recovered(long lastIndex, int lastCrc, long repairedRecords, Path resume,
      long resumeBytes, boolean resumePreallocated) {}

  private final Segments segments;
  private final boolean repair;
  private long lastIndex;
  private long repairedRecords;

  private JournalRecovery(Segments segments, boolean repair) {
    this.segments = segments;
    this.repair = repair;
  }

  /**
   * Checks every record in {@code segments}' directory, hands those with an index above {@code
   * afterIndex} to {@code replay} in order, and adds every segment but the last to the closed
   * ones. See {@link FileCommandLog#open(Path, FsyncMode, long, boolean, long, RecordConsumer)}.
   */
  static Recovered recover(
      Segments segments, boolean repair, long afterIndex, RecordConsumer replay)
      throws IOException {
    return new JournalRecovery(segments, repair).recover(afterIndex, replay);
  }

  private Recovered recover(long afterIndex, RecordConsumer replay) throws IOException {
    List<Path> files = segments.files();
    long expectedFirst = -1;
    // The chain link the next segment's first record must carry: 0 before record 1, unknown
    // before the first segment left by compaction.
    Integer chain = files.isEmpty() || Segments.firstIndexOf(files.get(0)) == 1
        ? Integer.valueOf(0)
        : SegmentReader.UNKNOWN_CHAIN;
    SegmentReader.Scan lastScan = null;
    for (int i = 0; i < files.size(); i++) {
      Path file = files.get(i);
      boolean last = i == files.size() - 1;
      SegmentReader.Scan scan =
          SegmentReader.scan(file, afterIndex, Long.MAX_VALUE, replay, chain);
      boolean headerOk = scan.validBytes() >= JournalFormat.SEGMENT_HEADER_BYTES;
      if (headerOk && scan.firstIndex() != Segments.firstIndexOf(file)) {
        throw new JournalCorruptException(file, 0, "the segment header says its first record is "
            + scan.firstIndex() + ", its name says " + Segments.firstIndexOf(file));
      }
      if (headerOk && expectedFirst >= 0 && scan.firstIndex() != expectedFirst) {
        throw new JournalCorruptException(file, 0,
            "segment starts at index " + scan.firstIndex() + " where " + expectedFirst
                + " was expected; a segment is missing");
      }
      if (scan.end() == SegmentReader.End.BAD) {
        scan = handleBadRecord(files, i, scan);
        if (scan.validBytes() < JournalFormat.SEGMENT_HEADER_BYTES || !last) {
          files = files.subList(0, i + 1); // repaired: the later segments are gone
        }
      }
      lastScan = scan;
      long segmentLast = scan.validBytes() < JournalFormat.SEGMENT_HEADER_BYTES
          ? Segments.firstIndexOf(file) - 1
          : scan.lastIndex();
      lastIndex = Math.max(lastIndex, segmentLast);
      expectedFirst = segmentLast + 1;
      chain = scan.chainKnown() ? Integer.valueOf(scan.lastCrc()) : chain;
      if (i < files.size() - 1) {
        segments.addClosed(new Segments.Segment(file, scan.firstIndex(), segmentLast));
      }
      if (i == files.size() - 1) {
        break;
      }
    }
    int lastCrc = chain == null ? 0 : chain;
    // Append to the last segment if it is intact and of the current format, else start a new one.
    Path tail = files.isEmpty() ? null : files.get(files.size() - 1);
    if (tail != null && lastScan.validBytes() >= JournalFormat.SEGMENT_HEADER_BYTES
        && lastScan.format() != JournalFormat.FORMAT
        && lastScan.lastIndex() >= lastScan.firstIndex()) {
      // An older format's records stay where they are, read as they are; new records go into a
      // segment of the current format.
      log.info("journal: {} is of format {}; records from {} on are written in format {}",
          tail.getFileName(), lastScan.format(), lastIndex + 1, JournalFormat.FORMAT);
      if (lastScan.validBytes() < Files.size(tail)) {
        truncate(tail, lastScan.validBytes()); // a closed segment ends at its records
      }
      segments.addClosed(
          new Segments.Segment(tail, lastScan.firstIndex(), lastScan.lastIndex()));
      return new Recovered(lastIndex, lastCrc, repairedRecords, null, 0, false);
    } else if (tail != null && lastScan.validBytes() >= JournalFormat.SEGMENT_HEADER_BYTES
        && lastScan.format() == JournalFormat.FORMAT) {
      long bytes = Files.size(tail);
      // records that end in zeros: a preallocated segment, to be filled further
      boolean preallocated =
          lastScan.end() == SegmentReader.End.CLEAN && lastScan.validBytes() < bytes;
      return new Recovered(lastIndex, lastCrc, repairedRecords, tail,
          preallocated ? lastScan.validBytes() : bytes, preallocated);
    } else {
      if (tail != null) {
        Files.delete(tail);
      }
      return new Recovered(lastIndex, lastCrc, repairedRecords, null, 0, false);
    }
  }

  /**
   * Decides what the bad record (or header) that {@code scan} of {@code files[i]} ended at is,
   * and acts: a torn tail is truncated; corruption throws, or under {@code repair} is truncated
   * with every later segment. Returns the scan as it stands after truncating.
   *
   * <p>A torn tail is what a crash while writing the last group leaves: only in the last
   * segment, and with no valid record anywhere after the bad one (every byte offset after it is
   * tried, so a corrupted length cannot hide the records it spans). Anything else is
   * corruption.
   */
  private SegmentReader.Scan handleBadRecord(
      List<Path> files, int i, SegmentReader.Scan scan) throws IOException {
    Path file = files.get(i);
    boolean last = i == files.size() - 1;
    long badAt = scan.validBytes();
    boolean headerBad = badAt < JournalFormat.SEGMENT_HEADER_BYTES;
    long lastKept = headerBad ? Segments.firstIndexOf(file) - 1 : scan.lastIndex();
    SegmentReader.Later later = headerBad
        ? validRecordsUnderABadHeader(file, scan, lastKept + 1)
        : SegmentReader.findValidAfter(file, scan.format(), badAt + 1, lastKept + 1);
    boolean headerTorn = headerBad && (scan.fileBytes() < JournalFormat.SEGMENT_HEADER_BYTES
        || scan.problem().startsWith("segment of zeros only"));
    if (last && later.count() == 0 && (!headerBad || headerTorn)) {
      log.warn("journal: truncating a torn last write at {} offset {} ({}; no valid record"
              + " after it; {} bytes dropped, which held no acknowledged record)",
          file, badAt, scan.problem(), scan.fileBytes() - badAt);
      truncate(file, badAt);
      return scan;
    }
    String detail = scan.problem();
    if (later.count() > 0) {
      detail += "; a valid record (index " + later.firstIndex() + ") follows at offset "
          + later.firstOffset() + ", so this is not a torn last write";
      if (last && !later.fromALaterGroup()) {
        detail += ". Every valid record after it was written in the same group commit as the"
            + " bad one, which a power loss during that write can also leave; if the machine"
            + " lost power, those records were never acknowledged";
      }
    } else if (!last) {
      detail += "; in a segment that is not the last one";
    }
    if (!repair) {
      throw new JournalCorruptException(file, badAt, detail);
    }
    long highest = Math.max(later.maxIndex(), highestIndexIn(files.subList(i + 1, files.size())));
    long dropped = Math.max(highest, lastKept + 1) - lastKept;
    log.warn("journal: --repair truncates {} at offset {} ({}), dropping records {}..{}: {}"
            + " records, the bad one and every one after it ({} bytes of this segment and {}"
            + " later segments)",
        file, badAt, detail, lastKept + 1, lastKept + dropped, dropped,
        scan.fileBytes() - badAt, files.size() - i - 1);
    repairedRecords += dropped;
    for (Path later2 : files.subList(i + 1, files.size())) {
      Files.delete(later2);
    }
    truncate(file, badAt);
    return scan;
  }

  /** The valid records of a segment whose header is bad, of whichever format finds more. */
  private static SegmentReader.Later validRecordsUnderABadHeader(
      Path file, SegmentReader.Scan scan, long expected) throws IOException {
    if (scan.fileBytes() <= JournalFormat.SEGMENT_HEADER_BYTES) {
      return SegmentReader.Later.NONE;
    }
    SegmentReader.Later current = SegmentReader.findValidAfter(
        file, JournalFormat.FORMAT, JournalFormat.SEGMENT_HEADER_BYTES, expected);
    SegmentReader.Later format1 = SegmentReader.findValidAfter(
        file, JournalFormat.FORMAT_1, JournalFormat.SEGMENT_HEADER_BYTES, expected);
    return format1.count() > current.count() ? format1 : current;
  }

  /** The highest index of a valid record in {@code files} (0 if none), for --repair's report. */
  private static long highestIndexIn(List<Path> files) {
    long highest = 0;
    for (Path f : files) {
      try {
        SegmentReader.Scan scan = SegmentReader.scan(f, Long.MAX_VALUE, (i, p) -> {});
        if (scan.validBytes() >= JournalFormat.SEGMENT_HEADER_BYTES) {
          highest = Math.max(highest, scan.lastIndex());
        }
        if (scan.end() == SegmentReader.End.BAD && scan.validBytes() > 0) {
          highest = Math.max(highest, SegmentReader.findValidAfter(
              f, scan.format(), scan.validBytes() + 1, scan.lastIndex() + 1).maxIndex());
        }
      } catch (IOException e) {
        // unreadable: counted as none
      }
    }
    return highest;
  }

  private static void truncate(Path file, long size) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.truncate(size);
      ch.force(true);
    }
  }
}
