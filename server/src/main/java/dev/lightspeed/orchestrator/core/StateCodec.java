package dev.lightspeed.orchestrator.core;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes the complete state of a pipeline (including the clock and the internal positions that
 * page cursors rely on) and reads it back, for snapshots. Unlike {@link StateSignature}, which
 * hashes what the state <em>is</em>, this keeps everything needed to carry on exactly where the
 * runtime stopped: a runtime read back gives the same signature and the same answers to every
 * later call.
 *
 * <p>Format (version {@value #FORMAT}): big-endian {@link DataOutput} primitives; a string is an
 * int byte length and its UTF-8 bytes ({@code writeUTF} stops at 64 KiB); a list is an int count
 * and its items. Fields come in the order of {@link #write}.
 */
final class StateCodec {
  static final int MAGIC = 0x4C535053; // "LSPS"
  static final int FORMAT = 1;

  private StateCodec() {}

  static void write(PipelineState s, DataOutput out) throws IOException {
    out.writeInt(MAGIC);
    out.writeInt(FORMAT);
    writeSpec(s.currentSpec(), out);
    string(out, s.baseMode.name());
    out.writeInt(s.effectiveMaxInFlight);
    out.writeLong(s.nextEnqueueSeq);
    out.writeLong(s.nextEmitSeq);
    out.writeLong(s.lastNowMs);
    out.writeLong(s.version);
    out.writeLong(s.lastRunId);
    out.writeLong(s.auditAppended);
    for (StageState stage : s.stages.values()) {
      out.writeBoolean(stage.paused);
      out.writeBoolean(stage.hasSequence);
      out.writeLong(stage.lastSequence);
      out.writeLong(stage.batchesProcessed);
      out.writeLong(stage.recordsProcessed);
    }
    out.writeInt(s.liveByEnqueue.size());
    for (LiveBatch b : s.liveByEnqueue.values()) {
      writeBatch(b.batch, out);
      out.writeLong(b.enqueueSeq);
      string(out, b.state.name());
      out.writeInt(b.attempt);
      out.writeLong(b.readyAtMs);
      out.writeLong(b.startedAtMs);
      out.writeLong(b.leaseDeadlineMs);
      out.writeLong(b.failedAtMs);
      out.writeLong(b.emitSeq);
      out.writeBoolean(b.retry != null);
      if (b.retry != null) {
        string(out, b.retry.reason());
        out.writeInt(b.retry.nextAttempt());
        out.writeLong(b.retry.retryAtMs());
      }
      out.writeBoolean(b.deadLetter != null);
      if (b.deadLetter != null) {
        string(out, b.deadLetter.destination());
        string(out, b.deadLetter.reason());
        out.writeLong(b.deadLetter.atMs());
      }
    }
    out.writeInt(s.idempotency.size());
    for (IdempotencyEntry e : s.idempotency.values()) {
      string(out, e.idempotencyKey);
      string(out, e.batchKey);
      string(out, e.stage);
      out.writeLong(e.records);
      out.writeLong(e.sequence);
      out.writeBoolean(e.live);
      out.writeLong(e.leftAtMs);
    }
    out.writeInt(s.done.size());
    for (DoneEntry d : s.done.values()) {
      ProcessResult r = d.result();
      string(out, r.batchKey());
      string(out, r.stage());
      out.writeLong(r.records());
      out.writeInt(r.attempt());
      out.writeLong(r.runId());
      out.writeLong(r.startedAtMs());
      out.writeLong(r.completedAtMs());
      out.writeLong(d.doneAtMs());
    }
    // Only entries still current matter: a replaced one would be skipped when its turn came.
    List<Object> pending = new ArrayList<>();
    for (Object o : s.forgetQueue) {
      if (o instanceof DoneEntry d ? s.done.get(d.key()) == d
          : s.idempotency.get(((IdempotencyEntry) o).idempotencyKey) == o) {
        pending.add(o);
      }
    }
    out.writeInt(pending.size());
    for (Object o : pending) {
      out.writeBoolean(o instanceof DoneEntry);
      string(out, o instanceof DoneEntry d ? d.key() : ((IdempotencyEntry) o).idempotencyKey);
    }
    out.writeBoolean(s.activeRun != null);
    if (s.activeRun != null) {
      writeRun(s.activeRun.summary(0), out);
    }
    out.writeInt(s.completedRuns.size());
    for (RunSummary r : s.completedRuns) {
      writeRun(r, out);
    }
    out.writeInt(s.auditLog.size());
    for (AuditEntry e : s.auditLog) {
      string(out, e.action().actionName());
      string(out, ActionArgument.of(e.action()));
      out.writeLong(e.atMs());
      string(out, e.message());
    }
  }

  static PipelineState read(DataInput in) throws IOException {
    if (in.readInt() != MAGIC) {
      throw new IOException("not a pipeline snapshot (bad magic number)");
    }
    int format = in.readInt();
    if (format != FORMAT) {
      throw new IOException("pipeline snapshot format " + format + " is not supported");
    }
    PipelineState s = new PipelineState(readSpec(in));
    s.baseMode = PipelineMode.valueOf(string(in));
    s.effectiveMaxInFlight = in.readInt();
    s.nextEnqueueSeq = in.readLong();
    s.nextEmitSeq = in.readLong();
    s.lastNowMs = in.readLong();
    s.version = in.readLong();
    s.lastRunId = in.readLong();
    s.auditAppended = in.readLong();
    for (StageState stage : s.stages.values()) {
      stage.paused = in.readBoolean();
      stage.hasSequence = in.readBoolean();
      stage.lastSequence = in.readLong();
      stage.batchesProcessed = in.readLong();
      stage.recordsProcessed = in.readLong();
    }
    int live = in.readInt();
    for (int i = 0; i < live; i++) {
      Batch batch = readBatch(in);
      LiveBatch b = new LiveBatch(batch, in.readLong(), 0);
      b.state = BatchState.valueOf(string(in));
      b.attempt = in.readInt();
      b.readyAtMs = in.readLong();
      b.startedAtMs = in.readLong();
      b.leaseDeadlineMs = in.readLong();
      b.failedAtMs = in.readLong();
      b.emitSeq = in.readLong();
      if (in.readBoolean()) {
        String reason = string(in);
        b.retry = new RetryRecord(batch.key(), in.readInt(), reason, in.readLong());
      }
      if (in.readBoolean()) {
        String destination = string(in);
        String reason = string(in);
        b.deadLetter = new DeadLetterRecord(batch.key(), destination, reason, in.readLong());
      }
      s.restore(b);
    }
    int keys = in.readInt();
    for (int i = 0; i < keys; i++) {
      String idempotencyKey = string(in);
      String batchKey = string(in);
      String stage = string(in);
      long records = in.readLong();
      long sequence = in.readLong();
      IdempotencyEntry e =
          new IdempotencyEntry(new Batch(batchKey, stage, records, 0, idempotencyKey, sequence));
      e.live = in.readBoolean();
      e.leftAtMs = in.readLong();
      s.idempotency.put(idempotencyKey, e);
    }
    int acks = in.readInt();
    for (int i = 0; i < acks; i++) {
      ProcessResult r =
          new ProcessResult(
              string(in), string(in), in.readLong(), in.readInt(), in.readLong(), in.readLong(),
              in.readLong());
      s.done.put(r.batchKey(), new DoneEntry(r, in.readLong()));
    }
    int pending = in.readInt();
    for (int i = 0; i < pending; i++) {
      boolean isDone = in.readBoolean();
      String key = string(in);
      Object entry = isDone ? s.done.get(key) : s.idempotency.get(key);
      if (entry == null) {
        throw new IOException("pipeline snapshot names an unknown forget entry '" + key + "'");
      }
      s.forgetQueue.addLast(entry);
    }
    if (in.readBoolean()) {
      RunSummary r = readRun(in);
      ActiveRun run = new ActiveRun(r.runId(), r.startedAtMs());
      run.batchesProcessed = r.batchesProcessed();
      run.recordsProcessed = r.recordsProcessed();
      run.retriesScheduled = r.retriesScheduled();
      run.deadLettered = r.deadLettered();
      s.activeRun = run;
    }
    int runs = in.readInt();
    for (int i = 0; i < runs; i++) {
      s.completedRuns.addLast(readRun(in));
    }
    int audit = in.readInt();
    for (int i = 0; i < audit; i++) {
      OperatorAction action = ActionArgument.parse(string(in), string(in));
      s.auditLog.addLast(new AuditEntry(action, in.readLong(), string(in)));
    }
    return s;
  }

  private static void writeSpec(PipelineSpec spec, DataOutput out) throws IOException {
    string(out, spec.name());
    out.writeInt(spec.stages().size());
    for (String stage : spec.stages()) {
      string(out, stage);
    }
    out.writeInt(spec.connectors().size());
    for (Connector c : spec.connectors()) {
      string(out, c.name());
      string(out, c.kind().name());
      string(out, c.stage());
      out.writeBoolean(c.disabled());
      out.writeLong(c.maxBatchRecords());
      string(out, c.deadLetterDestination());
      out.writeBoolean(c.ordered());
    }
    Boundary b = spec.boundary();
    out.writeInt(b.maxInFlight());
    out.writeLong(b.maxQueued());
    out.writeLong(b.maxLagMs());
    out.writeLong(b.maxInFlightRecords());
    out.writeLong(b.leaseMs());
    RetryPolicy r = spec.retry();
    out.writeInt(r.maxAttempts());
    out.writeLong(r.initialBackoffMs());
    out.writeLong(r.maxBackoffMs());
    out.writeDouble(r.multiplier());
    out.writeLong(spec.dedupWindowMs());
    out.writeBoolean(spec.allowUnboundStages());
  }

  private static PipelineSpec readSpec(DataInput in) throws IOException {
    String name = string(in);
    List<String> stages = new ArrayList<>();
    for (int i = in.readInt(); i > 0; i--) {
      stages.add(string(in));
    }
    List<Connector> connectors = new ArrayList<>();
    for (int i = in.readInt(); i > 0; i--) {
      connectors.add(
          new Connector(
              string(in),
              ConnectorKind.valueOf(string(in)),
              string(in),
              in.readBoolean(),
              in.readLong(),
              string(in),
              in.readBoolean()));
    }
    Boundary boundary =
        new Boundary(in.readInt(), in.readLong(), in.readLong(), in.readLong(), in.readLong());
    RetryPolicy retry = new RetryPolicy(in.readInt(), in.readLong(), in.readLong(), in.readDouble());
    return new PipelineSpec(
        name, stages, connectors, boundary, retry, in.readLong(), in.readBoolean());
  }

  private static void writeBatch(Batch b, DataOutput out) throws IOException {
    string(out, b.key());
    string(out, b.stage());
    out.writeLong(b.records());
    out.writeLong(b.lagMs());
    string(out, b.idempotencyKey());
    out.writeLong(b.sequence());
  }

  private static Batch readBatch(DataInput in) throws IOException {
    return new Batch(string(in), string(in), in.readLong(), in.readLong(), string(in), in.readLong());
  }

  private static void writeRun(RunSummary r, DataOutput out) throws IOException {
    out.writeLong(r.runId());
    out.writeLong(r.startedAtMs());
    out.writeLong(r.completedAtMs());
    out.writeLong(r.batchesProcessed());
    out.writeLong(r.recordsProcessed());
    out.writeLong(r.retriesScheduled());
    out.writeLong(r.deadLettered());
  }

  private static RunSummary readRun(DataInput in) throws IOException {
    return new RunSummary(
        in.readLong(), in.readLong(), in.readLong(), in.readLong(), in.readLong(), in.readLong(),
        in.readLong());
  }

  private static void string(DataOutput out, String s) throws IOException {
    byte[] bytes = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    out.writeInt(bytes.length);
    out.write(bytes);
  }

  private static String string(DataInput in) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > 64 << 20) {
      throw new IOException("corrupt pipeline snapshot: string of " + n + " bytes");
    }
    byte[] bytes = new byte[n];
    in.readFully(bytes);
    return new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
  }
}
