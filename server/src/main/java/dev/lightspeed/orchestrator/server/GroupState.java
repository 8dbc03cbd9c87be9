package dev.lightspeed.orchestrator.server;

import dev.lightspeed.orchestrator.cluster.ReplicatedState;
import dev.lightspeed.orchestrator.core.Command;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.journal.InMemoryCommandLog;
import dev.lightspeed.orchestrator.journal.JournalCodec;
import dev.lightspeed.orchestrator.journal.v1.SnapshotFile;
import dev.lightspeed.orchestrator.v1.GetPipelineResponse;
import dev.lightspeed.orchestrator.v1.ListAuditLogRequest;
import dev.lightspeed.orchestrator.v1.ListBatchesRequest;
import dev.lightspeed.orchestrator.v1.ListDeadLettersRequest;
import dev.lightspeed.orchestrator.v1.ListPipelinesRequest;
import dev.lightspeed.orchestrator.v1.ListRetriesRequest;
import dev.lightspeed.orchestrator.v1.ListRunsRequest;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The pipelines of one Raft group on one node: the server's own registry and handles, driven by
 * Raft's committed log instead of by calls (log, then apply). Every replica applies every command
 * at its index with the submitter's {@code now_ms}, through the same {@link PipelineHandle#execute}
 * a single server runs, so a refusal is decided here, identically on every replica, and answered
 * from the apply: the leader's reply ({@link ReplyCodec}) reaches the node that took the call.
 *
 * <p>The handles journal into an in-memory log that keeps nothing: the Raft log is the journal.
 * Snapshots are the data directory's snapshot format ({@link SnapshotFile}).
 *
 * <p>A log entry is one flags byte (bit 0: DeletePipeline's {@code force}, which the journal's
 * record does not carry) followed by the journal record ({@link JournalCodec}). A query is one
 * byte saying which read, the pipeline's name, and the API request's bytes; its reply is the API
 * response's bytes.
 */
public final class GroupState implements ReplicatedState {
  static final byte FORCE = 1;

  /** The reads a query can ask for (the first byte of a query). */
  enum Read {
    GET_PIPELINE, GET_STATUS, LIST_BATCHES, LIST_RETRIES, LIST_DEAD_LETTERS, LIST_RUNS,
    LIST_AUDIT_LOG, LIST_PIPELINES
  }

  private final Limits limits;
  /** Replaced as a whole by {@link #restore}; Ratis never applies while it restores. */
  private volatile PipelineRegistry registry;
  private long lastApplied;

  public GroupState(Limits limits) {
    this.limits = limits;
    this.registry = freshRegistry();
  }

  private PipelineRegistry freshRegistry() {
    PipelineRegistry r = new PipelineRegistry(new InMemoryCommandLog());
    r.maxPipelines(limits.maxPipelines());
    r.eventRetention(limits.eventRetention());
    return r;
  }

  /** The pipelines as this replica has applied them (tests, WatchStarted later). */
  PipelineRegistry registry() {
    return registry;
  }

  /** A log entry for {@code command} on {@code pipeline}, at the submitter's {@code nowMs}. */
  static byte[] entry(String pipeline, long nowMs, Command<?> command, byte flags) {
    byte[] record = JournalCodec.encode(pipeline, nowMs, command);
    byte[] entry = new byte[record.length + 1];
    entry[0] = flags;
    System.arraycopy(record, 0, entry, 1, record.length);
    return entry;
  }

