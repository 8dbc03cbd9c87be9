package dev.lightspeed.orchestrator.grpc;

import dev.lightspeed.orchestrator.v1.WorkAck;
import dev.lightspeed.orchestrator.v1.WorkRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Applies one Work stream's requests in arrival order, off the call's thread, and hands the acks
 * that arrived while earlier requests were being applied to {@link Applier#acks} together, so
 * that they become one bulk ack: one journal record, one group-commit wait, one dispatcher pump
 * (as AckBatches), instead of one of each per ack.
 *
 * <p>Why a thread hand-off: gRPC delivers a call's messages one at a time, the next only after
 * {@code onNext} returns, so a stream that applied each request inside {@code onNext} could never
 * see two acks at once. Here the call's thread only queues ({@link #submit}); one drain at a time
 * runs on the executor and takes everything queued. Nothing waits on purpose: a request arriving
 * while nothing is being applied is applied at once, alone; the groups grow only when requests
 * arrive faster than they are applied (a loaded server, a contended pipeline lock), which is when
 * the per-request costs matter.
 *
 * <p>Order is kept: consecutive acks form a group; any other request (fail, extend, one that ends
 * the stream) ends the group before it and is applied alone, after it.
 *
 * <p>An applier may finish a request later: one server applies under the pipeline's lock and
 * returns at once (null), a cluster node replicates through Raft and returns the write's future.
 * The next request is applied only once that future completes, so a cluster node's requests stay
 * in order and the acks that arrive meanwhile become its next bulk entry.
 */
final class WorkRequestCoalescer {
  /** Where the requests go; called by one drain at a time, never concurrently. */
  interface Applier {
    /**
     * Applies consecutive acks, in arrival order, as one bulk ack; returns null when done, or
     * what completes when the next request may be applied.
     */
    CompletableFuture<?> acks(List<WorkAck> acks);

    /** Applies any other request alone; returns as {@link #acks} does. */
    CompletableFuture<?> other(WorkRequest request);
  }

  /**
   * The most acks in one group: bounds a journal record and the time the pipeline's lock is held.
   * The stream reads at most {@link WorkStreamTransport#MAX_UNANSWERED} requests ahead, so this rarely
   * splits anything.
   */
  static final int MAX_ACKS_PER_GROUP = 1024;

  private final Executor executor;
  private final Applier applier;
  private final Consumer<RuntimeException> failed;
  private final Queue<WorkRequest> queue = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean draining = new AtomicBoolean();
  private final AtomicLong submitted = new AtomicLong();
  private volatile boolean stopped;

  /**
   * @param failed told when the applier throws (the stream ends with it); nothing queued is
   *     applied after that
   */
  WorkRequestCoalescer(Executor executor, Applier applier, Consumer<RuntimeException> failed) {
    this.executor = executor;
    this.applier = applier;
    this.failed = failed;
  }

  /** Queues {@code request} and makes sure a drain will apply it. Never blocks. */
  void submit(WorkRequest request) {
    if (stopped) {
      return;
    }
    queue.add(request);
    submitted.incrementAndGet();
    if (draining.compareAndSet(false, true)) {
      executor.execute(this::drain);
    }
  }

  /** How many requests were submitted so far (tests: every request was read). */
  long submitted() {
    return submitted.get();
  }

  private void drain() {
    while (true) {
      CompletableFuture<?> pending;
      try {
        pending = applyQueued();
      } catch (RuntimeException e) {
        stopped = true;
        queue.clear();
        failed.accept(e);
        return;
      }
      if (pending != null) {
        // Still draining: the rest is applied once the pending request is done.
        pending.whenComplete((ok, failure) -> executor.execute(this::drain));
        return;
      }
      draining.set(false);
      // A request queued after the last poll but before the flag cleared: drain again.
      if (queue.isEmpty() || !draining.compareAndSet(false, true)) {
        return;
      }
    }
  }

  /** Applies what is queued; returns a request's pending future, or null once all are done. */
  private CompletableFuture<?> applyQueued() {
    List<WorkAck> acks = new ArrayList<>();
    WorkRequest next;
    while (!stopped && (next = queue.peek()) != null) {
      if (next.hasAck()) {
        queue.poll();
        acks.add(next.getAck());
        if (acks.size() == MAX_ACKS_PER_GROUP) {
          CompletableFuture<?> pending = flush(acks);
          acks = new ArrayList<>();
          if (pending != null) {
            return pending;
          }
        }
      } else if (!acks.isEmpty()) {
        CompletableFuture<?> pending = flush(acks);
        acks = new ArrayList<>();
        if (pending != null) {
          return pending;
        }
      } else {
        queue.poll();
        CompletableFuture<?> pending = unlessDone(applier.other(next));
        if (pending != null) {
          return pending;
        }
      }
    }
    return flush(acks);
  }

  private CompletableFuture<?> flush(List<WorkAck> acks) {
    return acks.isEmpty() ? null : unlessDone(applier.acks(acks));
  }

  private static CompletableFuture<?> unlessDone(CompletableFuture<?> f) {
    return f == null || f.isDone() ? null : f;
  }
}
