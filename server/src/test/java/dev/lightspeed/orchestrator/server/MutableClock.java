package dev.lightspeed.orchestrator.server;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/** A clock that stands still until a test moves it. Thread-safe. */
final class MutableClock extends Clock {
  private final AtomicLong millis;

  MutableClock(long startMs) {
    this.millis = new AtomicLong(startMs);
  }

  /** Moves the clock forward by {@code ms} and returns the new time. */
  long advance(long ms) {
    return millis.addAndGet(ms);
  }

  /** Sets the clock to {@code ms} and returns it. */
  long set(long ms) {
    millis.set(ms);
    return ms;
  }

  @Override
  public long millis() {
    return millis.get();
  }

  @Override
  public Instant instant() {
    return Instant.ofEpochMilli(millis());
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    throw new UnsupportedOperationException("the orchestrator reads only millis()");
  }
}
