package dev.lightspeed.orchestrator.core;

/**
 * An accepted idempotency key: what it enqueued, and whether that batch is still live or since
 * when it is gone (acked, cancelled or discarded).
 */
final class IdempotencyEntry {
  final String idempotencyKey;
  final String batchKey;
  final String stage;
  final long records;
  final long sequence;
  boolean live = true;
  long leftAtMs;

  IdempotencyEntry(Batch batch) {
    this.idempotencyKey = batch.idempotencyKey();
    this.batchKey = batch.key();
    this.stage = batch.stage();
    this.records = batch.records();
    this.sequence = batch.sequence();
  }

  /** Whether {@code batch} is the same enqueue again (SPEC 3.1 check 2). */
  boolean sameEnqueueAs(Batch batch) {
    return batchKey.equals(batch.key())
        && stage.equals(batch.stage())
        && records == batch.records()
        && sequence == batch.sequence();
  }
}
