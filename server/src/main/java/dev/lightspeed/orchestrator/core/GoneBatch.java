package dev.lightspeed.orchestrator.core;

/**
 * A batch that left the live set, as {@link RememberedBatches} remembers it: its idempotency key's
 * entry and, when it was acked, its ack's result. A view built on demand (a repeated enqueue or
 * ack, a snapshot, the signature); the remembered data itself is stored without objects.
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
