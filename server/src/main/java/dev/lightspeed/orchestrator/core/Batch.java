package dev.lightspeed.orchestrator.core;

/**
 * One batch as a producer enqueues it (the seed's {@code Batch}).
 *
 * @param key the batch's id while it is live; free again once it is DONE, cancelled or discarded
 * @param stage the stage the batch is for
 * @param records how many records it carries, ≥ 1
 * @param lagMs how far behind its source the batch is, ≥ 0
 * @param idempotencyKey a retried enqueue with the same idempotency key is answered, not applied
 * @param sequence 0 = no sequence; a positive sequence must grow strictly per stage
 */
public record Batch(
    String key, String stage, long records, long lagMs, String idempotencyKey, long sequence) {}
