package dev.lightspeed.orchestrator.grpc;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The one pending wake-up of a Work dispatcher (one server's or a cluster node's): armed for the
 * next retry time or lease deadline, an earlier request replaces a later one, and a later one
 * never replaces an earlier one. Times are kept in {@link System#nanoTime}, as the scheduler
 * sleeps, whatever the wall clock does.
 */
final class WakeTimer {
  private final ScheduledExecutorService timers;
  private final Runnable wake;
  /** Guarded by {@code this}. */
  private ScheduledFuture<?> timer;
  private long timerAtNanos;

  /** {@code wake} runs on the timer thread: it must only hand work off. */
  WakeTimer(ScheduledExecutorService timers, Runnable wake) {
    this.timers = timers;
    this.wake = wake;
  }

  /** Wakes in {@code delayMs} (at least 1), unless a wake-up no later is armed already. */
  synchronized void arm(long delayMs) {
    long delay = Math.max(1, delayMs);
    long at = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delay);
    if (timer != null && timerAtNanos - at <= 0) {
      return; // an earlier wake-up is armed; it re-arms after its pump
    }
    if (timer != null) {
      timer.cancel(false);
    }
    timerAtNanos = at;
    timer = timers.schedule(this::fire, delay, TimeUnit.MILLISECONDS);
  }

  /** The timer fired: forget it first, so that the pump it runs arms the next one. */
  private void fire() {
    synchronized (this) {
      timer = null;
    }
    wake.run();
  }
}
