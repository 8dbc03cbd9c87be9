package dev.lightspeed.orchestrator.grpc;

import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.host.ServerReason;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * One watch stream (WatchStarted, WatchEvents) of items {@code T} sent as messages {@code M}.
 * The pipeline offers started batches or events without ever waiting: they go into
 * a bounded buffer that a drain task empties while the client's transport is ready. A client
 * that falls {@code capacity} messages behind is cut off with RESOURCE_EXHAUSTED,
 * WATCH_BUFFER_FULL, so a slow reader costs the pipeline one queue insert per batch and no more.
 *
 * <p>gRPC forbids concurrent calls on one stream observer; every call on it happens in {@link
 * #drain}, and at most one drain runs at a time (the {@code scheduled} flag).
 */
final class Watcher<T, M> {
  private final String pipeline;
  private final ServerCallStreamObserver<M> observer;
  /** Builds each message as it is sent, so a buffered item costs no message until then. */
  private final Function<T, M> toMessage;
  /** What the items are, for the cut-off message, e.g. "started batches". */
  private final String items;
  private final Executor executor;
  private volatile int capacity;
  private final Runnable onClosed;
  /** Runs in the first drain, before anything else is sent (see {@link EarlyHeaders}). */
  private final Runnable beforeFirst;
  private boolean started;

  private final Queue<T> buffer = new ConcurrentLinkedQueue<>();
  private final AtomicInteger buffered = new AtomicInteger();
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private volatile StatusRuntimeException closeWith;
  private volatile boolean closeCleanly;
  private volatile boolean done;

  Watcher(
      String pipeline,
      ServerCallStreamObserver<M> observer,
      Function<T, M> toMessage,
      String items,
      Executor executor,
      int capacity,
      Runnable beforeFirst,
      Runnable onClosed) {
    this.pipeline = pipeline;
    this.observer = observer;
    this.toMessage = toMessage;
    this.items = items;
    this.executor = executor;
    this.capacity = capacity;
    this.onClosed = onClosed;
    this.beforeFirst = beforeFirst;
    observer.setOnCancelHandler(this::cancelled);
    observer.setOnReadyHandler(this::schedule);
  }

  /** The executor this watcher's drains run on. */
  Executor drainExecutor() {
    return executor;
  }

  /** Sends the response headers once the watcher is registered, telling the client it is live. */
  void start() {
    schedule();
  }

  /**
   * Buffers a backlog (retained events a resuming stream asked for) beyond the capacity: only
   * what arrives live on top of it can overflow. Call before the watcher is registered.
   */
  void offerBacklog(java.util.List<T> backlog) {
    capacity += backlog.size();
    for (T item : backlog) {
      offer(item);
    }
  }

  /** Offers one item; never blocks. */
  void offer(T message) {
    if (done || closeWith != null) {
      return;
    }
    if (buffered.incrementAndGet() > capacity) {
      close(
          ErrorMapper.toException(
              Rejection.of(
                  ServerReason.WATCH_BUFFER_FULL,
                  "this watcher fell " + capacity + " " + items + " behind and was cut off;"
                      + " read faster, then watch again"
                      + (items.equals("events") ? " after the last event id you received"
                          : " and reconcile with ListBatches")),
              pipeline,
              ""));
      return;
    }
    buffer.add(message);
    schedule();
  }

  /** Ends the stream with {@code status} after nothing more (buffered messages are dropped). */
  void close(StatusRuntimeException status) {
    if (closeWith == null) {
      closeWith = status;
    }
    schedule();
  }

  /** Ends the stream normally once the buffer is sent. */
  void complete() {
    closeCleanly = true;
    schedule();
  }

  private void cancelled() {
    done = true;
    buffer.clear();
    onClosed.run();
  }

  private void schedule() {
    if (!done && scheduled.compareAndSet(false, true)) {
      executor.execute(this::drain);
    }
  }

  private void drain() {
    try {
      if (!started) {
        started = true;
        beforeFirst.run();
      }
      while (true) {
        if (done) {
          return;
        }
        if (closeWith != null) {
          finish(closeWith);
          return;
        }
        T next;
        while (observer.isReady() && (next = buffer.poll()) != null) {
          buffered.decrementAndGet();
          observer.onNext(toMessage.apply(next));
        }
        if (closeCleanly && buffer.isEmpty()) {
          finish(null);
          return;
        }
        scheduled.set(false);
        boolean moreToDo =
            closeWith != null || (closeCleanly && buffer.isEmpty())
                || (!buffer.isEmpty() && observer.isReady());
        if (!moreToDo || !scheduled.compareAndSet(false, true)) {
          return;
        }
      }
    } catch (RuntimeException e) {
      // The call was cancelled under us; the cancel handler cleans up.
      done = true;
      onClosed.run();
    }
  }

  private void finish(StatusRuntimeException status) {
    done = true;
    buffer.clear();
    onClosed.run();
    if (status == null) {
      observer.onCompleted();
    } else {
      observer.onError(status);
    }
  }
}
