package dev.lightspeed.orchestrator.client;

import dev.lightspeed.orchestrator.client.errors.OrchestratorErrors;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Groups single items into bulk calls, per lane: a lane has at most one call in flight, and its
 * items leave in the order they were added, so a lane keyed by stage never reorders a stage's
 * sequences. Each item's result (or error) goes to its own future.
 *
 * @param <I> the item sent
 * @param <R> one item's result
 */
final class Batcher<I, R> implements AutoCloseable {
  /** One daemon thread times every batcher's delays; it only triggers sends. */
  private static final ScheduledExecutorService TIMERS =
      Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "lightspeed-batcher-timer");
        t.setDaemon(true);
        return t;
      });

  /**
   * Sends one bulk call; its future completes with one entry per item, in order: the item's
   * result, or a Throwable for a refused item. A failed future fails every item.
   */
  interface Sender<I> {
    CompletableFuture<List<Object>> send(List<I> items);
  }

  private record Pending<I, R>(I item, int bytes, CompletableFuture<R> result) {}

  private final class Lane {
    final ArrayDeque<Pending<I, R>> queue = new ArrayDeque<>();
    int bytes;
    boolean inFlight;
    /**
     * Armed for a time at or before the waiting items' delay runs out, and left armed when a
     * call leaves: when it fires it sends, arms itself again for what is left of the delay, or
     * lapses. Arming and cancelling a timer for every call woke the timer thread about once per
     * call (≈ 20 µs of CPU each on a 2-core machine, bench/findings.md round 17).
     */
    boolean timerArmed;
    /**
     * How many items the lane's last call returned to their callers (0 once a call has left):
     * a caller that keeps a bounded number outstanding (as most do) sends that many again right
     * away, so a call holding that many leaves without waiting for the timer.
     */
    int refill;
    /** When the oldest waiting item arrived ({@link System#nanoTime}): its delay runs from then. */
    long first;
  }

  private final BatchingOptions options;
  private final Sender<I> sender;
  private final Function<I, Integer> sizer;
  private final Map<Object, Lane> lanes = new HashMap<>();
  private final List<CompletableFuture<?>> calls = new ArrayList<>();
  private boolean closed;
  /** How many times a timer was scheduled (tests). */
  long timersScheduled;

  Batcher(BatchingOptions options, Sender<I> sender, Function<I, Integer> sizer) {
    this.options = options;
    this.sender = sender;
    this.sizer = sizer;
  }

  /** Adds {@code item} to lane {@code laneKey}; the future completes with its own result. */
  CompletableFuture<R> add(Object laneKey, I item) {
    CompletableFuture<R> result = new CompletableFuture<>();
    int bytes = sizer.apply(item);
    synchronized (this) {
      if (closed) {
        result.completeExceptionally(new IllegalStateException("closed"));
        return result;
      }
      Lane lane = lanes.computeIfAbsent(laneKey, k -> new Lane());
      if (lane.queue.isEmpty()) {
        lane.first = System.nanoTime();
      }
      lane.queue.add(new Pending<>(item, bytes, result));
      lane.bytes += bytes;
      if (lane.inFlight) {
        return result; // it leaves when the call in flight completes
      }
      if (lane.queue.size() >= options.maxItems() || lane.bytes >= options.maxBytes()
          || options.maxDelay().isZero()
          || (lane.refill > 0 && lane.queue.size() >= lane.refill)) {
        sendLocked(lane);
      } else if (!lane.timerArmed) {
        scheduleLocked(lane, options.maxDelay().toNanos());
      }
    }
    return result;
  }

  private void scheduleLocked(Lane lane, long delayNanos) {
    lane.timerArmed = true;
    timersScheduled++;
    TIMERS.schedule(() -> timerFired(lane), delayNanos, TimeUnit.NANOSECONDS);
  }

  /** Sends everything waiting now; the future completes when every call has completed. */
  CompletableFuture<Void> flush() {
    List<CompletableFuture<?>> waitFor = new ArrayList<>();
    synchronized (this) {
      for (Lane lane : lanes.values()) {
        if (!lane.inFlight && !lane.queue.isEmpty()) {
          sendLocked(lane);
        }
        for (Pending<I, R> p : lane.queue) {
          waitFor.add(p.result());
        }
      }
      waitFor.addAll(calls);
    }
    return CompletableFuture.allOf(waitFor.toArray(CompletableFuture[]::new))
        .handle((ok, e) -> null);
  }

  /** Sends what is waiting and waits for every result; later adds fail. */
  @Override
  public void close() {
    CompletableFuture<Void> done = flush();
    synchronized (this) {
      closed = true;
    }
    done.join();
  }

  /**
   * The lane's timer: sends what waits once its delay has run out; while a call is in flight it
   * lapses (the call's return looks at the delay).
   */
  private synchronized void timerFired(Lane lane) {
    lane.timerArmed = false;
    if (lane.inFlight || lane.queue.isEmpty()) {
      return;
    }
    long wait = options.maxDelay().toNanos() - (System.nanoTime() - lane.first);
    if (wait <= 0) {
      sendLocked(lane);
    } else {
      scheduleLocked(lane, wait);
    }
  }

  private void sendLocked(Lane lane) {
    List<Pending<I, R>> taken = new ArrayList<>();
    List<I> items = new ArrayList<>();
    int bytes = 0;
    while (!lane.queue.isEmpty() && taken.size() < options.maxItems()) {
      Pending<I, R> p = lane.queue.peek();
      if (!taken.isEmpty() && bytes + p.bytes() > options.maxBytes()) {
        break;
      }
      lane.queue.poll();
      lane.bytes -= p.bytes();
      bytes += p.bytes();
      taken.add(p);
      items.add(p.item());
    }
    lane.inFlight = true;
    lane.refill = 0;
    lane.first = System.nanoTime(); // what stays has waited at least this long already
    CompletableFuture<List<Object>> call;
    try {
      call = sender.send(items);
    } catch (RuntimeException e) {
      call = CompletableFuture.failedFuture(e);
    }
    CompletableFuture<?> done = call.whenComplete((results, error) -> {
      // What waited for this call, counted before its callers are answered: they may send
      // again (into the lane, even on this thread) before afterCall looks at it.
      int waited;
      synchronized (this) {
        waited = lane.queue.size();
      }
      deliver(taken, results, error);
      afterCall(lane, taken.size(), waited);
    });
    calls.add(done);
    done.whenComplete((x, y) -> {
      synchronized (this) {
        calls.remove(done);
      }
    });
  }

  @SuppressWarnings("unchecked")
  private void deliver(List<Pending<I, R>> taken, List<Object> results, Throwable error) {
    for (int i = 0; i < taken.size(); i++) {
      CompletableFuture<R> f = taken.get(i).result();
      if (error != null) {
        f.completeExceptionally(OrchestratorErrors.from(error));
      } else if (results == null || i >= results.size()) {
        f.completeExceptionally(new IllegalStateException("the server sent no result for it"));
      } else if (results.get(i) instanceof Throwable t) {
        f.completeExceptionally(t);
      } else {
        f.complete((R) results.get(i));
      }
    }
  }

  /**
   * The lane's call completed: what waited for it leaves together with the items its answered
   * callers send again, once the call holds as many as were outstanding ({@code returned +
   * waited}), or the delay after its first item. Sending what waited at once made a producer with
   * 64 outstanding alternate two calls of about 32: twice the round trips, each paying the
   * server's fsync (bench/findings.md).
   */
  private synchronized void afterCall(Lane lane, int returned, int waited) {
    lane.inFlight = false;
    lane.refill = returned + waited;
    if (lane.queue.isEmpty()) {
      return;
    }
    long wait = options.maxDelay().toNanos() - (System.nanoTime() - lane.first);
    if (lane.queue.size() >= lane.refill || lane.queue.size() >= options.maxItems()
        || lane.bytes >= options.maxBytes() || wait <= 0) {
      sendLocked(lane);
    } else if (!lane.timerArmed) {
      scheduleLocked(lane, wait);
    }
  }
}
