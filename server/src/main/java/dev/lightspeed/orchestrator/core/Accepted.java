package dev.lightspeed.orchestrator.core;

/**
 * What an idempotency key remembers of the enqueue it accepted: the batch itself while it is live
 * ({@link LiveBatch}), then, for the dedup window, a {@link GoneBatch}. Keeping the live batch as
 * its own entry means an enqueue allocates no separate idempotency entry.
 */
sealed interface Accepted permits LiveBatch, GoneBatch {
  String idempotencyKey();

  String batchKey();

  String stage();

  long records();

  long sequence();

  /** Whether the batch is still live; its key then counts however long ago it was enqueued. */
  boolean isLive();

  /** When the batch left the live set (acked, cancelled or discarded); 0 while live. */
  long leftAtMs();

  /** Whether {@code batch} is the same enqueue again (SPEC 3.1 check 2). */
  default boolean sameEnqueueAs(Batch batch) {
    return batchKey().equals(batch.key())
        && stage().equals(batch.stage())
        && records() == batch.records()
        && sequence() == batch.sequence();
  }
}
