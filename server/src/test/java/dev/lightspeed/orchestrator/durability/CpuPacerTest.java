package dev.lightspeed.orchestrator.durability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

class CpuPacerTest {

  @Test
  void aQuarterShare_stretchesCpuWorkToFourTimesItsCpuTime() throws Exception {
    var threads = ManagementFactory.getThreadMXBean();
    long cpuStart = threads.getCurrentThreadCpuTime();
    long wallStart = System.nanoTime();
    CpuPacer pacer = new CpuPacer(0.25);
    long sink = 0;
    while (threads.getCurrentThreadCpuTime() - cpuStart < 40_000_000L) {
      for (int i = 0; i < 20_000; i++) {
        sink += Long.numberOfTrailingZeros(sink + i);
      }
      pacer.pace();
    }
    pacer.settle();
    long cpu = threads.getCurrentThreadCpuTime() - cpuStart;
    long wall = System.nanoTime() - wallStart;
    // A lower bound only: a busy machine can only make the wall time longer.
    assertThat(wall).as("sink %d", sink).isGreaterThanOrEqualTo((long) (cpu / 0.25 * 0.95));
  }

  @Test
  void aShareOutsideZeroToOne_isRefused() {
    assertThatThrownBy(() -> new CpuPacer(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new CpuPacer(1.5)).isInstanceOf(IllegalArgumentException.class);
  }
}
