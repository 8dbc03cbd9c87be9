package dev.lightspeed.orchestrator.journal;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The log of {@code --in-memory} servers: it counts indexes and keeps nothing, so every append
 * is "durable" at once and a restart starts empty.
 */
public final class InMemoryCommandLog implements CommandLog {
  private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);
  private final AtomicLong lastIndex = new AtomicLong();
  private final AtomicLong bytes = new AtomicLong();

  @Override
  public Appended append(byte[] command) {
    bytes.addAndGet(command.length);
    return new Appended(lastIndex.incrementAndGet(), DONE);
  }

  @Override
  public long lastIndex() {
    return lastIndex.get();
  }

  @Override
  public long appendedBytes() {
    return bytes.get();
  }

  @Override
  public long durableIndex() {
    return lastIndex.get();
  }

  /** Keeps nothing to read: snapshots of in-memory servers are never taken. */
  @Override
  public void read(long afterIndex, long upToIndex, RecordConsumer consumer) {
    if (upToIndex > afterIndex) {
      throw new UnsupportedOperationException("an in-memory log keeps no records to read");
    }
  }

  @Override
  public void compactUpTo(long index) {}

  @Override
  public void close() {}
}
