package dev.lightspeed.orchestrator.replication;

import dev.lightspeed.orchestrator.cluster.ReplicatedState;
import dev.lightspeed.orchestrator.v1.GetPipelineResponse;
import dev.lightspeed.orchestrator.v1.ListAuditLogRequest;
import dev.lightspeed.orchestrator.v1.ListBatchesRequest;
import dev.lightspeed.orchestrator.v1.ListDeadLettersRequest;
import dev.lightspeed.orchestrator.v1.ListPipelinesRequest;
import dev.lightspeed.orchestrator.v1.ListRetriesRequest;
import dev.lightspeed.orchestrator.v1.ListRunsRequest;
import dev.lightspeed.orchestrator.host.PipelineRegistry;
import dev.lightspeed.orchestrator.host.Limits;
import dev.lightspeed.orchestrator.host.ServerReason;
import dev.lightspeed.orchestrator.host.PipelineHandle;
import dev.lightspeed.orchestrator.grpc.ClusterEntries;
import dev.lightspeed.orchestrator.grpc.Reads;
import dev.lightspeed.orchestrator.grpc.ReplyCodec;
import dev.lightspeed.orchestrator.core.Command;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.journal.InMemoryCommandLog;
import dev.lightspeed.orchestrator.metrics.DomainMetrics;
import dev.lightspeed.orchestrator.journal.JournalCodec;
import dev.lightspeed.orchestrator.journal.v1.SnapshotFile;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

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
 * <p>Entries and queries are in {@link ClusterEntries}' format.
 */
public final class GroupState implements ReplicatedState {
  private final Limits limits;
  /** Replaced as a whole by {@link #restore}; Ratis never applies while it restores. */
  private volatile PipelineRegistry registry;
  /** Written by Ratis' apply thread; read by the Work streams' dispatchers (volatile). */
  private volatile long lastApplied;

  /**
   * The domain counters this replica counts as it applies (docs/operations.md, "Cluster
   * metrics"); they do nothing until the node's server turns metrics on.
   */
  private final java.util.function.Supplier<DomainMetrics> metrics;

  public GroupState(Limits limits) {
    this(limits, () -> null);
  }

  /** A replica whose applies count into {@code metrics} (its value may be null: off). */
  public GroupState(Limits limits, java.util.function.Supplier<DomainMetrics> metrics) {
    this.limits = limits;
    this.metrics = metrics;
    this.registry = freshRegistry();
  }

  private PipelineRegistry freshRegistry() {
    PipelineRegistry r = new PipelineRegistry(new InMemoryCommandLog());
    r.maxPipelines(limits.maxPipelines());
    r.eventRetention(limits.eventRetention());
    return r;
  }

  /** The pipelines as this replica has applied them (its watch streams are fed from them). */
  public PipelineRegistry registry() {
    return registry;
  }

  @Override
  public byte[] apply(long index, byte[] command) {
    return applyDeferringReply(index, command).get();
  }

  /**
   * Applies now; encodes the reply only when it is read (on a follower, normally never). The
   * results the supplier encodes are the core's immutable records, which nothing changes after
   * the apply returns them.
   */
  @Override
  public Supplier<byte[]> applyDeferringReply(long index, byte[] command) {
    lastApplied = index; // a refused command is applied too: it changed nothing
    if (!ClusterEntries.isBatch(command)) {
      return applyOne(index, command);
    }
    List<byte[]> entries;
    try {
      entries = ClusterEntries.parseBatch(command);
    } catch (IOException e) {
      // Refused as a whole on every replica: one reply, which the sending node gives every call
      // of the batch (EntryBatcher).
      Rejection refused = Rejection.of(ServerReason.MALFORMED_REQUEST,
          "the cluster cannot read this batch of commands: " + e.getMessage()
              + " (do all nodes run the same version?)");
      return () -> ClusterEntries.replies(List.of(ReplyCodec.refused(refused)));
    }
    List<Supplier<byte[]>> replies = new ArrayList<>(entries.size());
    for (byte[] entry : entries) {
      replies.add(applyOne(index, entry));
    }
    return () -> {
      List<byte[]> encoded = new ArrayList<>(replies.size());
      for (Supplier<byte[]> reply : replies) {
        encoded.add(reply.get());
      }
      return ClusterEntries.replies(encoded);
    };
  }

