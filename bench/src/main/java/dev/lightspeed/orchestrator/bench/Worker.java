package dev.lightspeed.orchestrator.bench;

import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * One simulated client: a closed loop (or, with a pace, an open loop at a fixed rate) of units of
 * work — one life cycle, one bulk round of life cycles, or one empty RPC — driven entirely from
 * gRPC callbacks. With {@code directExecutor()} channels the callbacks run on the client's Netty
 * event loop, so no thread hand-off is added on the client side.
 *
 * <p>A worker has at most one unit in flight, and its callbacks run one after the other, so its
 * fields need no locking; {@link #run} hands over through the returned future.
 */
abstract class Worker {
  final RpcStats stats = new RpcStats();
  private final AtomicLong progress;
  private long target;
  private long done;
  private volatile boolean stop;
  private CompletableFuture<Void> finished;

  private ScheduledExecutorService scheduler;
  private long intervalNanos;
  private long nextStartNanos;
  /** When the current unit should have started (paced) or started (closed loop). */
  protected long unitStartNanos;

  Worker(AtomicLong progress) {
    this.progress = progress;
  }

  /** Runs until {@code operations} have completed; each unit counts {@link #unitSize()}. */
  CompletableFuture<Void> run(long operations) {
    return run(operations, null, 0, 0);
  }

  /**
   * Paced: unit k starts at {@code firstStartNanos + k * intervalNanos}, or at once when late (the
   * reported latencies are from the actual send; "Lifecycle" is from the planned start).
   */
  CompletableFuture<Void> run(
      long operations, ScheduledExecutorService scheduler, long intervalNanos, long firstStartNanos) {
    this.target = operations;
    this.done = 0;
    this.stop = false;
    this.scheduler = scheduler;
    this.intervalNanos = intervalNanos;
    this.nextStartNanos = firstStartNanos;
    this.finished = new CompletableFuture<>();
    CompletableFuture<Void> f = finished;
    next();
    return f;
  }

  /** Asks the worker to finish after its current unit (a time cap). */
  void stop() {
    stop = true;
  }

  long done() {
    return done;
  }

  /** How many operations one unit completes (1, or 100 for a bulk round). */
  abstract int unitSize();

  /** Starts one unit; calls {@link #unitDone()} or {@link #fail} from a callback when it ends. */
  abstract void startUnit();

  /** Whether a unit is a life cycle whose end-to-end latency is worth its own histogram. */
  boolean lifecycleLatency() {
    return true;
  }

  final void unitDone() {
    if (lifecycleLatency()) {
      stats.record("Lifecycle", unitStartNanos);
    }
    done += unitSize();
    progress.addAndGet(unitSize());
    next();
  }

  final void fail(Throwable t) {
    finished.completeExceptionally(t);
  }

  private void next() {
    if (done >= target || stop) {
      finished.complete(null);
      return;
    }
    if (scheduler != null) {
      long planned = nextStartNanos;
      nextStartNanos += intervalNanos;
      long delay = planned - System.nanoTime();
      unitStartNanos = planned;
      if (delay > 0) {
        scheduler.schedule(this::safeStart, delay, TimeUnit.NANOSECONDS);
        return;
      }
    } else {
      unitStartNanos = System.nanoTime();
    }
    safeStart();
  }

  private void safeStart() {
    try {
      startUnit();
    } catch (RuntimeException e) {
      fail(e);
    }
  }

  /** A unary reply observer: records the RPC's latency, then hands the reply on. */
  <T> StreamObserver<T> reply(String rpc, long startNanos, Consumer<T> then) {
    return new StreamObserver<>() {
      private T value;

      @Override
      public void onNext(T v) {
        value = v;
      }

      @Override
      public void onError(Throwable t) {
        fail(new IllegalStateException(rpc + " failed: " + t, t));
      }

      @Override
      public void onCompleted() {
        stats.record(rpc, startNanos);
        try {
          then.accept(value);
        } catch (RuntimeException e) {
          fail(e);
        }
      }
    };
  }
}
