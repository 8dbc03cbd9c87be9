package dev.lightspeed.orchestrator.core;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The primitives shared by the snapshot encoding ({@link StateCodec}) and the signature's
 * canonical encoding ({@link StateSignature}): big-endian {@link DataOutput} numbers, a boolean
 * as one byte, a string as an int UTF-8 byte length and its bytes ({@code writeUTF} stops at 64
 * KiB), a list as an int count and its items, and the spec, batch and run records field by field.
 */
final class Encoding {
  private Encoding() {}

  static void writeSpec(PipelineSpec spec, DataOutput out) throws IOException {
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

  static PipelineSpec readSpec(DataInput in) throws IOException {
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

  static void writeBatch(Batch b, DataOutput out) throws IOException {
    string(out, b.key());
    string(out, b.stage());
    out.writeLong(b.records());
    out.writeLong(b.lagMs());
    string(out, b.idempotencyKey());
    out.writeLong(b.sequence());
  }

  static Batch readBatch(DataInput in) throws IOException {
    return new Batch(string(in), string(in), in.readLong(), in.readLong(), string(in), in.readLong());
  }

  static void writeRun(RunSummary r, DataOutput out) throws IOException {
    out.writeLong(r.runId());
    out.writeLong(r.startedAtMs());
    out.writeLong(r.completedAtMs());
    out.writeLong(r.batchesProcessed());
    out.writeLong(r.recordsProcessed());
    out.writeLong(r.retriesScheduled());
    out.writeLong(r.deadLettered());
  }

  static RunSummary readRun(DataInput in) throws IOException {
    return new RunSummary(
        in.readLong(), in.readLong(), in.readLong(), in.readLong(), in.readLong(), in.readLong(),
        in.readLong());
  }

  static void string(DataOutput out, String s) throws IOException {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    out.writeInt(bytes.length);
    out.write(bytes);
  }

  static String string(DataInput in) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > 64 << 20) {
      throw new IOException("corrupt pipeline snapshot: string of " + n + " bytes");
    }
    byte[] bytes = new byte[n];
    in.readFully(bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
