package dev.lightspeed.orchestrator.core;

/**
 * A batch that left the live set, remembered for the dedup window: the entry of its idempotency
 * key and, when it was acked, its ack's result — one object per key, because a busy pipeline keeps
 * hundreds of thousands of these for the dedup window and every young GC copies them until they
 * are old (bench/findings.md, finding 1). The result is rebuilt only when a repeated ack asks.
 */
final class GoneBatch implements Accepted {
  final String idempotencyKey;
  final String batchKey;
  final String stage;
  final long records;
  final long sequence;
  /** When it left; for an acked batch, also its completed_at. */
  final long leftAtMs;
  /** Whether it left by an ack (then the fields below hold the ack's result). */
  final boolean acked;
  final int attempt;
  final long runId;
  final long startedAtMs;

  private GoneBatch(
      Batch batch, long leftAtMs, boolean acked, int attempt, long runId, long startedAtMs) {
    this(batch.idempotencyKey(), batch.key(), batch.stage(), batch.records(), batch.sequence(),
        leftAtMs, acked, attempt, runId, startedAtMs);
  }

  GoneBatch(
      String idempotencyKey,
      String batchKey,
      String stage,
      long records,
      long sequence,
      long leftAtMs,
      boolean acked,
      int attempt,
      long runId,
      long startedAtMs) {
    this.idempotencyKey = idempotencyKey;
    this.batchKey = batchKey;
    this.stage = stage;
    this.records = records;
    this.sequence = sequence;
    this.leftAtMs = leftAtMs;
    this.acked = acked;
    this.attempt = attempt;
    this.runId = runId;
    this.startedAtMs = startedAtMs;
  }

  /** A batch acked with {@code result}. */
  static GoneBatch acked(Batch batch, ProcessResult result) {
    return new GoneBatch(
        batch, result.completedAtMs(), true, result.attempt(), result.runId(),
        result.startedAtMs());
  }

  /** A batch cancelled or discarded at {@code nowMs}: only its idempotency key is remembered. */
  static GoneBatch dropped(Batch batch, long nowMs) {
    return new GoneBatch(batch, nowMs, false, 0, 0, 0);
  }

  /** The ack's result, as the ack answered it. Only for an acked batch. */
  ProcessResult result() {
    return new ProcessResult(batchKey, stage, records, attempt, runId, startedAtMs, leftAtMs);
  }

  @Override
  public String idempotencyKey() {
    return idempotencyKey;
  }

  @Override
  public String batchKey() {
    return batchKey;
  }

  @Override
  public String stage() {
    return stage;
  }

  @Override
  public long records() {
    return records;
  }

  @Override
  public long sequence() {
    return sequence;
  }

  @Override
  public boolean isLive() {
    return false;
  }

  @Override
  public long leftAtMs() {
    return leftAtMs;
  }
}
