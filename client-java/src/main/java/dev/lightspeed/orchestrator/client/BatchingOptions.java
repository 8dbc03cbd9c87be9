package dev.lightspeed.orchestrator.client;

import java.time.Duration;

/**
 * How a {@link BatchingProducer} or {@link BatchingAcker} groups single calls into bulk calls, the
 * same in every client of this project (defaults as Pub/Sub's publisher): a bulk call leaves when
 * it holds {@code maxItems} items (100) or {@code maxBytes} bytes (1 MiB), or {@code maxDelay}
 * (5 ms) after its first item, whichever comes first. {@link #unbatched()} sends every item alone,
 * at once (still in order per stage).
 *
 * @param maxItems items per bulk call, 1..1000 (the server's default per-call limit)
 * @param maxDelay how long the first item of a bulk call waits for more; ≥ 0
 * @param maxBytes serialized bytes per bulk call (the server takes 4 MiB messages); ≥ 1
 */
public record BatchingOptions(int maxItems, Duration maxDelay, int maxBytes) {
  public static final BatchingOptions DEFAULTS =
      new BatchingOptions(100, Duration.ofMillis(5), 1 << 20);

  public BatchingOptions {
    if (maxItems < 1 || maxItems > 1000) {
      throw new IllegalArgumentException("maxItems must be 1..1000 (got " + maxItems + ")");
    }
    if (maxDelay.isNegative()) {
      throw new IllegalArgumentException("maxDelay must be ≥ 0 (got " + maxDelay + ")");
    }
    if (maxBytes < 1) {
      throw new IllegalArgumentException("maxBytes must be ≥ 1 (got " + maxBytes + ")");
    }
  }

  /** Batching off: each item is its own call, sent at once. */
  public static BatchingOptions unbatched() {
    return new BatchingOptions(1, Duration.ZERO, Integer.MAX_VALUE);
  }
}
