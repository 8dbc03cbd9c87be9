package dev.lightspeed.orchestrator.core;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Writes the complete state of a pipeline (including the clock and the internal positions that
 * page cursors rely on) and reads it back, for snapshots. Unlike {@link StateSignature}, which
 * hashes what the state <em>is</em>, this keeps everything needed to carry on exactly where the
 * runtime stopped: a runtime read back gives the same signature and the same answers to every
 * later call.
 *
 * <p>Format (version {@value #FORMAT}): the primitives of {@link Encoding}, fields in the order of
 * {@link #write} and {@link StateFields} (which the signature walks too). Format 3 added the in-flight allowances and the event log ({@link EventCodec});
 * a format 2 snapshot is still read (no events retained, the next event id 1).
 */
final class StateCodec {
  static final int MAGIC = 0x4C535053; // "LSPS"
  static final int FORMAT = 3;
  /** Format 2 is format 3 without the trailing in-flight allowances (read as 0). */
  static final int FORMAT_2 = 2;

  private StateCodec() {}

  private static void writeGone(
      GoneBatch g, boolean byIdempotencyKey, boolean byBatchKey, DataOutput out)
      throws IOException {
    Encoding.string(out, g.idempotencyKey);
    Encoding.string(out, g.batchKey);
    Encoding.string(out, g.stage);
    out.writeLong(g.records);
    out.writeLong(g.sequence);
    out.writeLong(g.leftAtMs);
    out.writeBoolean(g.acked);
    if (g.acked) {
      out.writeInt(g.attempt);
      out.writeLong(g.runId);
      out.writeLong(g.startedAtMs);
    }
    out.writeBoolean(byIdempotencyKey);
    out.writeBoolean(byBatchKey);
  }

  static void write(PipelineState s, DataOutput out) throws IOException {
    out.writeInt(MAGIC);
    out.writeInt(FORMAT);
    StateFields.writeBeforeRemembered(s, out, false);
    // Live batches are their own idempotency entries; what remains are the gone batches, in the
    // order they will be forgotten, each with where it is still indexed (a key used again since
    // no longer points at it). Written as they are visited: collecting them first held a view
    // object and two strings per entry at once (230 MB for 1.28M remembered acks), which the
    // next young collection then had to copy (a 187 ms pause in the server, bench/findings.md).
    out.writeInt(s.remembered.indexedCount());
    try {
      s.remembered.forEach((g, byIdempotencyKey, byBatchKey) -> {
        try {
          writeGone(g, byIdempotencyKey, byBatchKey, out);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
    StateFields.writeAfterRemembered(s, out, false);
  }

  static PipelineState read(DataInput in) throws IOException {
    if (in.readInt() != MAGIC) {
      throw new IOException("not a pipeline snapshot (bad magic number)");
    }
    int format = in.readInt();
    if (format != FORMAT && format != FORMAT_2) {
      // Before the first release the format may change without a converter (format 1 kept a
      // separate entry per idempotency key and per ack); say so rather than misread it.
      throw new IOException("pipeline snapshot format " + format + " is not supported by this"
          + " server, which reads format " + FORMAT + "; run the server version that wrote it, or"
          + " start from an empty --data-dir");
    }
    PipelineState s = new PipelineState(Encoding.readSpec(in));
    s.baseMode = PipelineMode.valueOf(Encoding.string(in));
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
      // A version 1 snapshot recorded sequence 0 as a last sequence; version 2 records only
      // positive ones, so such a stage has none (as a replay of its journal would give).
      stage.hasSequence &= stage.lastSequence > 0;
      stage.batchesProcessed = in.readLong();
      stage.recordsProcessed = in.readLong();
    }
    int live = in.readInt();
    for (int i = 0; i < live; i++) {
      Batch batch = Encoding.readBatch(in);
      StageState stageOfBatch = s.stages.get(batch.stage());
      if (stageOfBatch == null) {
        throw new IOException("pipeline snapshot has a batch of unknown stage '" + batch.stage() + "'");
      }
      batch = PipelineState.withStageName(batch, stageOfBatch);
      LiveBatch b = new LiveBatch(batch, in.readLong(), 0);
      b.state = BatchState.valueOf(Encoding.string(in));
      b.attempt = in.readInt();
      b.readyAtMs = in.readLong();
      b.startedAtMs = in.readLong();
      b.leaseDeadlineMs = in.readLong();
      b.failedAtMs = in.readLong();
      b.emitSeq = in.readLong();
      if (in.readBoolean()) {
        String reason = Encoding.string(in);
        b.retry = new RetryRecord(batch.key(), in.readInt(), reason, in.readLong());
      }
      if (in.readBoolean()) {
        String destination = Encoding.string(in);
        String reason = Encoding.string(in);
        b.deadLetter = new DeadLetterRecord(batch.key(), destination, reason, in.readLong());
      }
      s.restore(b);
    }
    int pending = in.readInt();
    for (int i = 0; i < pending; i++) {
      String idempotencyKey = Encoding.string(in);
      String batchKey = Encoding.string(in);
      String stage = Encoding.string(in);
      StageState known = s.stages.get(stage);
      stage = known == null ? stage : known.name;
      long records = in.readLong();
      long sequence = in.readLong();
      long leftAtMs = in.readLong();
      boolean acked = in.readBoolean();
      GoneBatch g = acked
          ? new GoneBatch(idempotencyKey, batchKey, stage, records, sequence, leftAtMs, true,
              in.readInt(), in.readLong(), in.readLong())
          : new GoneBatch(idempotencyKey, batchKey, stage, records, sequence, leftAtMs, false,
              0, 0, 0);
      boolean byIdempotencyKey = in.readBoolean();
      boolean byBatchKey = in.readBoolean();
      s.remembered.restore(g, byIdempotencyKey, byBatchKey);
    }
    if (in.readBoolean()) {
      RunSummary r = Encoding.readRun(in);
      ActiveRun run = new ActiveRun(r.runId(), r.startedAtMs());
      run.batchesProcessed = r.batchesProcessed();
      run.recordsProcessed = r.recordsProcessed();
      run.retriesScheduled = r.retriesScheduled();
      run.deadLettered = r.deadLettered();
      s.activeRun = run;
    }
    int runs = in.readInt();
    for (int i = 0; i < runs; i++) {
      s.completedRuns.addLast(Encoding.readRun(in));
    }
    int audit = in.readInt();
    for (int i = 0; i < audit; i++) {
      OperatorAction action = ActionArgument.parse(Encoding.string(in), Encoding.string(in));
      s.auditLog.addLast(new AuditEntry(action, in.readLong(), Encoding.string(in)));
    }
    if (format >= 3) {
      s.inFlightAllowance = in.readInt();
      s.inFlightRecordsAllowance = in.readLong();
      EventCodec.read(s.events, in);
    }
    return s;
  }

}
