package dev.lightspeed.orchestrator.journal;

import dev.lightspeed.orchestrator.core.Command;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;

/**
 * An append-only log of opaque commands with consecutive indexes starting at 1.
 *
 * <p>{@link #append} assigns the next index at once, in call order, and returns a future that
 * completes when the record is durable (as durable as the log's fsync mode makes it). Callers that
 * must not reply before durability (the server) reply from that future, never by waiting on it on
 * a transport thread.
 */
public interface CommandLog extends AutoCloseable {

  /** An appended record: its index, and when it is durable. */
  record Appended(long index, CompletableFuture<Void> durable) {}

  /** Receives replayed records in index order. */
  @FunctionalInterface
  interface RecordConsumer {
    void accept(long index, byte[] command) throws IOException;
  }

  /**
   * Appends one command. Thread-safe; indexes follow the order of the calls. The durability
   * future may complete on the log's own writer thread, which writes no further record until
   * the callbacks attached to it return: attach only short callbacks that never wait (sending a
   * reply is fine), and use the {@code *Async} variants for anything longer.
   */
  Appended append(byte[] command);

  /**
   * Appends {@code command}, as {@code pipeline} ran it at {@code nowMs}, as its journal record
   * ({@link JournalCodec#encode}). A log that keeps no records skips the encoding.
   */
  default Appended append(String pipeline, long nowMs, Command<?> command) {
    return append(JournalCodec.encode(pipeline, nowMs, command));
  }

  /**
   * Why the log refuses appends for good (a write or fsync failed), or null while it takes them.
   * After a failure nothing in memory that is newer than {@link #durableIndex()} is trusted.
   */
  default IOException failure() {
    return null;
  }

  /** The index of the last appended record (0 when empty). */
  long lastIndex();

  /** Bytes appended since the log was opened, for snapshot triggers. */
  long appendedBytes();

  /**
   * The newest index up to which every record is stored, so that {@link #read} can return it: its
   * durability future completes (or has completed) and none before it is missing.
   */
  long durableIndex();

  /**
   * Reads the stored records with an index in ({@code afterIndex}, {@code upToIndex}], in index
   * order, while appends go on; {@code upToIndex} must be ≤ {@link #durableIndex()}. This is how a
   * snapshot is built off to the side, from the log rather than from the live state. Must not
   * run concurrently with a {@link #compactUpTo} that drops some of those records.
   */
  void read(long afterIndex, long upToIndex, RecordConsumer consumer) throws IOException;

  /**
   * Reads the records after a position, call after call, without reading earlier ones again: how
   * the snapshotter keeps a copy of the state that follows the log. Not thread-safe; after a call
   * throws, the tail is unusable (open a new one).
   */
  interface Tail extends AutoCloseable {
    /** The index of the last record handed out (the starting position before the first). */
    long lastRead();

    /**
     * Hands out the records ({@link #lastRead()}, {@code upToIndex}] in order; {@code upToIndex}
     * must be ≤ {@link CommandLog#durableIndex()}.
     */
    void readUpTo(long upToIndex, RecordConsumer consumer) throws IOException;

    @Override
    void close() throws IOException;
  }

  /**
   * A {@link Tail} positioned after record {@code afterIndex}. The default reads with {@link
   * #read}; a log whose {@code read} has to scan for its starting point should do better.
   */
  default Tail tail(long afterIndex) {
    return new Tail() {
      private long last = afterIndex;
      private boolean broken;

      @Override
      public long lastRead() {
        return last;
      }

      @Override
      public void readUpTo(long upToIndex, RecordConsumer consumer) throws IOException {
        if (broken) {
          throw new IllegalStateException("this tail failed before; open a new one");
        }
        if (upToIndex <= last) {
          return;
        }
        broken = true;
        read(last, upToIndex, consumer);
        last = upToIndex;
        broken = false;
      }

      @Override
      public void close() {}
    };
  }

  /** Lets the log drop records with an index ≤ {@code index} (they are in a snapshot). */
  void compactUpTo(long index) throws IOException;

  /** Waits for pending records to be durable, then closes. */
  @Override
  void close() throws IOException;
}
