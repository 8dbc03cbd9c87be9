package dev.lightspeed.orchestrator.durability;

import java.io.InterruptedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Keeps a background thread to a share of one core by sleeping between pieces of its work, the
 * way databases pace compaction. The snapshotter replays the journal with the same code that
 * served the calls, so left alone it takes a core for seconds at a time; an operator sharing the
 * machine with other work can bound that with {@code --snapshot-cpu}.
 *
 * <p>Measures the thread's own CPU time, so time spent waiting for the disk or descheduled does
 * not count against the budget. Not thread-safe: one pacer per thread.
 */
final class CpuPacer {
  /** How often {@link #pace} looks at the clock: often enough, but not per call. */
  private static final int CHECK_EVERY = 64;

  private final double share;
  private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
  private final long startWallNanos;
  private final long startCpuNanos;
  private int calls;

  /** @param share the most of one core to use, in (0, 1]; 1 never sleeps */
  CpuPacer(double share) {
    if (!(share > 0 && share <= 1)) {
      throw new IllegalArgumentException("a CPU share must be in (0, 1], got " + share);
    }
    this.share = share >= 1 || !threads.isCurrentThreadCpuTimeSupported() ? 1 : share;
    this.startWallNanos = System.nanoTime();
    this.startCpuNanos = this.share < 1 ? threads.getCurrentThreadCpuTime() : 0;
  }

  /** Call between small pieces of work; sleeps while the thread is ahead of its share. */
  void pace() throws InterruptedIOException {
    if (share >= 1 || ++calls % CHECK_EVERY != 0) {
      return;
    }
    settle();
  }

  /** Sleeps now until the work done so far fits the share (e.g. after one large piece). */
  void settle() throws InterruptedIOException {
    if (share >= 1) {
      return;
    }
    long cpu = threads.getCurrentThreadCpuTime() - startCpuNanos;
    long due = startWallNanos + (long) (cpu / share);
    long wait;
    while ((wait = due - System.nanoTime()) > 0) {
      LockSupport.parkNanos(Math.min(wait, TimeUnit.MILLISECONDS.toNanos(100)));
      if (Thread.currentThread().isInterrupted()) {
        throw new InterruptedIOException("interrupted while pacing");
      }
    }
  }
}
