package dev.lightspeed.orchestrator.journal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The spare segment never takes the disk's last free space, nor keeps it after a failure. */
class SegmentPreallocatorTest {
  private static final long SPARE = 4L << 20;

  @TempDir Path dir;

  private static void await(String what, java.util.function.BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as(what + " within 20 s").isLessThan(deadline);
      Thread.sleep(5);
    }
  }

  private static ByteBuffer header(long first) {
    ByteBuffer header = ByteBuffer.allocate(JournalFormat.SEGMENT_HEADER_BYTES);
    JournalFormat.putSegmentHeader(header, first);
    return header.flip();
  }

  @Test
  void aSpareThatFailsToBeWritten_isDeleted_andTriedAgainWhenASegmentStarts() throws Exception {
    AtomicBoolean diskFull = new AtomicBoolean(true);
    AtomicInteger failures = new AtomicInteger();
    Path spare = dir.resolve(SegmentPreallocator.SPARE_NAME);
    try (SegmentPreallocator p = new SegmentPreallocator(dir, SPARE, () -> Long.MAX_VALUE,
        () -> {
          if (diskFull.get() && Files.size(spare) >= (2L << 20)) {
            failures.incrementAndGet();
            throw new IOException("No space left on device");
          }
        })) {
      await("a failed spare", () -> failures.get() == 1);
      await("the half-written spare deleted", () -> !Files.exists(spare));
      assertThat(p.ready()).isFalse();
      diskFull.set(false);
      assertThat(p.takeAs(dir.resolve(JournalFormat.segmentName(1)), header(1))).isNull();
      await("a spare after the disk has room again", p::ready);
      assertThat(Files.size(spare)).isEqualTo(SPARE);
    }
    assertThat(spare).doesNotExist();
  }

  @Test
  void withTooLittleFreeSpace_noSpareIsWritten_untilThereIsEnough() throws Exception {
    AtomicLong free = new AtomicLong(SegmentPreallocator.requiredFreeBytes(SPARE) - 1);
    AtomicInteger probes = new AtomicInteger();
    Path spare = dir.resolve(SegmentPreallocator.SPARE_NAME);
    try (SegmentPreallocator p = new SegmentPreallocator(dir, SPARE, () -> {
      probes.incrementAndGet();
      return free.get();
    }, () -> {})) {
      await("the free space looked at", () -> probes.get() == 1);
      Thread.sleep(50);
      assertThat(spare).doesNotExist();
      assertThat(p.ready()).isFalse();
      free.set(SegmentPreallocator.requiredFreeBytes(SPARE));
      assertThat(p.takeAs(dir.resolve(JournalFormat.segmentName(1)), header(1))).isNull();
      await("a spare once there is room", p::ready);
      Path segment = dir.resolve(JournalFormat.segmentName(1));
      try (java.nio.channels.FileChannel taken = p.takeAs(segment, header(1))) {
        assertThat(taken).isNotNull();
      }
      assertThat(Files.size(segment)).isEqualTo(SPARE);
    }
  }
}
