package dev.lightspeed.orchestrator.journal;

import dev.lightspeed.orchestrator.core.Command;
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

  /**
   * Counts the index without encoding the record, which nobody would read: this log is the
   * journal of a cluster replica (the Raft log is the real one), of the snapshotter's shadow and
   * of recovery's replay, where encoding every applied command cost 4-6 % of a cluster node's CPU
   * (round 16's profiles). {@link #appendedBytes} counts only records appended as bytes.
   */
  @Override
  public Appended append(String pipeline, long nowMs, Command<?> command) {
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
