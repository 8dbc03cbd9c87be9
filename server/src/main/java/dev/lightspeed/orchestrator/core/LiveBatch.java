package dev.lightspeed.orchestrator.core;

import java.util.Comparator;

/** A batch in the live set, with its mutable life-cycle fields. Owned by {@link PipelineState}. */
final class LiveBatch implements Accepted {
  // Written out rather than built with Comparator.comparingLong(..).thenComparingLong(..): each
  // TreeSet insert and removal compares several times, and the composed form made every
  // comparison four interface calls (6% of the core benchmark's samples).

  /** Ready order: the time a batch became ready, ties by enqueue order (SPEC 3.2 step 3). */
  static final Comparator<LiveBatch> BY_READY = (a, b) -> {
    int c = Long.compare(a.readyAtMs, b.readyAtMs);
    return c != 0 ? c : Long.compare(a.enqueueSeq, b.enqueueSeq);
  };

  /** Enqueue order, the order of ordered stages and of the queries. */
  static final Comparator<LiveBatch> BY_ENQUEUE = (a, b) -> Long.compare(a.enqueueSeq, b.enqueueSeq);

  /** Lease expiry order: deadline, ties by enqueue order (SPEC 3.2 step 1). */
  static final Comparator<LiveBatch> BY_LEASE_DEADLINE = (a, b) -> {
    int c = Long.compare(a.leaseDeadlineMs, b.leaseDeadlineMs);
    return c != 0 ? c : Long.compare(a.enqueueSeq, b.enqueueSeq);
  };

  final Batch batch;
  /** Position in enqueue order; a redriven batch keeps its original position. */
  final long enqueueSeq;

  BatchState state = BatchState.QUEUED;
  int attempt;
  /** Enqueue or redrive time while QUEUED; retry_at_ms while RETRY_WAIT. */
  long readyAtMs;
  /** When the current (or last) attempt started. */
  long startedAtMs;
  /** Lease deadline while IN_FLIGHT; 0 when leases never expire. */
  long leaseDeadlineMs;
  /** When the last failure happened; retry_at_ms is never before it. */
  long failedAtMs;
  /** Where this batch sits in {@link EnqueueOrder}; -1 once it left the live set. */
  int orderSlot = -1;
  /** Emit position of the current retry or dead-letter record. */
  long emitSeq;
  /** The pending retry while RETRY_WAIT, else null. */
  RetryRecord retry;
  /** The dead-letter record while DEAD_LETTERED, else null. */
  DeadLetterRecord deadLetter;

  LiveBatch(Batch batch, long enqueueSeq, long readyAtMs) {
    this.batch = batch;
    this.enqueueSeq = enqueueSeq;
    this.readyAtMs = readyAtMs;
  }

  String key() {
    return batch.key();
  }

  @Override
  public String idempotencyKey() {
    return batch.idempotencyKey();
  }

  @Override
  public String batchKey() {
    return batch.key();
  }

  @Override
  public String stage() {
    return batch.stage();
  }

  @Override
  public long records() {
    return batch.records();
  }

  @Override
  public long sequence() {
    return batch.sequence();
  }

  @Override
  public boolean isLive() {
    return true;
  }

  @Override
  public long leftAtMs() {
    return 0;
  }

  BatchView view() {
    // A dead letter is not waiting for anything: it reports no ready time until redriven.
    long readyAt = state == BatchState.DEAD_LETTERED ? 0 : readyAtMs;
    return new BatchView(batch, state, attempt, readyAt, leaseDeadlineMs);
  }
}
