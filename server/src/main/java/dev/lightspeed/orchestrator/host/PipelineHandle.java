package dev.lightspeed.orchestrator.host;

import com.google.common.util.concurrent.MoreExecutors;
import dev.lightspeed.orchestrator.core.Command;
import dev.lightspeed.orchestrator.core.PipelineQueries;
import dev.lightspeed.orchestrator.core.PipelineRuntime;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.core.StartResult;
import dev.lightspeed.orchestrator.core.StartedBatch;
import dev.lightspeed.orchestrator.journal.CommandLog;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * One hosted pipeline: its runtime, the lock that applies its calls one at a time, the journal
 * its changes go to, and its WatchStarted streams. Calls on different pipelines never share a
 * lock.
 */
public final class PipelineHandle {
  private static final CompletableFuture<Void> DURABLE = CompletableFuture.completedFuture(null);

  /** A command's typed result, and when it is durable (reply only then). */
  public record Executed<R>(R result, CompletableFuture<Void> durable) {}

  private final PipelineRuntime runtime;
  /** Shared with the registry, which swaps in the recovered journal once replay is done. */
  private final AtomicReference<CommandLog> log;
  private final List<StartedListener> watchers = new CopyOnWriteArrayList<>();
  /** The WatchEvents streams (SPEC 3.10). */
  private final EventWatches eventWatches = new EventWatches();
  /**
   * Hands started batches to the watchers, one command after another in start order, on the
   * watchers' drain threads: the durability future completes on the journal's writer thread,
   * whose next fsync should not wait for a fan-out to every watcher. Set with the first
   * watcher; guarded by {@code this}.
   */
  private Executor publisher;
  /** The journal index of the last command applied to this pipeline; guarded by {@code this}. */
  private long appliedIndex;
  /**
   * Completes once everything applied to this pipeline is durable: the durability future of its
   * last journaled change (the journal completes them in index order, and fails every pending
   * one when it fails). A reply that changes nothing, or a read, waits for it too: it reports
   * state that an earlier call changed, and that change may still wait for its fsync (a retried
   * enqueue answered "deduplicated" must not precede the fsync of the first one).
   */
  private volatile CompletableFuture<Void> settled;
  /** The size of this pipeline's last snapshot, to size the next one's buffer. */
  private int lastSnapshotBytes;
  /** This pipeline's reads, one at a time, on the server's read pool; made by the first read. */
  private volatile Executor reads;
  /** Set under the lock when the pipeline is deleted; later calls see PIPELINE_NOT_FOUND. */
  private boolean deleted;
  /** Starts batches for the Work streams; created with the first one. */
  private volatile ChangeListener workDispatcher;

  PipelineHandle(PipelineRuntime runtime, AtomicReference<CommandLog> log, long appliedIndex) {
    this(runtime, log, appliedIndex, DURABLE);
  }

  /** A pipeline whose state is durable once {@code settled} completes (a new one: its creation). */
  PipelineHandle(
      PipelineRuntime runtime, AtomicReference<CommandLog> log, long appliedIndex,
      CompletableFuture<Void> settled) {
    this.runtime = runtime;
    this.log = log;
    this.appliedIndex = appliedIndex;
    this.settled = settled;
  }

  /**
   * Completes when every change applied to this pipeline so far is durable; fails if the journal
   * failed first. Reads and replies read under the lock before this is taken, so waiting for it
   * covers what they report.
   */
  public CompletableFuture<Void> settled() {
    return settled;
  }

  public String name() {
    return runtime.name();
  }

  synchronized void setEventRetention(int retention) {
    runtime.setEventRetention(retention);
  }

