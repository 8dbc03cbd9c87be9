package dev.lightspeed.orchestrator.core;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The whole state of one pipeline, and the only code that moves a batch between states.
 *
 * <p>Every move keeps all indexes in step (the live set, enqueue order, the stage's waiting set,
 * the lease order, the retry and dead-letter lists, the counters), so each costs O(log n) in the
 * number of live batches and no query has to scan. {@link PipelineRuntime} decides <em>whether</em>
 * a move is allowed; this class only makes it. Moves that would break the state table of {@link
 * BatchState} throw {@link IllegalStateException}: that is a bug, never a client error.
 */
final class PipelineState {
  static final int AUDIT_LOG_CAPACITY = 1_000;
  static final int RUN_HISTORY_CAPACITY = 100;

  /** Replaced only by {@link #replaceSpec} (update_pipeline, SPEC 3.9). */
  PipelineSpec spec;
  /** Stages in declaration order. */
  final Map<String, StageState> stages = new LinkedHashMap<>();
  /** Connectors in plan order, with their current {@code disabled} flags. */
  final List<Connector> connectors;

  /**
   * Live batches (QUEUED, IN_FLIGHT, RETRY_WAIT, DEAD_LETTERED) by key and by idempotency key: a
   * live batch answers for its idempotency key itself.
   */
  final LiveBatches live = new LiveBatches();
  /** Live batches in enqueue order; their positions are stable page cursors. */
  final EnqueueOrder liveByEnqueue = new EnqueueOrder();
  /** IN_FLIGHT batches that have a lease deadline, in expiry order. */
  final TreeSet<LiveBatch> leases = new TreeSet<>(LiveBatch.BY_LEASE_DEADLINE);
  /** RETRY_WAIT batches in the order their retry records were emitted, keyed by emit position. */
  final TreeMap<Long, LiveBatch> retryWaiting = new TreeMap<>();
  /** DEAD_LETTERED batches in the order their records were emitted, keyed by emit position. */
  final TreeMap<Long, LiveBatch> deadLettered = new TreeMap<>();

  /**
   * Batches gone from the live set, with their idempotency keys and acks, for the dedup window
   * (and until an accepted call forgets them): no object per entry, see {@link RememberedBatches}.
   */
  final RememberedBatches remembered;

  long nextEnqueueSeq;
  /** The next emit position of a retry or dead-letter record. */
  long nextEmitSeq;
  int inFlightCount;
  long inFlightRecords;
  /** QUEUED + RETRY_WAIT. */
  long queuedCount;

  /**
   * What an update (SPEC 3.9) left in flight above a lowered max_in_flight or
   * max_in_flight_records: {@code valid} allows that much until the next start, which can only
   * happen once the pipeline is back under its limits. Not part of the signature: it changes no
   * answer, only what {@code valid} tolerates.
   */
  int inFlightAllowance;
  long inFlightRecordsAllowance;

  /** RUNNING, PAUSED or DRAINING; DRAINED is derived from it. */
  PipelineMode baseMode = PipelineMode.RUNNING;
  int effectiveMaxInFlight;

  long lastRunId;
  ActiveRun activeRun;
  /** The last {@value #RUN_HISTORY_CAPACITY} completed runs, oldest first. */
  final ArrayDeque<RunSummary> completedRuns = new ArrayDeque<>();
  /** The last {@value #AUDIT_LOG_CAPACITY} applied actions, oldest first. */
  final ArrayDeque<AuditEntry> auditLog = new ArrayDeque<>();
  /** How many audit entries were ever appended; the first kept one is number appended - size. */
  long auditAppended;
  /** The event log (SPEC 3.10): every accepted change appends its events here. */
  final EventLog events = new EventLog();

  /** The clock: every operation runs at {@code max(now_ms, lastNowMs)}. Not part of the signature. */
  long lastNowMs;

  /**
   * Counts the accepted calls that changed the state (not just the clock). The server journals a
   * call exactly when it moved this counter, and caches the signature against it.
   */
  long version;

  PipelineState(PipelineSpec spec) {
    this.spec = spec;
    this.connectors = new ArrayList<>(spec.connectors());
    this.effectiveMaxInFlight = spec.boundary().maxInFlight();
    this.remembered = new RememberedBatches(spec.stages());
    for (String name : spec.stages()) {
      boolean ordered = false;
      for (Connector c : spec.connectors()) {
        ordered |= c.stage().equals(name) && c.ordered();
      }
      stages.put(name, new StageState(name, stages.size(), ordered));
    }
    for (Connector c : spec.connectors()) {
      stages.get(c.stage()).connectors.add(c);
    }
  }

  /**
   * Makes {@code next} the spec (update_pipeline, SPEC 3.9, already checked): new stages are
   * appended, each stage gets its new connectors and orderedness, and nothing held moves.
   */
  void replaceSpec(PipelineSpec next) {
    spec = next;
    connectors.clear();
    connectors.addAll(next.connectors());
    List<String> added = new ArrayList<>();
    for (String name : next.stages()) {
      if (!stages.containsKey(name)) {
        stages.put(name, new StageState(name, stages.size(), false));
        added.add(name);
      }
    }
    remembered.addStages(added);
    for (StageState stage : stages.values()) {
      stage.connectors.clear();
      boolean ordered = false;
      for (Connector c : next.connectors()) {
        if (c.stage().equals(stage.name)) {
          stage.connectors.add(c);
          ordered |= c.ordered();
        }
      }
      stage.setOrdered(ordered);
    }
  }

