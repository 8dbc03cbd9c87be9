package dev.lightspeed.orchestrator.core;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;

/**
 * The state signature: lowercase hex SHA-256 over a canonical encoding of the whole pipeline
 * state except the clock. The encoding (version 1) is, in this order:
 *
 * <ol>
 *   <li>the string {@code lightspeed.orchestrator.state.v1};
 *   <li>the spec: name, stages, connectors (name, kind, stage, disabled, max_batch_records,
 *       dead_letter_destination, ordered) in plan order, the boundary's five numbers, the retry
 *       policy (multiplier as its IEEE-754 bits), dedup_window_ms, allow_unbound_stages;
 *   <li>the operator state: base mode (RUNNING, PAUSED or DRAINING), effective max_in_flight;
 *   <li>per stage in declaration order: paused, whether a sequence was accepted, the last
 *       sequence, acked batches, acked records;
 *   <li>live batches in enqueue order: the six batch fields, state, attempt, ready_at,
 *       started_at, lease deadline, failed_at;
 *   <li>retry records in emit order; dead-letter records in emit order;
 *   <li>remembered idempotency keys, sorted by key: batch key, stage, records, sequence, live,
 *       left_at;
 *   <li>remembered acks, sorted by batch key: the ProcessResult fields and done_at;
 *   <li>runs: last run id, the active run (or none), completed runs oldest first;
 *   <li>the audit log: how many entries were ever appended, then the kept entries oldest first
 *       (action name, its argument, at_ms, message).
 * </ol>
 *
 * <p>Primitives: a string is its UTF-8 byte length as a 4-byte big-endian int followed by the
 * bytes; an int is 4 bytes and a long 8 bytes, big-endian; a boolean one byte 0 or 1; an enum its
 * name as a string; a list its size as an int followed by its items; an absent value is the
 * boolean false, a present one true followed by the value. Positions (enqueue and emit order) are
 * encoded by order alone, never by their internal numbers, so equal states give equal signatures.
 */
final class StateSignature {
  private static final String VERSION = "lightspeed.orchestrator.state.v1";

  private final MessageDigest digest;
  private final ByteBuffer buffer = ByteBuffer.allocate(8192);

  private StateSignature() {
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }

  static String of(PipelineState s) {
    StateSignature w = new StateSignature();
    w.string(VERSION);
    w.spec(s.spec, s.connectors);
    w.string(s.baseMode.name());
    w.int32(s.effectiveMaxInFlight);
    for (StageState stage : s.stages.values()) {
      w.bool(stage.paused);
      w.bool(stage.hasSequence);
      w.int64(stage.lastSequence);
      w.int64(stage.batchesProcessed);
      w.int64(stage.recordsProcessed);
    }
    w.int32(s.liveByEnqueue.size());
    for (LiveBatch b : s.liveByEnqueue.values()) {
      w.batch(b.batch);
      w.string(b.state.name());
      w.int32(b.attempt);
      w.int64(b.readyAtMs);
      w.int64(b.startedAtMs);
      w.int64(b.leaseDeadlineMs);
      w.int64(b.failedAtMs);
    }
    w.int32(s.retryWaiting.size());
    for (LiveBatch b : s.retryWaiting.values()) {
      w.string(b.retry.batchKey());
      w.int32(b.retry.nextAttempt());
      w.string(b.retry.reason());
      w.int64(b.retry.retryAtMs());
    }
    w.int32(s.deadLettered.size());
    for (LiveBatch b : s.deadLettered.values()) {
      w.string(b.deadLetter.batchKey());
      w.string(b.deadLetter.destination());
      w.string(b.deadLetter.reason());
      w.int64(b.deadLetter.atMs());
    }
    List<IdempotencyEntry> keys = new ArrayList<>(s.idempotency.values());
    keys.sort(Comparator.comparing(e -> e.idempotencyKey));
    w.int32(keys.size());
    for (IdempotencyEntry e : keys) {
      w.string(e.idempotencyKey);
      w.string(e.batchKey);
      w.string(e.stage);
      w.int64(e.records);
      w.int64(e.sequence);
      w.bool(e.live);
      w.int64(e.leftAtMs);
    }
    List<DoneEntry> acks = new ArrayList<>(s.done.values());
    acks.sort(Comparator.comparing(DoneEntry::key));
    w.int32(acks.size());
    for (DoneEntry d : acks) {
      ProcessResult r = d.result();
      w.string(r.batchKey());
      w.string(r.stage());
      w.int64(r.records());
      w.int32(r.attempt());
      w.int64(r.runId());
      w.int64(r.startedAtMs());
      w.int64(r.completedAtMs());
      w.int64(d.doneAtMs());
    }
    w.int64(s.lastRunId);
    w.bool(s.activeRun != null);
    if (s.activeRun != null) {
      w.run(s.activeRun.summary(0));
    }
    w.int32(s.completedRuns.size());
    s.completedRuns.forEach(w::run);
    w.int64(s.auditAppended);
    w.int32(s.auditLog.size());
    for (AuditEntry e : s.auditLog) {
      w.string(e.action().actionName());
      w.string(ActionArgument.of(e.action()));
      w.int64(e.atMs());
      w.string(e.message());
    }
    return w.finish();
  }

  private void spec(PipelineSpec spec, List<Connector> connectors) {
    string(spec.name());
    int32(spec.stages().size());
    spec.stages().forEach(this::string);
    int32(connectors.size());
    for (Connector c : connectors) {
      string(c.name());
      string(c.kind().name());
      string(c.stage());
      bool(c.disabled());
      int64(c.maxBatchRecords());
      string(c.deadLetterDestination());
      bool(c.ordered());
    }
    Boundary b = spec.boundary();
    int32(b.maxInFlight());
    int64(b.maxQueued());
    int64(b.maxLagMs());
    int64(b.maxInFlightRecords());
    int64(b.leaseMs());
    RetryPolicy r = spec.retry();
    int32(r.maxAttempts());
    int64(r.initialBackoffMs());
    int64(r.maxBackoffMs());
    int64(Double.doubleToLongBits(r.multiplier()));
    int64(spec.dedupWindowMs());
    bool(spec.allowUnboundStages());
  }

  private void batch(Batch b) {
    string(b.key());
    string(b.stage());
    int64(b.records());
    int64(b.lagMs());
    string(b.idempotencyKey());
    int64(b.sequence());
  }

  private void run(RunSummary r) {
    int64(r.runId());
    int64(r.startedAtMs());
    int64(r.completedAtMs());
    int64(r.batchesProcessed());
    int64(r.recordsProcessed());
    int64(r.retriesScheduled());
    int64(r.deadLettered());
  }

  private void string(String s) {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    int32(bytes.length);
    for (int off = 0; off < bytes.length; ) {
      int n = Math.min(bytes.length - off, ensure(1));
      buffer.put(bytes, off, n);
      off += n;
    }
  }

  private void int32(int v) {
    ensure(4);
    buffer.putInt(v);
  }

  private void int64(long v) {
    ensure(8);
    buffer.putLong(v);
  }

  private void bool(boolean v) {
    ensure(1);
    buffer.put((byte) (v ? 1 : 0));
  }

  /** Flushes the buffer into the digest if fewer than {@code n} bytes are free; returns the room. */
  private int ensure(int n) {
    if (buffer.remaining() < n) {
      buffer.flip();
      digest.update(buffer);
      buffer.clear();
    }
    return buffer.remaining();
  }

  private String finish() {
    buffer.flip();
    digest.update(buffer);
    return HexFormat.of().formatHex(digest.digest());
  }
}
