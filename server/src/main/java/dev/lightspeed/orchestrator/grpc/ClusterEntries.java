package dev.lightspeed.orchestrator.grpc;

import dev.lightspeed.orchestrator.core.Command;
import dev.lightspeed.orchestrator.journal.JournalCodec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The bytes a cluster node hands its Raft group, and the group's replica reads back
 * (docs/cluster.md):
 *
 * <ul>
 *   <li>A log entry is one flags byte (bit 0: DeletePipeline's {@code force}, which the journal's
 *       record does not carry) followed by the journal record ({@link JournalCodec}).
 *   <li>A query is one byte saying which read, the pipeline's name, and the API request's bytes;
 *       its reply is the API response's bytes, inside a {@link ReplyCodec} reply.
 * </ul>
 */
public final class ClusterEntries {
  /** Flags bit 0: DeletePipeline with {@code force}. */
  public static final byte FORCE = 1;

  /** The reads a query can ask for (the first byte of a query). */
  public enum Read {
    GET_PIPELINE, GET_STATUS, LIST_BATCHES, LIST_RETRIES, LIST_DEAD_LETTERS, LIST_RUNS,
    LIST_AUDIT_LOG, LIST_PIPELINES
  }

  /** A query as the replica reads it. */
  public record Query(Read read, String pipeline, byte[] request) {}

  private ClusterEntries() {}

  /** A log entry for {@code command} on {@code pipeline}, at the submitter's {@code nowMs}. */
  public static byte[] entry(String pipeline, long nowMs, Command<?> command, byte flags) {
    byte[] record = JournalCodec.encode(pipeline, nowMs, command);
    byte[] entry = new byte[record.length + 1];
    entry[0] = flags;
    System.arraycopy(record, 0, entry, 1, record.length);
    return entry;
  }

  /** A query for {@code read} of {@code pipeline} ("" for none) with the API request's bytes. */
  public static byte[] query(Read read, String pipeline, byte[] request) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(request.length + 32);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(read.ordinal());
      byte[] name = pipeline.getBytes(StandardCharsets.UTF_8);
      out.writeInt(name.length);
      out.write(name);
      out.write(request);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** Reads a query written by {@link #query}. */
  public static Query parseQuery(byte[] query) throws IOException {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(query));
    int read = in.readUnsignedByte();
    if (read >= Read.values().length) {
      throw new IOException("unknown read " + read);
    }
    byte[] name = new byte[in.readInt()];
    in.readFully(name);
    return new Query(Read.values()[read], new String(name, StandardCharsets.UTF_8),
        in.readAllBytes());
  }
}
