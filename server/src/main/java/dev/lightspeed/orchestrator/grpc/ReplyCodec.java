package dev.lightspeed.orchestrator.grpc;

import dev.lightspeed.orchestrator.host.ServerReason;
import dev.lightspeed.orchestrator.core.PipelineSpec;
import dev.lightspeed.orchestrator.core.Batch;
import dev.lightspeed.orchestrator.core.Command;
import dev.lightspeed.orchestrator.core.DeadLetterRecord;
import dev.lightspeed.orchestrator.core.ItemResults;
import dev.lightspeed.orchestrator.core.PipelineRuntime;
import dev.lightspeed.orchestrator.core.ProcessOutcome;
import dev.lightspeed.orchestrator.core.ProcessResult;
import dev.lightspeed.orchestrator.core.Reason;
import dev.lightspeed.orchestrator.core.RefusalReason;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.core.RetryRecord;
import dev.lightspeed.orchestrator.core.RunSummary;
import dev.lightspeed.orchestrator.core.StartResult;
import dev.lightspeed.orchestrator.core.StartedBatch;
import dev.lightspeed.orchestrator.journal.JournalCodec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The reply of a replicated apply, as bytes: what a command's apply returned (its typed result, a
 * query's response message) or the {@link Rejection} it was refused with. A cluster node applies
 * a call's command on the pipeline's group leader, possibly another node; this carries the
 * result back to the node that received the call, which maps it to the gRPC reply exactly as one
 * node would (docs/cluster.md, "Replies").
 *
 * <p>Self-describing (a tag per value), so one decoder serves every command's result type. Only
 * the result types of {@link Command} and raw bytes occur. Batches and specs reuse the journal's
 * and the API's own encodings, so a field added to them travels without a change here.
 */
public final class ReplyCodec {
  private ReplyCodec() {}

  /** Encodes an apply's result (a core result value, raw bytes, or null). */
  public static byte[] ok(Object result) {
    return encode(result);
  }

  /** Encodes a refusal. */
  public static byte[] refused(Rejection r) {
    return encode(r);
  }

  static byte[] encode(Object value) {
    Bytes out = new Bytes(64);
    try {
      write(out, value);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a byte array never fails
    }
    return out.toByteArray();
  }

  /** The result; a refusal is returned as the {@link Rejection} (the caller throws it). */
  public static Object decode(byte[] reply) {
    try {
      return read(new Reader(reply));
    } catch (IOException e) {
      throw new IllegalStateException("a cluster reply cannot be read: " + e.getMessage()
          + " (do all nodes run the same version?)", e);
    }
  }