  /** A query for {@code read} of {@code pipeline} ("" for none) with the API request's bytes. */
  static byte[] query(Read read, String pipeline, byte[] request) {
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

  @Override
  public byte[] apply(long index, byte[] command) {
    lastApplied = index; // a refused command is applied too: it changed nothing
    JournalCodec.Entry entry;
    try {
      entry = JournalCodec.decode(index, Arrays.copyOfRange(command, 1, command.length));
    } catch (IOException e) {
      // The same bytes fail the same way on every replica: answered, the state unchanged.
      return ReplyCodec.refused(Rejection.of(ServerReason.MALFORMED_REQUEST,
          "the cluster cannot read this command: " + e.getMessage()
              + " (do all nodes run the same version?)"));
    }
    try {
      return ReplyCodec.ok(run(entry, (command[0] & FORCE) != 0));
    } catch (Rejection r) {
      return ReplyCodec.refused(r);
    }
  }

  private Object run(JournalCodec.Entry entry, boolean force) {
    String name = entry.pipeline();
    long now = entry.nowMs();
    if (entry.command() instanceof Command.CreatePipeline create) {
      registry.create(create.spec(), now);
      return registry.get(name).read(q -> q.spec()); // the effective spec, for the reply
    }
    if (entry.command() instanceof Command.DeletePipeline) {
      registry.delete(name, force, now);
      return null;
    }
    return registry.get(name).execute(entry.command(), now).result();
  }

  @Override
  public byte[] query(byte[] request) {
    try {
      DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(request));
      Read read = Read.values()[in.readUnsignedByte()];
      byte[] name = new byte[in.readInt()];
      in.readFully(name);
      String pipeline = new String(name, StandardCharsets.UTF_8);
      byte[] body = in.readAllBytes();
      return ReplyCodec.ok(read(read, pipeline, body).toByteArray());
    } catch (Rejection r) {
      return ReplyCodec.refused(r);
    } catch (IOException e) {
      return ReplyCodec.refused(Rejection.of(ServerReason.MALFORMED_REQUEST,
          "the cluster cannot read this query: " + e.getMessage()));
    }
  }

  private com.google.protobuf.MessageLite read(Read read, String pipeline, byte[] body)
      throws IOException {
    PipelineRegistry r = registry;
    return switch (read) {
      case GET_PIPELINE -> GetPipelineResponse.newBuilder()
          .setPipeline(Reads.effectiveSpec(r.get(pipeline))).build();
      case GET_STATUS -> Reads.getStatus(r.get(pipeline));
      case LIST_BATCHES -> Reads.listBatches(r.get(pipeline), ListBatchesRequest.parseFrom(body));
      case LIST_RETRIES -> Reads.listRetries(r.get(pipeline), ListRetriesRequest.parseFrom(body));
      case LIST_DEAD_LETTERS ->
          Reads.listDeadLetters(r.get(pipeline), ListDeadLettersRequest.parseFrom(body));
      case LIST_RUNS -> Reads.listRuns(r.get(pipeline), ListRunsRequest.parseFrom(body));
      case LIST_AUDIT_LOG ->
          Reads.listAuditLog(r.get(pipeline), ListAuditLogRequest.parseFrom(body));
      case LIST_PIPELINES -> Reads.listPipelines(r, ListPipelinesRequest.parseFrom(body));
    };
  }

  @Override
  public long lastAppliedIndex() {
    return lastApplied;
  }

  @Override
  public void snapshot(OutputStream out) throws IOException {
    registry.stateMachine().snapshot(lastApplied).writeTo(out);
  }

  @Override
  public void restore(InputStream in) throws IOException {
    SnapshotFile file = SnapshotFile.parseFrom(in);
    PipelineRegistry restored = freshRegistry();
    restored.stateMachine().restore(file);
    restored.eventRetention(limits.eventRetention());
    PipelineRegistry replaced = registry;
    registry = restored;
    // The watchers of the replaced pipelines would never hear of them again: end them, saying so.
    for (PipelineHandle h : replaced.all()) {
      h.closeWatchers(io.grpc.Status.UNAVAILABLE.withDescription("this node's replica of"
              + " pipeline '" + h.name() + "' was replaced by a snapshot from its group's"
              + " leader; watch again (WatchEvents: after the last event id you received)")
          .asRuntimeException());
    }
    lastApplied = file.getFloorIndex();
  }
}