  long retryWaitCount() {
    return retryWaiting.size();
  }

  /** The mode as reported: DRAINING becomes DRAINED while nothing is queued or in flight. */
  PipelineMode mode() {
    if (baseMode == PipelineMode.DRAINING && queuedCount == 0 && inFlightCount == 0) {
      return PipelineMode.DRAINED;
    }
    return baseMode;
  }

  /** The current spec: as created, with the connectors' current {@code disabled} flags. */
  PipelineSpec currentSpec() {
    return spec.toBuilder().connectors(connectors).build();
  }

  /** The connector named {@code name} in plan order, or -1. */
  int connectorIndex(String name) {
    for (int i = 0; i < connectors.size(); i++) {
      if (connectors.get(i).name().equals(name)) {
        return i;
      }
    }
    return -1;
  }

  void setConnectorDisabled(int index, boolean disabled) {
    Connector before = connectors.get(index);
    Connector after = before.withDisabled(disabled);
    connectors.set(index, after);
    List<Connector> ofStage = stages.get(before.stage()).connectors;
    ofStage.set(ofStage.indexOf(before), after);
  }

  /** Puts a batch read from a snapshot back into every index its state implies. */
  void restore(LiveBatch b) {
    StageState stage = stages.get(b.batch.stage());
    live.add(b);
    liveByEnqueue.append(b);
    switch (b.state) {
      case QUEUED -> {
        stage.waiting.add(b);
        queuedCount++;
      }
      case RETRY_WAIT -> {
        stage.waiting.add(b);
        retryWaiting.put(b.emitSeq, b);
        queuedCount++;
      }
      case IN_FLIGHT -> {
        if (b.leaseDeadlineMs > 0) {
          leases.add(b);
        }
        inFlightCount++;
        stage.inFlight++;
        inFlightRecords += b.batch.records();
      }
      case DEAD_LETTERED -> deadLettered.put(b.emitSeq, b);
    }
  }

  // ---- moves -------------------------------------------------------------------------------

  /** A new batch enters the live set as QUEUED, ready at {@code nowMs}. */
  LiveBatch enqueue(Batch batch, long nowMs) {
    StageState stage = stages.get(batch.stage());
    batch = withStageName(batch, stage);
    LiveBatch b = new LiveBatch(batch, nextEnqueueSeq++, nowMs);
    live.add(b);
    liveByEnqueue.append(b);
    stage.waiting.add(b);
    if (batch.sequence() > 0) { // 0 = no sequence: the stage's last sequence stays as it was
      stage.hasSequence = true;
      stage.lastSequence = batch.sequence();
    }
    queuedCount++;
    return b;
  }

  /** QUEUED or RETRY_WAIT ⇒ IN_FLIGHT, as attempt + 1. */
  void start(LiveBatch b, long nowMs, long leaseMs) {
    move(b, BatchState.IN_FLIGHT);
    inFlightAllowance = 0; // a start happens only under the limits, so none is needed any more
    inFlightRecordsAllowance = 0;
    StageState stage = stages.get(b.batch.stage());
    stage.waiting.remove(b);
    if (b.retry != null) {
      retryWaiting.remove(b.emitSeq);
      b.retry = null;
    }
    queuedCount--;
    b.state = BatchState.IN_FLIGHT;
    b.attempt++;
    b.startedAtMs = nowMs;
    b.leaseDeadlineMs = leaseMs > 0 ? saturatedAdd(nowMs, leaseMs) : 0;
    if (b.leaseDeadlineMs > 0) {
      leases.add(b);
    }
    inFlightCount++;
    stage.inFlight++;
    inFlightRecords += b.batch.records();
  }

  /** Moves an IN_FLIGHT batch's lease to {@code deadlineMs}. */
  void extendLease(LiveBatch b, long deadlineMs) {
    if (b.leaseDeadlineMs > 0) {
      leases.remove(b);
    }
    b.leaseDeadlineMs = deadlineMs;
    if (deadlineMs > 0) {
      leases.add(b);
    }
  }

  /** IN_FLIGHT ⇒ RETRY_WAIT until {@code record.retryAtMs()}. */
  void retryLater(LiveBatch b, RetryRecord record, long nowMs) {
    move(b, BatchState.RETRY_WAIT);
    leaveInFlight(b);
    b.state = BatchState.RETRY_WAIT;
    b.failedAtMs = nowMs;
    b.readyAtMs = record.retryAtMs();
    b.retry = record;
    b.emitSeq = nextEmitSeq++;
    retryWaiting.put(b.emitSeq, b);
    stages.get(b.batch.stage()).waiting.add(b);
    queuedCount++;
  }