  private static void write(Bytes out, Object v) throws IOException {
    if (v == null) {
      out.writeByte('N');
    } else if (v instanceof Rejection r) {
      out.writeByte('R');
      text(out, r.reason() instanceof Reason ? "core" : "server");
      text(out, ((Enum<?>) r.reason()).name());
      out.writeBoolean(r.field() != null);
      if (r.field() != null) {
        text(out, r.field());
      }
      text(out, r.getMessage());
      out.writeInt(r.metadata().size());
      for (Map.Entry<String, String> e : r.metadata().entrySet()) {
        text(out, e.getKey());
        text(out, e.getValue());
      }
    } else if (v instanceof Boolean b) {
      out.writeByte('Z');
      out.writeBoolean(b);
    } else if (v instanceof Long l) {
      out.writeByte('J');
      out.writeLong(l);
    } else if (v instanceof String s) {
      out.writeByte('S');
      text(out, s);
    } else if (v instanceof byte[] b) {
      out.writeByte('B');
      out.writeInt(b.length);
      out.write(b);
    } else if (v instanceof ItemResults<?> items) {
      out.writeByte('I');
      out.writeInt(items.size());
      for (int i = 0; i < items.size(); i++) {
        write(out, items.refused(i) ? items.refusal(i) : items.value(i));
      }
    } else if (v instanceof ProcessOutcome.Processed p) {
      ProcessResult r = p.result();
      out.writeByte('P');
      text(out, r.batchKey());
      text(out, r.stage());
      out.writeLong(r.records());
      out.writeInt(r.attempt());
      out.writeLong(r.runId());
      out.writeLong(r.startedAtMs());
      out.writeLong(r.completedAtMs());
    } else if (v instanceof ProcessOutcome.RetryScheduled t) {
      RetryRecord r = t.record();
      out.writeByte('T');
      text(out, r.batchKey());
      out.writeInt(r.nextAttempt());
      text(out, r.reason());
      out.writeLong(r.retryAtMs());
    } else if (v instanceof ProcessOutcome.DeadLettered d) {
      DeadLetterRecord r = d.record();
      out.writeByte('D');
      text(out, r.batchKey());
      text(out, r.destination());
      text(out, r.reason());
      out.writeLong(r.atMs());
    } else if (v instanceof ProcessOutcome.FailureRejected f) {
      out.writeByte('F');
      text(out, f.reason());
    } else if (v instanceof RunSummary r) {
      out.writeByte('U');
      out.writeLong(r.runId());
      out.writeLong(r.startedAtMs());
      out.writeLong(r.completedAtMs());
      out.writeLong(r.batchesProcessed());
      out.writeLong(r.recordsProcessed());
      out.writeLong(r.retriesScheduled());
      out.writeLong(r.deadLettered());
    } else if (v instanceof Optional<?> o) {
      out.writeByte('O');
      out.writeBoolean(o.isPresent());
      if (o.isPresent()) {
        write(out, o.get());
      }
    } else if (v instanceof StartResult s) {
      out.writeByte('A');
      List<Batch> batches = new ArrayList<>(s.started().size());
      for (StartedBatch b : s.started()) {
        batches.add(b.batch());
      }
      // the batches in the journal's own encoding (JournalCodecTest checks its round trip)
      byte[] encoded = JournalCodec.encode("", 0, new Command.Enqueue(batches));
      out.writeInt(encoded.length);
      out.write(encoded);
      for (StartedBatch b : s.started()) {
        out.writeInt(b.attempt());
        out.writeLong(b.startedAtMs());
        out.writeLong(b.leaseDeadlineMs());
        out.writeLong(b.runId());
      }
      out.writeInt(s.expired().size());
      for (ProcessOutcome o : s.expired()) {
        write(out, o);
      }
    } else if (v instanceof dev.lightspeed.orchestrator.core.PipelineSpec spec) {
      out.writeByte('Y');
      byte[] b = ProtoMapper.toProto(spec).toByteArray();
      out.writeInt(b.length);
      out.write(b);
    } else if (v instanceof PipelineRuntime.UpdateResult u) {
      out.writeByte('X');
      write(out, u.spec());
      out.writeInt(u.changed().size());
      for (String c : u.changed()) {
        text(out, c);
      }
    } else {
      throw new IllegalArgumentException("no reply encoding for " + v.getClass().getName());
    }
  }

