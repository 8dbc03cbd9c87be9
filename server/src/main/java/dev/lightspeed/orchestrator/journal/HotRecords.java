package dev.lightspeed.orchestrator.journal;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import dev.lightspeed.orchestrator.core.Batch;
import dev.lightspeed.orchestrator.core.Command;
import dev.lightspeed.orchestrator.journal.v1.Ack;
import dev.lightspeed.orchestrator.journal.v1.AckItem;
import dev.lightspeed.orchestrator.journal.v1.Enqueue;
import java.io.IOException;
import java.util.List;

/**
 * The journal records of Enqueue and Ack, the bulk commands on the hot path, written straight from
 * the core's values with a {@link CodedOutputStream}: the size is counted first, then the bytes
 * are written into an array of exactly that size, and no message is built per item. They are
 * exactly the bytes the generated {@code journal.v1} messages would be (JournalCodecTest checks
 * it), so {@link JournalCodec#decode} reads them with the generated parser.
 */
final class HotRecords {
  private HotRecords() {}

  // The field numbers of the hand-written records, from the generated messages.
  private static final int PIPELINE =
      dev.lightspeed.orchestrator.journal.v1.Command.PIPELINE_FIELD_NUMBER;
  private static final int NOW_MS =
      dev.lightspeed.orchestrator.journal.v1.Command.NOW_MS_FIELD_NUMBER;
  private static final int RECORD_VERSION =
      dev.lightspeed.orchestrator.journal.v1.Command.VERSION_FIELD_NUMBER;
  private static final int BATCH_KEY =
      dev.lightspeed.orchestrator.journal.v1.Batch.KEY_FIELD_NUMBER;
  private static final int BATCH_STAGE =
      dev.lightspeed.orchestrator.journal.v1.Batch.STAGE_FIELD_NUMBER;
  private static final int BATCH_RECORDS =
      dev.lightspeed.orchestrator.journal.v1.Batch.RECORDS_FIELD_NUMBER;
  private static final int BATCH_LAG_MS =
      dev.lightspeed.orchestrator.journal.v1.Batch.LAG_MS_FIELD_NUMBER;
  private static final int BATCH_IDEMPOTENCY_KEY =
      dev.lightspeed.orchestrator.journal.v1.Batch.IDEMPOTENCY_KEY_FIELD_NUMBER;
  private static final int BATCH_SEQUENCE =
      dev.lightspeed.orchestrator.journal.v1.Batch.SEQUENCE_FIELD_NUMBER;
  private static final int ACK_KEY = AckItem.KEY_FIELD_NUMBER;
  private static final int ACK_ATTEMPT = AckItem.ATTEMPT_FIELD_NUMBER;

  private static int headerSize(String pipeline, long nowMs) {
    int size = CodedOutputStream.computeInt32Size(RECORD_VERSION, JournalCodec.VERSION);
    if (!pipeline.isEmpty()) {
      size += CodedOutputStream.computeStringSize(PIPELINE, pipeline);
    }
    if (nowMs != 0) {
      size += CodedOutputStream.computeInt64Size(NOW_MS, nowMs);
    }
    return size;
  }

  private static void writeHeader(CodedOutputStream out, String pipeline, long nowMs)
      throws IOException {
    if (!pipeline.isEmpty()) {
      out.writeString(PIPELINE, pipeline);
    }
    if (nowMs != 0) {
      out.writeInt64(NOW_MS, nowMs);
    }
    out.writeInt32(RECORD_VERSION, JournalCodec.VERSION);
  }

