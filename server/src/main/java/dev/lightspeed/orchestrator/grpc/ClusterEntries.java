package dev.lightspeed.orchestrator.grpc;

import dev.lightspeed.orchestrator.core.Command;
import dev.lightspeed.orchestrator.journal.JournalCodec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The bytes a cluster node hands its Raft group, and the group's replica reads back
 * (docs/cluster.md):
 *
 * <ul>
 *   <li>A log entry is one flags byte (bit 0: DeletePipeline's {@code force}, which the journal's
 *       record does not carry) followed by the journal record ({@link JournalCodec}).
 *   <li>Several entries a node had waiting for the same group travel as one log entry: the
 *       flags byte {@link #BATCH}, their count, then each entry's length and bytes; its reply is
 *       the count, then each entry's reply (length and bytes), in the same order
 *       ({@code replication.EntryBatcher}).
 *   <li>A query is one byte saying which read, the pipeline's name, and the API request's bytes;
 *       its reply is the API response's bytes, inside a {@link ReplyCodec} reply.
 * </ul>
 */
public final class ClusterEntries {
  /** Flags bit 0: DeletePipeline with {@code force}. */
  public static final byte FORCE = 1;

  /** The flags byte of a batch of entries (no single entry has this bit). */
  public static final byte BATCH = 2;

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

  /** Whether {@code entry} is a batch of entries ({@link #batch}). */
  public static boolean isBatch(byte[] entry) {
    return entry.length > 0 && (entry[0] & BATCH) != 0;
  }

  /** One log entry carrying {@code entries}, to be applied in this order. */
  public static byte[] batch(List<byte[]> entries) {
    int size = 5;
    for (byte[] e : entries) {
      size += 4 + e.length;
    }
    ByteBuffer out = ByteBuffer.allocate(size);
    out.put(BATCH).putInt(entries.size());
    for (byte[] e : entries) {
      out.putInt(e.length).put(e);
    }
    return out.array();
  }

  /** The entries of a {@link #batch}. */
  public static List<byte[]> parseBatch(byte[] batch) throws IOException {
    return lengthPrefixed(ByteBuffer.wrap(batch, 1, batch.length - 1), "batch");
  }

  /** The reply to a batch: each entry's reply, in the batch's order. */
  public static byte[] replies(List<byte[]> replies) {
    int size = 4;
    for (byte[] r : replies) {
      size += 4 + r.length;
    }
    ByteBuffer out = ByteBuffer.allocate(size);
    out.putInt(replies.size());
    for (byte[] r : replies) {
      out.putInt(r.length).put(r);
    }
    return out.array();
  }

  /** The replies in a batch's reply ({@link #replies}). */
  public static List<byte[]> parseReplies(byte[] replies) throws IOException {
    return lengthPrefixed(ByteBuffer.wrap(replies), "batch reply");
  }

  private static List<byte[]> lengthPrefixed(ByteBuffer in, String what) throws IOException {
    try {
      int count = in.getInt();
      if (count < 0 || count > in.remaining() / 4) {
        throw new IOException(what + " says it holds " + count + " entries in "
            + in.remaining() + " bytes");
      }
      List<byte[]> parts = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        int length = in.getInt();
        if (length < 0 || length > in.remaining()) {
          throw new IOException(what + " entry " + i + " says " + length + " bytes, "
              + in.remaining() + " left");
        }
        byte[] part = new byte[length];
        in.get(part);
        parts.add(part);
      }
      if (in.hasRemaining()) {
        throw new IOException(what + " has " + in.remaining() + " bytes after its entries");
      }
      return parts;
    } catch (BufferUnderflowException e) {
      throw new IOException(what + " is cut short", e);
    }
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
