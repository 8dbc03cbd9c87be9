package dev.lightspeed.orchestrator.grpc;

import dev.lightspeed.orchestrator.core.PipelineQueries;
import dev.lightspeed.orchestrator.core.StartResult;
import dev.lightspeed.orchestrator.core.StartedBatch;
import dev.lightspeed.orchestrator.host.ChangeListener;
import dev.lightspeed.orchestrator.host.PipelineHandle;
import dev.lightspeed.orchestrator.metrics.ServerMetrics;
import io.grpc.StatusRuntimeException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Starts batches for one pipeline's Work streams (SPEC 4.2). It runs a "pump" whenever something
 * may let a batch start: any change of the pipeline ({@link PipelineHandle#execute} tells it), a
 * stream opening or becoming writable again, or its timer, armed at the next retry time or lease
 * deadline that the core reports ({@link PipelineQueries#nextWakeAtMs}). Nobody polls.
 *
 * <p>A pump, under the pipeline's lock, counts each stream's free slots, then runs one ordinary
 * journaled start_available per set of stages (max_batches = the free slots of the streams that
 * want those stages) and deals the started batches out round-robin, one per free slot, starting
 * after the stream that got the last one. Each stream sends its batches once they are durable.
 *
 * <p>Pumps never overlap: {@code scheduled} admits one at a time, and {@code dirty} makes it run
 * again when a change arrives while it runs, so no change is missed and bursts coalesce.
 */
final class WorkDispatcher implements ChangeListener {
  /**
   * The longest the timer sleeps before it looks at the clock again. It guards against a clock
   * that jumps (NTP, a test's clock) making a computed sleep wrong; one cheap pump a second per
   * pipeline with open Work streams and a pending time.
   */
  static final long MAX_TIMER_SLEEP_MS = 1000;

  private final PipelineHandle handle;
  private final Clock clock;
  private final Executor executor;
  /** Null when metrics are off. */
  private final ServerMetrics metrics;
  private final List<WorkStream> streams = new CopyOnWriteArrayList<>();
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private final AtomicBoolean dirty = new AtomicBoolean();
  /** The thread running a pump, so that the pump's own start does not schedule another pump. */
  private volatile Thread pumpThread;
  /** Where the next deal starts: the round-robin position; only touched by the pump. */
  private int nextStream;
  private final WakeTimer timer;

  WorkDispatcher(
      PipelineHandle handle, Clock clock, Executor executor, ScheduledExecutorService timers,
      ServerMetrics metrics) {
    this.handle = handle;
    this.clock = clock;
    this.executor = executor;
    this.timer = new WakeTimer(timers, this::changed);
    this.metrics = metrics;
  }

  void add(WorkStream stream) {
    streams.add(stream);
    changed();
  }

  void remove(WorkStream stream) {
    streams.remove(stream);
  }

  int streamCount() {
    return streams.size();
  }

  /** Ends every stream with {@code why} (pipeline deleted, server stopping). */
  @Override
  public void end(RuntimeException why) {
    closeAll(ErrorMapper.toException(why, handle.name()));
  }

  /** The open streams (tests). */
  List<WorkStream> streams() {
    return List.copyOf(streams);
  }

  /** Ends every stream with {@code status}. */
  void closeAll(StatusRuntimeException status) {
    for (WorkStream s : streams) {
      s.close(status);
    }
  }

  /** Something may let a batch start: run a pump soon. Never blocks; safe under the lock. */
  @Override
  public void changed() {
    // No stream (all closed): nothing to do, and no hand-off per change of the pipeline.
    if (streams.isEmpty() || Thread.currentThread() == pumpThread) {
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
      pumpThread = Thread.currentThread();
      try {
        pump();
      } catch (RuntimeException e) {
        // Pipeline deleted meanwhile (its streams are being closed) or the journal failed.
        closeAll(ErrorMapper.toException(e, handle.name()));
      } finally {
        pumpThread = null;
      }
      scheduled.set(false);
      if (!dirty.get() || !scheduled.compareAndSet(false, true)) {
        return;
      }
    }
  }

  private void pump() {
    if (streams.isEmpty()) {
      return;
    }
    long now = clock.millis();
    long wakeAt;
    synchronized (handle) {
      // Streams grouped by the stages they want; one start per group.
      Map<List<String>, List<WorkStream>> groups = new LinkedHashMap<>();
      List<WorkStream> all = new ArrayList<>(streams);
      int n = all.size();
      int offset = Math.floorMod(nextStream, n);
      for (int i = 0; i < n; i++) {
        WorkStream s = all.get((offset + i) % n);
        groups.computeIfAbsent(s.stageKey(), k -> new ArrayList<>()).add(s);
      }
      PipelineQueries q = handle.read(x -> x);
      for (List<WorkStream> group : groups.values()) {
        startFor(group, q, now);
      }
      nextStream = offset + 1;
      wakeAt = q.nextWakeAtMs(Math.max(now, q.lastNowMs()));
    }
    arm(wakeAt, now);
  }

  /** Runs one start for {@code group} (in round-robin order) and deals out what started. */
  private void startFor(List<WorkStream> group, PipelineQueries q, long now) {
    int[] free = new int[group.size()];
    int total = 0;
    for (int i = 0; i < free.length; i++) {
      free[i] = group.get(i).freeSlots(q, Math.max(now, q.lastNowMs()));
      total += free[i];
    }
    if (total == 0) {
      return;
    }
    PipelineHandle.Executed<StartResult> done =
        handle.execute(RequestMapper.startAvailable(total, group.get(0).stageKey()), now);
    StartResult result = done.result();
    if (metrics != null) {
      metrics.started(handle.name(), result);
    }
    if (result.started().isEmpty()) {
      return;
    }
    List<List<StartedBatch>> dealt = deal(free, result.started());
    for (int k = 0; k < group.size(); k++) {
      for (StartedBatch s : dealt.get(k)) {
        group.get(k).assigned(s);
      }
      if (!dealt.get(k).isEmpty()) {
        group.get(k).sendOnceDurable(dealt.get(k), done.durable());
      }
    }
  }

  /**
   * Deals {@code started} one batch per free slot, round-robin over the streams with free slots
   * ({@code free[i]}: stream i's; consumed), starting with the first: what each stream gets, in
   * start order. A cluster node's dispatcher deals the same way.
   */
  static List<List<StartedBatch>> deal(int[] free, List<StartedBatch> started) {
    List<List<StartedBatch>> dealt = new ArrayList<>(free.length);
    for (int i = 0; i < free.length; i++) {
      dealt.add(new ArrayList<>());
    }
    int i = 0;
    for (StartedBatch s : started) {
      while (free[i] == 0) {
        i = (i + 1) % free.length;
      }
      free[i]--;
      dealt.get(i).add(s);
      i = (i + 1) % free.length;
    }
    return dealt;
  }

  /**
   * Arms the timer for {@code wakeAt} (clock time; -1 = nothing pending), capped at {@link
   * #MAX_TIMER_SLEEP_MS}. An armed timer that fires no later is kept.
   */
  private void arm(long wakeAt, long now) {
    if (wakeAt < 0 || streams.isEmpty()) {
      return;
    }
    timer.arm(Math.min(wakeAt - now, MAX_TIMER_SLEEP_MS));
  }
}