  static byte[] enqueue(String pipeline, long nowMs, List<Batch> batches) {
    int n = batches.size();
    int[] sizes = new int[n];
    int body = 0;
    for (int i = 0; i < n; i++) {
      sizes[i] = batchSize(batches.get(i));
      body += CodedOutputStream.computeTagSize(Enqueue.BATCHES_FIELD_NUMBER)
          + CodedOutputStream.computeUInt32SizeNoTag(sizes[i]) + sizes[i];
    }
    int field = dev.lightspeed.orchestrator.journal.v1.Command.ENQUEUE_FIELD_NUMBER;
    byte[] bytes = new byte[headerSize(pipeline, nowMs) + CodedOutputStream.computeTagSize(field)
        + CodedOutputStream.computeUInt32SizeNoTag(body) + body];
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    try {
      writeHeader(out, pipeline, nowMs);
      out.writeTag(field, WireFormat.WIRETYPE_LENGTH_DELIMITED);
      out.writeUInt32NoTag(body);
      for (int i = 0; i < n; i++) {
        Batch b = batches.get(i);
        out.writeTag(Enqueue.BATCHES_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        out.writeUInt32NoTag(sizes[i]);
        writeString(out, BATCH_KEY, b.key());
        writeString(out, BATCH_STAGE, b.stage());
        writeInt64(out, BATCH_RECORDS, b.records());
        writeInt64(out, BATCH_LAG_MS, b.lagMs());
        writeString(out, BATCH_IDEMPOTENCY_KEY, b.idempotencyKey());
        writeInt64(out, BATCH_SEQUENCE, b.sequence());
      }
      out.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new IllegalStateException("journal record size miscounted", e);
    }
    return bytes;
  }

  private static int batchSize(Batch b) {
    return stringSize(BATCH_KEY, b.key()) + stringSize(BATCH_STAGE, b.stage())
        + int64Size(BATCH_RECORDS, b.records()) + int64Size(BATCH_LAG_MS, b.lagMs())
        + stringSize(BATCH_IDEMPOTENCY_KEY, b.idempotencyKey())
        + int64Size(BATCH_SEQUENCE, b.sequence());
  }

  static byte[] ack(String pipeline, long nowMs, Command.Ack ack) {
    int n = ack.size();
    int[] sizes = new int[n];
    int body = 0;
    for (int i = 0; i < n; i++) {
      sizes[i] = stringSize(ACK_KEY, ack.keys()[i]) + int32Size(ACK_ATTEMPT, ack.attempts()[i]);
      body += CodedOutputStream.computeTagSize(Ack.ITEMS_FIELD_NUMBER)
          + CodedOutputStream.computeUInt32SizeNoTag(sizes[i]) + sizes[i];
    }
    int field = dev.lightspeed.orchestrator.journal.v1.Command.ACK_FIELD_NUMBER;
    byte[] bytes = new byte[headerSize(pipeline, nowMs) + CodedOutputStream.computeTagSize(field)
        + CodedOutputStream.computeUInt32SizeNoTag(body) + body];
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    try {
      writeHeader(out, pipeline, nowMs);
      out.writeTag(field, WireFormat.WIRETYPE_LENGTH_DELIMITED);
      out.writeUInt32NoTag(body);
      for (int i = 0; i < n; i++) {
        out.writeTag(Ack.ITEMS_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        out.writeUInt32NoTag(sizes[i]);
        writeString(out, ACK_KEY, ack.keys()[i]);
        if (ack.attempts()[i] != 0) {
          out.writeInt32(ACK_ATTEMPT, ack.attempts()[i]);
        }
      }
      out.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new IllegalStateException("journal record size miscounted", e);
    }
    return bytes;
  }

  // proto3 leaves fields at their default out of the encoding; so do these.

  private static int stringSize(int field, String value) {
    return value.isEmpty() ? 0 : CodedOutputStream.computeStringSize(field, value);
  }

  private static int int64Size(int field, long value) {
    return value == 0 ? 0 : CodedOutputStream.computeInt64Size(field, value);
  }

  private static int int32Size(int field, int value) {
    return value == 0 ? 0 : CodedOutputStream.computeInt32Size(field, value);
  }

  private static void writeString(CodedOutputStream out, int field, String value)
      throws IOException {
    if (!value.isEmpty()) {
      out.writeString(field, value);
    }
  }

  private static void writeInt64(CodedOutputStream out, int field, long value)
      throws IOException {
    if (value != 0) {
      out.writeInt64(field, value);
    }
  }
}
