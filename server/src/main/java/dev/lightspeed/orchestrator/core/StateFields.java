package dev.lightspeed.orchestrator.core;

import java.io.DataOutput;
import java.io.IOException;

/**
 * Walks a pipeline's fields for both encodings of its state: the snapshot ({@link StateCodec},
 * everything needed to carry on) and, {@code canonical}, the signature ({@link StateSignature},
 * what the state <em>is</em>). One walk, so that a field added to the state is added to both or
 * visibly left out of one here, not forgotten in a second copy.
 *
 * <p>The canonical walk leaves out what does not make two states different: the clock ({@code
 * lastNowMs}), the positions behind page tokens ({@code nextEnqueueSeq}, {@code nextEmitSeq}, each
 * batch's enqueue and emit numbers: there, order alone says them), the {@code version} counter,
 * the in-flight allowances (they change no answer) and the retained events (only the next event
 * id). It writes retry and dead-letter records as lists of their own in emit order, where the
 * snapshot keeps each with its batch. Both orders are fixed by formats already in use (snapshot format 3,
 * signature version 1): StateGoldenTest holds them byte for byte.
 *
 * <p>The remembered batches come between {@link #writeBeforeRemembered} and {@link
 * #writeAfterRemembered}; each encoding writes them its own way (the snapshot in forget order,
 * the signature sorted by key, outside the pipeline's lock).
 */
final class StateFields {
  private StateFields() {}

  /** The spec, the operator state, the stages and the live batches. */
  static void writeBeforeRemembered(PipelineState s, DataOutput out, boolean canonical)
      throws IOException {
    Encoding.writeSpec(s.currentSpec(), out);
    Encoding.string(out, s.baseMode.name());
    out.writeInt(s.effectiveMaxInFlight);
    if (canonical) {
      out.writeLong(s.events.nextEventId());
    } else {
      out.writeLong(s.nextEnqueueSeq);
      out.writeLong(s.nextEmitSeq);
      out.writeLong(s.lastNowMs);
      out.writeLong(s.version);
      out.writeLong(s.lastRunId);
      out.writeLong(s.auditAppended);
    }
    for (StageState stage : s.stages.values()) {
      out.writeBoolean(stage.paused);
      out.writeBoolean(stage.hasSequence);
      out.writeLong(stage.lastSequence);
      out.writeLong(stage.batchesProcessed);
      out.writeLong(stage.recordsProcessed);
    }
    out.writeInt(s.liveByEnqueue.size());
    for (LiveBatch b : s.liveByEnqueue) {
      writeLive(b, out, canonical);
    }
    if (canonical) {
      writeRetriesAndDeadLetters(s, out);
    }
  }

  /** The runs and the audit log; for the snapshot, then the allowances and the events. */
  static void writeAfterRemembered(PipelineState s, DataOutput out, boolean canonical)
      throws IOException {
    if (canonical) {
      out.writeLong(s.lastRunId);
    }
    out.writeBoolean(s.activeRun != null);
    if (s.activeRun != null) {
      Encoding.writeRun(s.activeRun.summary(0), out);
    }
    out.writeInt(s.completedRuns.size());
    for (RunSummary r : s.completedRuns) {
      Encoding.writeRun(r, out);
    }
    if (canonical) {
      out.writeLong(s.auditAppended);
    }
    out.writeInt(s.auditLog.size());
    for (AuditEntry e : s.auditLog) {
      Encoding.string(out, e.action().actionName());
      Encoding.string(out, ActionArgument.of(e.action()));
      out.writeLong(e.atMs());
      Encoding.string(out, e.message());
    }
    if (!canonical) {
      out.writeInt(s.inFlightAllowance);
      out.writeLong(s.inFlightRecordsAllowance);
      EventCodec.write(s.events, out);
    }
  }

  private static void writeLive(LiveBatch b, DataOutput out, boolean canonical)
      throws IOException {
    Encoding.writeBatch(b.batch, out);
    if (!canonical) {
      out.writeLong(b.enqueueSeq);
    }
    Encoding.string(out, b.state.name());
    out.writeInt(b.attempt);
    out.writeLong(b.readyAtMs);
    out.writeLong(b.startedAtMs);
    out.writeLong(b.leaseDeadlineMs);
    out.writeLong(b.failedAtMs);
    if (canonical) {
      return;
    }
    out.writeLong(b.emitSeq);
    out.writeBoolean(b.retry != null);
    if (b.retry != null) {
      Encoding.string(out, b.retry.reason());
      out.writeInt(b.retry.nextAttempt());
      out.writeLong(b.retry.retryAtMs());
    }
    out.writeBoolean(b.deadLetter != null);
    if (b.deadLetter != null) {
      Encoding.string(out, b.deadLetter.destination());
      Encoding.string(out, b.deadLetter.reason());
      out.writeLong(b.deadLetter.atMs());
    }
  }

  /** The signature's retry and dead-letter records, each list in emit order. */
  private static void writeRetriesAndDeadLetters(PipelineState s, DataOutput out)
      throws IOException {
    out.writeInt(s.retryWaiting.size());
    for (LiveBatch b : s.retryWaiting.values()) {
      Encoding.string(out, b.retry.batchKey());
      out.writeInt(b.retry.nextAttempt());
      Encoding.string(out, b.retry.reason());
      out.writeLong(b.retry.retryAtMs());
    }
    out.writeInt(s.deadLettered.size());
    for (LiveBatch b : s.deadLettered.values()) {
      Encoding.string(out, b.deadLetter.batchKey());
      Encoding.string(out, b.deadLetter.destination());
      Encoding.string(out, b.deadLetter.reason());
      out.writeLong(b.deadLetter.atMs());
    }
  }
}
