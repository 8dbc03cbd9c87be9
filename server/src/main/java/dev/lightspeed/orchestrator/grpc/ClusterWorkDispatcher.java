package dev.lightspeed.orchestrator.grpc;

import dev.lightspeed.orchestrator.core.PipelineQueries;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.core.StartResult;
import dev.lightspeed.orchestrator.core.StartedBatch;
import dev.lightspeed.orchestrator.host.ChangeListener;
import dev.lightspeed.orchestrator.host.PipelineHandle;
import io.grpc.StatusRuntimeException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Starts batches for one pipeline's Work streams on one cluster node (docs/cluster.md, "The Work
 * stream on a cluster"): one server's {@link WorkDispatcher}, with its starts replicated.
 *
 * <p><b>When.</b> It is the {@link ChangeListener} of this node's replica of the pipeline, so it
 * hears of every change that replica applies (an enqueue or an ack through any node, a start of
 * another node's stream, an action), and arms a timer at the replica's next retry time or lease
 * deadline; a stream opening or becoming writable again also runs a pump. Nobody polls.
 *
 * <p><b>A pump</b> reads the replica under its lock: each stream's free slots, and whether a
 * start of the streams' stages would change anything at this node's time ({@link
 * PipelineQueries#startWouldChange}). Only then does it submit an ordinary start_available entry
 * (max_batches = the free slots, this node's now_ms), and deals what the leader's apply started
 * round-robin as one server does. A try with nothing to start writes no log entry. One start is
 * in flight at a time; the next pump waits until this replica has applied the last start, so it
 * never counts from a view that lacks its own start (the apply of a start that changed something
 * runs a pump; for one that changed nothing, the pump looks again every {@link
 * #REPLICA_CATCH_UP_MS}).
 *
 * <p><b>No leader.</b> A start that fails after the Raft client's retries ends every stream
 * UNAVAILABLE; so does a read-index probe, sent when the group was not heard from for {@link
 * #PROBE_AFTER_MS}, so that an idle stream on a node cut off from its group's majority ends
 * rather than hangs (its worker reconnects, to another node).
 */
final class ClusterWorkDispatcher implements ChangeListener {
  /** A probe of the group's leader after this long without an answer from the group. */
  static final long PROBE_AFTER_MS = 2_000;

  /**
   * How soon a pump looks again while this replica has not applied the dispatcher's last start:
   * a start that changed nothing is no change of the pipeline, so its apply runs no pump.
   */
  static final long REPLICA_CATCH_UP_MS = 5;

  private final ClusterRouting routing;
  private final PipelineHandle replica;
  private final String pipeline;
  private final Clock clock;
  private final Executor executor;
  private final WakeTimer timer;
  private final List<ClusterWorkStream> streams = new CopyOnWriteArrayList<>();
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private final AtomicBoolean dirty = new AtomicBoolean();
  /** Where the next deal starts: the round-robin position; only touched by the pump. */
  private int nextStream;
  /** The log index of the last start; the next pump waits until this replica has applied it. */
  private volatile long lastStartIndex;
  /** When the group last answered (System.nanoTime). */
  private volatile long heardAtNanos = System.nanoTime();
  private final AtomicBoolean probing = new AtomicBoolean();

  ClusterWorkDispatcher(ClusterRouting routing, PipelineHandle replica, Clock clock,
      Executor executor, ScheduledExecutorService timers) {
    this.routing = routing;
    this.replica = replica;
    this.pipeline = replica.name();
    this.clock = clock;
    this.executor = executor;
    this.timer = new WakeTimer(timers, this::changed);
  }

  void add(ClusterWorkStream stream) {
    streams.add(stream);
    changed();
  }

  void remove(ClusterWorkStream stream) {
    streams.remove(stream);
  }

  /** Ends every stream with {@code why} (pipeline deleted, replica replaced by a snapshot). */
  @Override
  public void end(RuntimeException why) {
    closeAll(ErrorMapper.toException(why, pipeline));
  }

  private void closeAll(StatusRuntimeException status) {
    for (ClusterWorkStream s : streams) {
      s.close(status);
    }
  }

  /** Something may let a batch start: run a pump soon. Never blocks; safe under the lock. */
  @Override
  public void changed() {
    if (streams.isEmpty()) {
      return;
    }
    dirty.set(true);
    if (scheduled.compareAndSet(false, true)) {
      executor.execute(this::run);
    }
  }

  private void run() {
    while (true) {
      dirty.set(false);
      CompletableFuture<?> start;
      try {
        start = pump();
      } catch (RuntimeException e) {
        closeAll(ErrorMapper.toException(e, pipeline));
        start = null;
      }
      if (start != null) {
        // Still running: once the start is answered, pump again (other stage sets, freed slots).
        start.whenComplete((ok, failure) -> {
          dirty.set(true);
          executor.execute(this::run);
        });
        return;
      }
      scheduled.set(false);
      if (!dirty.get() || !scheduled.compareAndSet(false, true)) {
        return;
      }
    }
  }

  /** One start for the first stage set (in rotating order) with free slots and work; or null. */
  private CompletableFuture<?> pump() {
    if (streams.isEmpty()) {
      return null;
    }
    long now = clock.millis();
    long applied = routing.localAppliedIndex(pipeline);
    long wakeAt;
    boolean caughtUp;
    List<ClusterWorkStream> chosen = null;
    int[] free = null;
    int total = 0;
    synchronized (replica) {
      PipelineQueries q = replica.read(x -> x);
      long at = Math.max(now, q.lastNowMs());
      wakeAt = q.nextWakeAtMs(at);
      // Until the replica has applied our last start, it would count that start's slots free,
      // or find startable what that start found was not (another node's start came first).
      caughtUp = applied >= lastStartIndex;
      if (caughtUp) {
        Map<List<String>, List<ClusterWorkStream>> groups = new LinkedHashMap<>();
        List<ClusterWorkStream> all = new ArrayList<>(streams);
        int n = all.size();
        int offset = Math.floorMod(nextStream, n);
        for (int i = 0; i < n; i++) {
          ClusterWorkStream s = all.get((offset + i) % n);
          groups.computeIfAbsent(s.stageKey(), k -> new ArrayList<>()).add(s);
        }
        nextStream = offset + 1;
        for (var group : groups.entrySet()) {
          int[] slots = new int[group.getValue().size()];
          int sum = 0;
          for (int i = 0; i < slots.length; i++) {
            slots[i] = group.getValue().get(i).freeSlots(q, at, applied);
            sum += slots[i];
          }
          if (sum > 0 && q.startWouldChange(new LinkedHashSet<>(group.getKey()), at)) {
            chosen = group.getValue();
            free = slots;
            total = sum;
            break;
          }
        }
      }
    }
    arm(wakeAt, now);
    if (!caughtUp) {
      timer.arm(REPLICA_CATCH_UP_MS);
    }
    if (chosen == null) {
      probeIfQuiet();
      return null;
    }
    return start(chosen, free, total, now);
  }

  /** Submits one start_available for {@code group} and deals what it started. */
  private CompletableFuture<?> start(
      List<ClusterWorkStream> group, int[] free, int total, long now) {
    byte[] entry = ClusterEntries.entry(pipeline, now,
        RequestMapper.startAvailable(total, group.get(0).stageKey()), (byte) 0);
    return routing.writeApplied(pipeline, entry).handle((applied, failure) -> {
      try {
        if (failure != null) {
          closeAll(ClusterReplicas.unavailable(routing, pipeline, failure));
          return null;
        }
        heardAtNanos = System.nanoTime();
        Object result = ReplyCodec.decode(applied.reply());
        if (result instanceof Rejection r) {
          closeAll(ErrorMapper.toException(r, pipeline, ""));
          return null;
        }
        StartResult started = (StartResult) result;
        lastStartIndex = applied.index();
        if (!started.started().isEmpty()) {
          List<List<StartedBatch>> dealt = WorkDispatcher.deal(free, started.started());
          for (int k = 0; k < group.size(); k++) {
            if (!dealt.get(k).isEmpty()) {
              group.get(k).started(dealt.get(k), applied.index());
            }
          }
        }
      } catch (RuntimeException e) {
        closeAll(ErrorMapper.toException(e, pipeline));
      }
      return null;
    });
  }

  /**
   * A read-index read of the group when it was not heard from for {@link #PROBE_AFTER_MS}: if it
   * fails (no leader within the retries), every stream ends UNAVAILABLE.
   */
  private void probeIfQuiet() {
    if (System.nanoTime() - heardAtNanos < TimeUnit.MILLISECONDS.toNanos(PROBE_AFTER_MS)
        || !probing.compareAndSet(false, true)) {
      return;
    }
    byte[] query = ClusterEntries.query(ClusterEntries.Read.GET_PIPELINE, pipeline, new byte[0]);
    routing.read(pipeline, query).whenComplete((bytes, failure) -> {
      if (failure != null) {
        closeAll(ClusterReplicas.unavailable(routing, pipeline, failure));
      } else {
        heardAtNanos = System.nanoTime();
      }
      probing.set(false);
    });
  }

  /**
   * Arms the timer for {@code wakeAt} (clock time; -1 = nothing pending), at most {@link
   * WorkDispatcher#MAX_TIMER_SLEEP_MS} away: with streams open it always wakes within that, also
   * to probe a quiet group.
   */
  private void arm(long wakeAt, long now) {
    if (streams.isEmpty()) {
      return;
    }
    long delay = wakeAt < 0 ? WorkDispatcher.MAX_TIMER_SLEEP_MS
        : Math.min(wakeAt - now, WorkDispatcher.MAX_TIMER_SLEEP_MS);
    timer.arm(delay);
  }
}