  private static Object read(Reader in) throws IOException {
    int tag = in.readByte();
    switch (tag) {
      case 'N':
        return null;
      case 'R': {
        String kind = text(in);
        String name = text(in);
        RefusalReason reason =
            kind.equals("core") ? Reason.valueOf(name) : ServerReason.valueOf(name);
        String field = in.readBoolean() ? text(in) : null;
        String message = text(in);
        int n = in.readInt();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
          metadata.put(text(in), text(in));
        }
        if (field != null) {
          String prefix = field + ": ";
          return Rejection.ofField(reason, field,
              message.startsWith(prefix) ? message.substring(prefix.length()) : message);
        }
        return metadata.isEmpty()
            ? Rejection.of(reason, message)
            : Rejection.withMetadata(reason, message, metadata);
      }
      case 'Z':
        return in.readBoolean();
      case 'J':
        return in.readLong();
      case 'S':
        return text(in);
      case 'B':
        return bytes(in);
      case 'I': {
        int n = in.readInt();
        List<Object> items = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          items.add(read(in));
        }
        return ItemResults.of(items);
      }
      case 'P':
        return new ProcessOutcome.Processed(new ProcessResult(text(in), text(in), in.readLong(),
            in.readInt(), in.readLong(), in.readLong(), in.readLong()));
      case 'T':
        return new ProcessOutcome.RetryScheduled(
            new RetryRecord(text(in), in.readInt(), text(in), in.readLong()));
      case 'D':
        return new ProcessOutcome.DeadLettered(
            new DeadLetterRecord(text(in), text(in), text(in), in.readLong()));
      case 'F':
        return new ProcessOutcome.FailureRejected(text(in));
      case 'U':
        return new RunSummary(in.readLong(), in.readLong(), in.readLong(), in.readLong(),
            in.readLong(), in.readLong(), in.readLong());
      case 'O':
        return in.readBoolean() ? Optional.ofNullable(read(in)) : Optional.empty();
      case 'A': {
        List<Batch> batches =
            ((Command.Enqueue) JournalCodec.decode(0, bytes(in)).command()).batches();
        List<StartedBatch> started = new ArrayList<>(batches.size());
        for (Batch b : batches) {
          started.add(new StartedBatch(b, in.readInt(), in.readLong(), in.readLong(),
              in.readLong()));
        }
        int n = in.readInt();
        List<ProcessOutcome> expired = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          expired.add((ProcessOutcome) read(in));
        }
        return new StartResult(started, expired);
      }
      case 'Y':
        return ProtoMapper.toCore(
            dev.lightspeed.orchestrator.v1.PipelineSpec.parseFrom(bytes(in)));
      case 'X': {
        var spec = (dev.lightspeed.orchestrator.core.PipelineSpec) read(in);
        int n = in.readInt();
        List<String> changed = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          changed.add(text(in));
        }
        return new PipelineRuntime.UpdateResult(spec, List.copyOf(changed));
      }
      default:
        throw new IOException("unknown reply tag " + tag);
    }
  }

  /** UTF-8 with an int length: writeUTF stops at 64 KiB. */
  private static void text(Bytes out, String s) throws IOException {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.writeInt(b.length);
    out.write(b);
  }

  private static String text(Reader in) throws IOException {
    return new String(bytes(in), StandardCharsets.UTF_8);
  }

  private static byte[] bytes(Reader in) throws IOException {
    return in.readBytes(in.readInt());
  }

  /**
   * The bytes of a reply being written, in DataOutputStream's format (big-endian), without its
   * per-call stream layers and locks: a leader encodes one reply per apply, and encoding through
   * DataOutputStream over ByteArrayOutputStream was about 5 % of a leader's CPU under the bulk
   * benchmark (round 16's profiles).
   */
  private static final class Bytes {
    private byte[] buf;
    private int size;

    Bytes(int capacity) {
      buf = new byte[capacity];
    }

    private void room(int n) {
      if (size + n > buf.length) {
        buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, size + n));
      }
    }

    void writeByte(int v) {
      room(1);
      buf[size++] = (byte) v;
    }

    void writeBoolean(boolean v) {
      writeByte(v ? 1 : 0);
    }

    void writeInt(int v) {
      room(4);
      buf[size++] = (byte) (v >>> 24);
      buf[size++] = (byte) (v >>> 16);
      buf[size++] = (byte) (v >>> 8);
      buf[size++] = (byte) v;
    }

    void writeLong(long v) {
      writeInt((int) (v >>> 32));
      writeInt((int) v);
    }

    void write(byte[] b) {
      room(b.length);
      System.arraycopy(b, 0, buf, size, b.length);
      size += b.length;
    }

    byte[] toByteArray() {
      return java.util.Arrays.copyOf(buf, size);
    }
  }

  /** Reads what {@link Bytes} wrote (DataInputStream's format), without its stream layers. */
  private static final class Reader {
    private final java.nio.ByteBuffer buf;

    Reader(byte[] bytes) {
      buf = java.nio.ByteBuffer.wrap(bytes); // big-endian, as written
    }

    private void need(int n) throws java.io.EOFException {
      if (buf.remaining() < n) {
        throw new java.io.EOFException("the reply ends " + (n - buf.remaining())
            + " bytes early at offset " + buf.position());
      }
    }

    byte readByte() throws java.io.EOFException {
      need(1);
      return buf.get();
    }

    boolean readBoolean() throws java.io.EOFException {
      return readByte() != 0;
    }

    int readInt() throws java.io.EOFException {
      need(4);
      return buf.getInt();
    }

    long readLong() throws java.io.EOFException {
      need(8);
      return buf.getLong();
    }

    /** {@code n} bytes; a length the reply cannot hold is refused before anything is allocated. */
    byte[] readBytes(int n) throws IOException {
      if (n < 0) {
        throw new IOException("a length of " + n + " at offset " + (buf.position() - 4));
      }
      need(n);
      byte[] b = new byte[n];
      buf.get(b);
      return b;
    }
  }
}
