package dev.lightspeed.orchestrator.host;

import dev.lightspeed.orchestrator.core.Rejection;

/**
 * The server's request limits that the service enforces (transport limits, such as the message
 * size and keepalive, are set on the Netty server by {@link ProductionOptions}).
 *
 * @param maxItemsPerCall items of one EnqueueBatches or AckBatches call; more is INVALID_ARGUMENT
 *     TOO_MANY_ITEMS and nothing of the call is applied
 * @param maxWatchersPerPipeline open WatchStarted streams per pipeline; one more is
 *     RESOURCE_EXHAUSTED TOO_MANY_WATCHERS
 * @param maxPipelines pipelines per server; creating one more is RESOURCE_EXHAUSTED
 *     TOO_MANY_PIPELINES
 * @param eventRetention events kept per pipeline for WatchEvents to resume from (SPEC 3.10)
 * @param heap refuses new batches and pipelines while the heap stays nearly full after garbage
 *     collection ({@link HeapGuard#OFF} unless the server is started with it)
 */
public record Limits(
    int maxItemsPerCall, int maxWatchersPerPipeline, int maxPipelines, int eventRetention,
    HeapGuard heap) {
  public static final int DEFAULT_MAX_ITEMS_PER_CALL = 1000;
  // Each watcher buffers up to --watch-buffer started batches (4096 by default, ~150 bytes each),
  // so 256 watchers cap that memory near 150 MiB per pipeline; dashboards and fan-out (the
  // benchmark opens 100) fit.
  public static final int DEFAULT_MAX_WATCHERS_PER_PIPELINE = 256;
  public static final int DEFAULT_MAX_PIPELINES = 1000;
  public static final int DEFAULT_EVENT_RETENTION = 100_000;

  public static final Limits DEFAULTS =
      new Limits(
          DEFAULT_MAX_ITEMS_PER_CALL, DEFAULT_MAX_WATCHERS_PER_PIPELINE, DEFAULT_MAX_PIPELINES);

  public Limits {
    if (maxItemsPerCall < 1 || maxWatchersPerPipeline < 1 || maxPipelines < 1
        || eventRetention < 1) {
      throw new IllegalArgumentException("every limit must be ≥ 1: " + maxItemsPerCall + ", "
          + maxWatchersPerPipeline + ", " + maxPipelines + ", " + eventRetention);
    }
    java.util.Objects.requireNonNull(heap, "heap");
  }

  /** Without a heap guard. */
  public Limits(
      int maxItemsPerCall, int maxWatchersPerPipeline, int maxPipelines, int eventRetention) {
    this(maxItemsPerCall, maxWatchersPerPipeline, maxPipelines, eventRetention, HeapGuard.OFF);
  }

  /** These limits with {@code guard} refusing new batches while the heap is full. */
  public Limits withHeap(HeapGuard guard) {
    return new Limits(maxItemsPerCall, maxWatchersPerPipeline, maxPipelines, eventRetention, guard);
  }

  /** With the default event retention. */
  public Limits(int maxItemsPerCall, int maxWatchersPerPipeline, int maxPipelines) {
    this(maxItemsPerCall, maxWatchersPerPipeline, maxPipelines, DEFAULT_EVENT_RETENTION);
  }

  /** Refuses a bulk call with more than {@link #maxItemsPerCall} items in {@code field}. */
  public void checkItems(String field, int count) {
    if (count > maxItemsPerCall) {
      throw Rejection.ofField(
          ServerReason.TOO_MANY_ITEMS,
          field,
          "has " + count + " items; this server takes at most " + maxItemsPerCall
              + " per call (--max-items-per-call): split the call");
    }
  }
}