  /**
   * Applies one command under the lock. If it changed the pipeline, it is journaled with the time
   * it effectively ran at, and the started batches (if any) go to the watchers once durable, in
   * start order. Refusals are thrown before anything is journaled.
   */
  public synchronized <R> Executed<R> execute(Command<R> command, long nowMs) {
    ensureLive();
    CallContext.ensureLive();
    long before = runtime.queries().version();
    long nextEvent = runtime.queries().nextEventId();
    R result = runtime.apply(command, nowMs);
    if (runtime.queries().version() == before) {
      // Nothing changed, but the reply repeats what earlier changes did: sent once they are on disk.
      return new Executed<>(result, settled);
    }
    // The journal keeps the command exactly as it ran, at the time it effectively ran at.
    CommandLog.Appended appended =
        log.get().append(name(), runtime.queries().lastNowMs(), command);
    appliedIndex = appended.index();
    settled = appended.durable();
    if (result instanceof StartResult started && !started.started().isEmpty() && !watchers.isEmpty()) {
      appended.durable().thenRunAsync(() -> publish(started.started()), publisher);
    }
    publishEvents(nextEvent, appended.durable());
    ChangeListener work = workDispatcher;
    if (work != null) {
      work.changed(); // the change may let a Work stream's batch start
    }
    return new Executed<>(result, appended.durable());
  }

  /** Hands the events a command appended to the WatchEvents streams once it is durable. */
  private void publishEvents(long firstNewEvent, CompletableFuture<Void> durable) {
    if (eventWatches.isEmpty() || runtime.queries().nextEventId() == firstNewEvent) {
      return;
    }
    var fresh = runtime.queries().eventsAfter(firstNewEvent - 1);
    durable.thenRunAsync(() -> eventWatches.publish(fresh), publisher);
  }

  /**
   * Registers a WatchEvents stream: with {@code afterEventId} null, for the events from now on;
   * else with the retained events after it as its backlog. EVENTS_EXPIRED if some of those are no
   * longer retained; TOO_MANY_WATCHERS if {@code max} event streams are open already.
   */
  public synchronized void addEventWatch(EventWatches.Watch watch, Long afterEventId, int max) {
    ensureLive();
    if (eventWatches.size() >= max) {
      throw Rejection.of(
          ServerReason.TOO_MANY_WATCHERS,
          "pipeline '" + name() + "' already has " + eventWatches.size() + " WatchEvents streams,"
              + " the most this server allows (--max-watchers-per-pipeline); close one first");
    }
    var q = runtime.queries();
    long last = q.nextEventId() - 1;
    if (afterEventId != null && afterEventId > last) {
      throw Rejection.ofField(ServerReason.INVALID_REQUEST, "after_event_id",
          "is " + afterEventId + " but the newest event of pipeline '" + name() + "' is " + last
              + "; resume after an id this pipeline gave you");
    }
    if (afterEventId != null && q.oldestEventId() > afterEventId + 1) {
      throw Rejection.withMetadata(
          ServerReason.EVENTS_EXPIRED,
          "events after " + afterEventId + " are no longer all retained: the oldest is "
              + q.oldestEventId() + " (--event-retention); resume after " + (q.oldestEventId() - 1)
              + " and reconcile with the List RPCs",
          java.util.Map.of("oldest_event_id", Long.toString(q.oldestEventId())));
    }
    if (publisher == null) {
      publisher = MoreExecutors.newSequentialExecutor(watch.listener.drainExecutor());
    }
    eventWatches.add(watch, afterEventId == null ? List.of() : q.eventsAfter(afterEventId), last,
        settled, publisher);
  }

  public void removeEventWatch(EventListener listener) {
    eventWatches.remove(listener);
  }

  /**
   * Applies journal record {@code index} exactly as it ran (recovery, the shadow snapshotter);
   * skips it if the snapshot already holds it.
   */
  synchronized void replay(long index, Command<?> command, long nowMs) {
    if (index <= appliedIndex) {
      return;
    }
    // Bulk items refused live are refused again here, exactly as they were; any other refusal
    // means the journal and the code disagree, and recovery stops.
    runtime.apply(command, nowMs);
    appliedIndex = index;
  }

  /** Runs this pipeline's O(state) reads one after another on {@code pool} (see the service). */
  public Executor reads(Executor pool) {
    Executor e = reads;
    if (e == null) {
      synchronized (this) {
        if (reads == null) {
          reads = MoreExecutors.newSequentialExecutor(pool);
        }
        e = reads;
      }
    }
    return e;
  }

