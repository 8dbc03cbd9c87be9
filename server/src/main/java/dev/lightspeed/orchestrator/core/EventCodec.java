package dev.lightspeed.orchestrator.core;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The event log in a snapshot (part of {@link StateCodec} format 3): the next event id, then the
 * retained events oldest first, each as id, at_ms, type name and its payload's fields. So the
 * retained events survive a restart and a kill -9 (the journal before a snapshot is dropped).
 */
final class EventCodec {
  private EventCodec() {}

  static void write(EventLog log, DataOutput out) throws IOException {
    out.writeLong(log.nextEventId());
    out.writeInt(log.size());
    for (Event e : log.retained()) {
      out.writeLong(e.eventId());
      out.writeLong(e.atMs());
      Encoding.string(out, e.type().name());
      writePayload(e.type(), e.payload(), out);
    }
  }

  static void read(EventLog log, DataInput in) throws IOException {
    long next = in.readLong();
    int n = in.readInt();
    if (n < 0) {
      throw new IOException("corrupt pipeline snapshot: " + n + " events");
    }
    List<Event> events = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      long id = in.readLong();
      long at = in.readLong();
      EventType type = EventType.valueOf(Encoding.string(in));
      events.add(new Event(id, at, type, readPayload(type, in)));
    }
    log.restore(next, events);
  }

  private static void writePayload(EventType type, Object p, DataOutput out) throws IOException {
    switch (type) {
      case ENQUEUED -> Encoding.writeBatch((Batch) p, out);
      case STARTED -> {
        StartedBatch s = (StartedBatch) p;
        Encoding.writeBatch(s.batch(), out);
        out.writeInt(s.attempt());
        out.writeLong(s.startedAtMs());
        out.writeLong(s.leaseDeadlineMs());
        out.writeLong(s.runId());
      }
      case LEASE_EXPIRED -> {
        LeaseExpired l = (LeaseExpired) p;
        Encoding.string(out, l.key());
        out.writeInt(l.attempt());
      }
      case ACKED -> {
        ProcessResult r = (ProcessResult) p;
        Encoding.string(out, r.batchKey());
        Encoding.string(out, r.stage());
        out.writeLong(r.records());
        out.writeInt(r.attempt());
        out.writeLong(r.runId());
        out.writeLong(r.startedAtMs());
        out.writeLong(r.completedAtMs());
      }
      case RETRY_SCHEDULED -> {
        RetryRecord r = (RetryRecord) p;
        Encoding.string(out, r.batchKey());
        out.writeInt(r.nextAttempt());
        Encoding.string(out, r.reason());
        out.writeLong(r.retryAtMs());
      }
      case DEAD_LETTERED -> {
        DeadLetterRecord d = (DeadLetterRecord) p;
        Encoding.string(out, d.batchKey());
        Encoding.string(out, d.destination());
        Encoding.string(out, d.reason());
        out.writeLong(d.atMs());
      }
      case ACTION_APPLIED -> {
        AuditEntry a = (AuditEntry) p;
        Encoding.string(out, a.action().actionName());
        Encoding.string(out, ActionArgument.of(a.action()));
        out.writeLong(a.atMs());
        Encoding.string(out, a.message());
      }
      case RUN_STARTED, RUN_COMPLETED -> Encoding.writeRun((RunSummary) p, out);
    }
  }

  private static Object readPayload(EventType type, DataInput in) throws IOException {
    return switch (type) {
      case ENQUEUED -> Encoding.readBatch(in);
      case STARTED ->
          new StartedBatch(
              Encoding.readBatch(in), in.readInt(), in.readLong(), in.readLong(), in.readLong());
      case LEASE_EXPIRED -> new LeaseExpired(Encoding.string(in), in.readInt());
      case ACKED ->
          new ProcessResult(
              Encoding.string(in), Encoding.string(in), in.readLong(), in.readInt(),
              in.readLong(), in.readLong(), in.readLong());
      case RETRY_SCHEDULED ->
          new RetryRecord(Encoding.string(in), in.readInt(), Encoding.string(in), in.readLong());
      case DEAD_LETTERED ->
          new DeadLetterRecord(
              Encoding.string(in), Encoding.string(in), Encoding.string(in), in.readLong());
      case ACTION_APPLIED ->
          new AuditEntry(
              ActionArgument.parse(Encoding.string(in), Encoding.string(in)), in.readLong(),
              Encoding.string(in));
      case RUN_STARTED, RUN_COMPLETED -> Encoding.readRun(in);
    };
  }
}