  /** IN_FLIGHT ⇒ DEAD_LETTERED. */
  void deadLetter(LiveBatch b, DeadLetterRecord record, long nowMs) {
    move(b, BatchState.DEAD_LETTERED);
    leaveInFlight(b);
    b.state = BatchState.DEAD_LETTERED;
    b.failedAtMs = nowMs;
    b.deadLetter = record;
    b.emitSeq = nextEmitSeq++;
    deadLettered.put(b.emitSeq, b);
  }

  /** IN_FLIGHT ⇒ DONE: the batch leaves the live set and is remembered for the dedup window. */
  void complete(LiveBatch b, ProcessResult result) {
    if (b.state != BatchState.IN_FLIGHT) {
      throw new IllegalStateException("cannot complete a " + b.state + " batch " + b.key());
    }
    leaveInFlight(b);
    StageState stage = stages.get(b.batch.stage());
    stage.batchesProcessed++;
    stage.recordsProcessed += b.batch.records();
    removeLive(b);
    remembered.add(
        b.batch, result.completedAtMs(), result.attempt(), result.runId(), result.startedAtMs());
  }

  /** DEAD_LETTERED ⇒ QUEUED, ready at {@code nowMs}, attempt reset, in its old enqueue position. */
  void redrive(LiveBatch b, long nowMs) {
    move(b, BatchState.QUEUED);
    deadLettered.remove(b.emitSeq);
    b.deadLetter = null;
    b.state = BatchState.QUEUED;
    b.attempt = 0;
    b.readyAtMs = nowMs;
    stages.get(b.batch.stage()).waiting.add(b);
    queuedCount++;
  }

  /** DEAD_LETTERED ⇒ gone; the key is free again. */
  void discard(LiveBatch b, long nowMs) {
    if (b.state != BatchState.DEAD_LETTERED) {
      throw new IllegalStateException("cannot discard a " + b.state + " batch " + b.key());
    }
    deadLettered.remove(b.emitSeq);
    b.deadLetter = null;
    removeLive(b);
    remembered.add(b.batch, nowMs, 0, 0, 0);
  }

  /** QUEUED or RETRY_WAIT ⇒ gone; the key is free again. */
  void cancel(LiveBatch b, long nowMs) {
    if (!b.state.isCancellable()) {
      throw new IllegalStateException("cannot cancel a " + b.state + " batch " + b.key());
    }
    stages.get(b.batch.stage()).waiting.remove(b);
    if (b.retry != null) {
      retryWaiting.remove(b.emitSeq);
      b.retry = null;
    }
    queuedCount--;
    removeLive(b);
    remembered.add(b.batch, nowMs, 0, 0, 0);
  }

  /**
   * Forgets the idempotency keys and acks whose dedup window has passed at {@code nowMs}. Only
   * accepted calls may do this (SPEC section 1), so that refused calls change nothing at all.
   */
  void forgetExpired(long nowMs) {
    remembered.forgetExpired(nowMs, spec.dedupWindowMs());
  }

  void appendAudit(AuditEntry entry) {
    if (auditLog.size() == AUDIT_LOG_CAPACITY) {
      auditLog.pollFirst();
    }
    auditLog.addLast(entry);
    auditAppended++;
    events.append(EventType.ACTION_APPLIED, entry.atMs(), entry);
  }

  void appendCompletedRun(RunSummary summary) {
    if (completedRuns.size() == RUN_HISTORY_CAPACITY) {
      completedRuns.pollFirst();
    }
    completedRuns.addLast(summary);
  }

  // ---- helpers ------------------------------------------------------------------------------

  /**
   * {@code batch} holding the stage's own copy of its name. The request's copy (a fresh String per
   * call on a server) would otherwise live as long as the batch, and then as long as its
   * remembered key: two objects per batch for nothing.
   */
  static Batch withStageName(Batch batch, StageState stage) {
    if (batch.stage() == stage.name) {
      return batch;
    }
    return new Batch(batch.key(), stage.name, batch.records(), batch.lagMs(),
        batch.idempotencyKey(), batch.sequence());
  }

  private void leaveInFlight(LiveBatch b) {
    if (b.leaseDeadlineMs > 0) {
      leases.remove(b);
    }
    b.leaseDeadlineMs = 0;
    inFlightCount--;
    stages.get(b.batch.stage()).inFlight--;
    inFlightRecords -= b.batch.records();
  }

  /** Takes {@code b} out of the live set; the caller remembers it. */
  private void removeLive(LiveBatch b) {
    live.remove(b);
    liveByEnqueue.remove(b);
  }

  /** What idempotency key {@code key} accepted: a live batch, a remembered one, or null. */
  Accepted acceptedByIdempotencyKey(String key) {
    LiveBatch b = live.byIdempotencyKey(key);
    return b != null ? b : remembered.byIdempotencyKey(key);
  }

  private static void move(LiveBatch b, BatchState to) {
    if (!b.state.canMoveTo(to)) {
      throw new IllegalStateException(
          "batch " + b.key() + " cannot move from " + b.state + " to " + to);
    }
  }

  static long saturatedAdd(long a, long b) {
    long sum = a + b;
    return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
  }
}