  /** One command, applied at {@code index} (a batch's entries share their batch's index). */
  private Supplier<byte[]> applyOne(long index, byte[] command) {
    JournalCodec.Entry entry;
    try {
      entry = JournalCodec.decode(index, Arrays.copyOfRange(command, 1, command.length));
    } catch (IOException e) {
      // The same bytes fail the same way on every replica: answered, the state unchanged.
      Rejection refused = Rejection.of(ServerReason.MALFORMED_REQUEST,
          "the cluster cannot read this command: " + e.getMessage()
              + " (do all nodes run the same version?)");
      return () -> ReplyCodec.refused(refused);
    }
    try {
      Object result = run(entry, (command[0] & ClusterEntries.FORCE) != 0);
      return () -> ReplyCodec.ok(result);
    } catch (Rejection r) {
      return () -> ReplyCodec.refused(r);
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
      DomainMetrics counters = metrics.get();
      if (counters != null) {
        counters.deleted(name);
      }
      return null;
    }
    Object result = registry.get(name).execute(entry.command(), now).result();
    DomainMetrics counters = metrics.get();
    if (counters != null) {
      counters.applied(name, entry.command(), result);
    }
    return result;
  }

  @Override
  public byte[] query(byte[] request) {
    try {
      ClusterEntries.Query q = ClusterEntries.parseQuery(request);
      return ReplyCodec.ok(read(q.read(), q.pipeline(), q.request()).toByteArray());
    } catch (Rejection r) {
      return ReplyCodec.refused(r);
    } catch (IOException e) {
      return ReplyCodec.refused(Rejection.of(ServerReason.MALFORMED_REQUEST,
          "the cluster cannot read this query: " + e.getMessage()));
    }
  }

  /**
   * GetStatus in two steps, as on one server: the draft under the adapter's lock, the signature
   * (O(remembered batches)) after it, while this replica goes on applying; other reads whole.
   */
  @Override
  public java.util.function.Supplier<byte[]> prepareQuery(byte[] request) {
    ClusterEntries.Query q;
    try {
      q = ClusterEntries.parseQuery(request);
    } catch (IOException e) {
      byte[] refused = query(request);
      return () -> refused;
    }
    if (q.read() != ClusterEntries.Read.GET_STATUS) {
      byte[] reply = query(request);
      return () -> reply;
    }
    PipelineHandle handle;
    dev.lightspeed.orchestrator.core.StatusDraft draft;
    try {
      handle = registry.get(q.pipeline());
      draft = Reads.statusDraft(handle);
    } catch (Rejection r) {
      byte[] refused = ReplyCodec.refused(r);
      return () -> refused;
    }
    return () -> ReplyCodec.ok(Reads.finishStatus(handle, draft).toByteArray());
  }

  private com.google.protobuf.MessageLite read(ClusterEntries.Read read, String pipeline, byte[] body)
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

  /** The signature of this replica, its number of pipelines and whether all are valid. */
  public record Summary(String signature, int pipelines, boolean valid) {}

  /**
   * SHA-256 over the pipelines in name order, each its name and its GetStatus signature (each
   * followed by a newline): replicas that applied the same entries have equal summaries. In two
   * steps, as GetStatus: call this under the state machine's lock (no apply changes the registry
   * meanwhile); it takes each pipeline's status draft, and the returned supplier computes the
   * signatures after the lock is released (O(remembered batches) each: seconds on a large
   * group, during which applies used to wait).
   */
  public java.util.function.Supplier<Summary> summaryInTwoSteps() {
    java.util.List<PipelineHandle> handles = new java.util.ArrayList<>(registry.all());
    handles.sort(java.util.Comparator.comparing(PipelineHandle::name));
    java.util.List<dev.lightspeed.orchestrator.core.StatusDraft> drafts =
        new java.util.ArrayList<>(handles.size());
    for (PipelineHandle h : handles) {
      drafts.add(Reads.statusDraft(h));
    }
    return () -> {
      java.security.MessageDigest sha;
      try {
        sha = java.security.MessageDigest.getInstance("SHA-256");
      } catch (java.security.NoSuchAlgorithmException e) {
        throw new IllegalStateException("every Java has SHA-256", e);
      }
      boolean valid = true;
      for (int i = 0; i < handles.size(); i++) {
        PipelineHandle h = handles.get(i);
        dev.lightspeed.orchestrator.v1.GetStatusResponse status =
            Reads.finishStatus(h, drafts.get(i));
        valid &= status.getValid();
        sha.update((h.name() + "\n" + status.getSignature() + "\n")
            .getBytes(java.nio.charset.StandardCharsets.UTF_8));
      }
      return new Summary(java.util.HexFormat.of().formatHex(sha.digest()), handles.size(), valid);
    };
  }

  /** {@link #summaryInTwoSteps} in one (under the caller's lock throughout). */
  public Summary summary() {
    return summaryInTwoSteps().get();
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