  /** A consistent read. */
  public synchronized <T> T read(Function<PipelineQueries, T> query) {
    ensureLive();
    return query.apply(runtime.queries());
  }

  /** The pipeline's complete state and the journal index it reflects, for a snapshot. */
  synchronized Snapshot snapshot(long floorIndex) throws IOException {
    // Size the buffer from the last copy: growing it took about half of the copy's time (bench
    // findings). Only shadow registries and the shutdown snapshot copy, so nobody waits here.
    ByteArrayOutputStream bytes =
        new ByteArrayOutputStream(Math.max(4096, lastSnapshotBytes + lastSnapshotBytes / 4));
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      runtime.writeSnapshot(out);
    }
    lastSnapshotBytes = bytes.size();
    return new Snapshot(name(), Math.max(floorIndex, appliedIndex), bytes.toByteArray());
  }

  /** One pipeline's part of a snapshot. */
  record Snapshot(String name, long appliedIndex, byte[] state) {}

  /** Registers a watch stream; TOO_MANY_WATCHERS if {@code max} are open already. */
  public synchronized void addWatcher(StartedListener watcher, int max) {
    ensureLive();
    if (watchers.size() >= max) {
      throw Rejection.of(
          ServerReason.TOO_MANY_WATCHERS,
          "pipeline '" + name() + "' already has " + watchers.size() + " WatchStarted streams,"
              + " the most this server allows (--max-watchers-per-pipeline); close one first");
    }
    if (publisher == null) {
      publisher = MoreExecutors.newSequentialExecutor(watcher.drainExecutor());
    }
    watchers.add(watcher);
  }

  public int watcherCount() {
    return watchers.size();
  }

  public void removeWatcher(StartedListener watcher) {
    watchers.remove(watcher);
  }

  /**
   * The pipeline's Work dispatcher, created by {@code create} with the first Work stream; always
   * of the type {@code create} makes (the Work streams are its only caller).
   */
  @SuppressWarnings("unchecked")
  public synchronized <D extends ChangeListener> D workDispatcher(
      java.util.function.Supplier<D> create) {
    ensureLive();
    if (workDispatcher == null) {
      workDispatcher = create.get();
    }
    return (D) workDispatcher;
  }

  /** Refuses a delete while live batches remain, unless {@code force}. */
  synchronized void checkDeletable(boolean force) {
    ensureLive();
    long live = runtime.queries().liveCount();
    if (live > 0 && !force) {
      throw Rejection.of(
          ServerReason.PIPELINE_NOT_EMPTY,
          "pipeline '" + name() + "' still has " + live + " live batches; drain it first, or"
              + " delete with force=true to drop them");
    }
  }

  /** Marks the pipeline deleted and ends its watch streams with PIPELINE_NOT_FOUND. */
  synchronized void markDeleted() {
    deleted = true;
    closeWatchers(notFound(name()));
  }

  /**
   * Ends every watch stream and Work stream with {@code why}, e.g. at shutdown: a {@link
   * Rejection} (the gRPC side maps it as it maps any refusal) or the status to send.
   */
  public void closeWatchers(RuntimeException why) {
    for (StartedListener w : watchers) {
      w.end(why);
    }
    eventWatches.closeAll(why);
    ChangeListener work = workDispatcher;
    if (work != null) {
      work.end(why);
    }
  }

  private void publish(List<StartedBatch> started) {
    for (StartedBatch s : started) {
      for (StartedListener w : watchers) {
        w.offer(s);
      }
    }
  }

  private void ensureLive() {
    if (deleted) {
      throw notFound(name());
    }
  }

  static Rejection notFound(String name) {
    return Rejection.of(
        ServerReason.PIPELINE_NOT_FOUND,
        "no pipeline named '" + name + "'; ListPipelines shows the pipelines, CreatePipeline"
            + " adds one");
  }
}
