package dev.lightspeed.orchestrator.host;

import dev.lightspeed.orchestrator.core.Command;
import dev.lightspeed.orchestrator.core.PipelineRuntime;
import dev.lightspeed.orchestrator.core.PipelineSpec;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.journal.CommandLog;
import dev.lightspeed.orchestrator.journal.JournalCodec;
import dev.lightspeed.orchestrator.journal.v1.SnapshotFile;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The pipelines hosted by one server, by name, in name order. Creating and deleting a pipeline
 * are journaled like every other change, under the registry's lock, so that the set of pipelines
 * never changes while {@link #snapshot} copies it.
 *
 * <p>The pipelines themselves are a {@link PipelinesStateMachine}; this registry is the live
 * server's side of it (calls, limits, the journal gate, durability futures). The running
 * server's snapshots do not lock it at all: {@link ShadowSnapshot} builds a state machine of its
 * own from the previous snapshot and the journal, and copies that one.
 */
public final class PipelineRegistry {
  /** The pipelines; its lock is the membership lock (creation, deletion, snapshots). */
  private final PipelinesStateMachine machine;
  private final ConcurrentNavigableMap<String, PipelineHandle> pipelines;
  private final AtomicReference<CommandLog> log;
  /** Refuses every call once the journal failed (see {@link JournalGate}). */
  private final JournalGate gate = new JournalGate();
  /**
   * Completes once the last creation or deletion is durable: ListPipelines, and refusals that
   * say a pipeline exists or not, wait for it.
   */
  private volatile CompletableFuture<Void> membershipSettled = CompletableFuture.completedFuture(null);
  /** Creating one more pipeline than this is TOO_MANY_PIPELINES (recovered ones all stay). */
  private volatile int maxPipelines = Integer.MAX_VALUE;
  private volatile int eventRetention = Limits.DEFAULT_EVENT_RETENTION;

  public PipelineRegistry(CommandLog log) {
    this.log = new AtomicReference<>(log);
    this.machine = new PipelinesStateMachine(this.log);
    this.pipelines = machine.pipelines();
  }

  /** Switches to the journal that recovery opened (it replays into this registry first). */
  public void attach(CommandLog journal) {
    synchronized (machine) {
      log.set(journal);
    }
  }

  public CommandLog log() {
    return log.get();
  }

  public JournalGate gate() {
    return gate;
  }

  /** Completes once the set of pipelines as it is now is durable. */
  CompletableFuture<Void> membershipSettled() {
    return membershipSettled;
  }

  /**
   * Completes once what a call on {@code name} may report is durable: that pipeline's changes, or
   * the creation or deletion that made it (not) exist.
   */
  public CompletableFuture<Void> settled(String name) {
    PipelineHandle handle = name == null ? null : pipelines.get(name);
    return handle == null ? membershipSettled : handle.settled();
  }

  /** Keeps {@code retention} events per pipeline, for the recovered ones and every later one. */
  public void eventRetention(int retention) {
    this.eventRetention = retention;
    machine.eventRetention(retention);
  }

  /** The events kept per pipeline ({@link #eventRetention(int)}). */
  public int eventRetention() {
    return eventRetention;
  }

  public void maxPipelines(int max) {
    this.maxPipelines = max;
  }

  /**
   * Creates a pipeline; INVALID_PIPELINE_SPEC or PIPELINE_EXISTS refuse it. The future completes
   * when the creation is durable.
   */
  public CompletableFuture<Void> create(PipelineSpec spec, long nowMs) {
    synchronized (machine) {
      PipelineRuntime runtime = PipelineRuntime.create(spec);
      runtime.setEventRetention(eventRetention);
      if (pipelines.containsKey(spec.name())) {
        throw Rejection.of(
            ServerReason.PIPELINE_EXISTS,
            "a pipeline named '" + spec.name() + "' already exists; pick another name, or"
                + " DeletePipeline it first");
      }
      if (pipelines.size() >= maxPipelines) {
        throw Rejection.of(
            ServerReason.TOO_MANY_PIPELINES,
            "this server already hosts " + pipelines.size() + " pipelines, the most it allows"
                + " (--max-pipelines); delete one first");
      }
      // the effective spec, every default filled in
      CommandLog.Appended appended = log.get().append(JournalCodec.encode(
          spec.name(), nowMs, new Command.CreatePipeline(runtime.queries().spec())));
      pipelines.put(
          spec.name(), new PipelineHandle(runtime, log, appended.index(), appended.durable()));
      membershipSettled = appended.durable();
      Audit.audit("pipeline_created", spec.name());
      return appended.durable();
    }
  }

  /** Deletes a pipeline; PIPELINE_NOT_FOUND, or PIPELINE_NOT_EMPTY without {@code force}. */
  public CompletableFuture<Void> delete(String name, boolean force, long nowMs) {
    synchronized (machine) {
      PipelineHandle handle = get(name);
      handle.checkDeletable(force);
      CommandLog.Appended appended = log.get().append(
          JournalCodec.encode(name, nowMs, new Command.DeletePipeline()));
      handle.markDeleted();
      pipelines.remove(name, handle);
      membershipSettled = appended.durable();
      Audit.audit("pipeline_deleted", name);
      return appended.durable();
    }
  }

  public boolean exists(String name) {
    return pipelines.containsKey(name);
  }

  /** The pipeline named {@code name}, or PIPELINE_NOT_FOUND. */
  public PipelineHandle get(String name) {
    PipelineHandle handle = pipelines.get(name);
    if (handle == null) {
      throw PipelineHandle.notFound(name);
    }
    return handle;
  }

  /** Up to {@code limit} pipelines with names after {@code after} (null = from the start). */
  public List<PipelineHandle> list(String after, int limit) {
    var tail = after == null ? pipelines : pipelines.tailMap(after, false);
    List<PipelineHandle> out = new ArrayList<>();
    for (PipelineHandle h : tail.values()) {
      if (out.size() == limit) {
        break;
      }
      out.add(h);
    }
    return out;
  }

  public List<PipelineHandle> all() {
    return new ArrayList<>(pipelines.values());
  }

  // ---- durability ----------------------------------------------------------------------------

  /** The pipelines as a state machine over the journal: recovery and snapshots drive it. */
  public PipelinesStateMachine stateMachine() {
    return machine;
  }

  /**
   * Every pipeline's state, each at its own journal index ≥ the log's last index when it starts:
   * the lock keeps the set of pipelines fixed, and each pipeline is locked while it is copied.
   * Calls wait meanwhile, so only a clean shutdown uses this on the live registry.
   */
  public SnapshotFile snapshot() throws IOException {
    synchronized (machine) {
      return machine.snapshot(log.get().lastIndex());
    }
  }
}
