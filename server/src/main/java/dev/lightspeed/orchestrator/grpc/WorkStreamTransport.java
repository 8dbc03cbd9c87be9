package dev.lightspeed.orchestrator.grpc;

import dev.lightspeed.orchestrator.core.StartedBatch;
import dev.lightspeed.orchestrator.v1.WorkResponse;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * What carries one Work stream's messages (SPEC 4.2), whoever decides them: the outgoing queue
 * that a drain task empties while the transport is ready (gRPC forbids concurrent calls on an
 * observer; at most one drain runs), the inbound flow control (requests are read only while
 * fewer than {@link #MAX_UNANSWERED} are unanswered), the readiness that decides whether the
 * stream may be given batches, the half-close and the end. One server's {@link WorkStream} and
 * a cluster node's {@link ClusterWorkStream} differ in how they apply requests and start batches,
 * not in this, so both use it.
 */
final class WorkStreamTransport {
  /** Requests read but not yet answered (sent) before the stream stops reading more. */
  static final int MAX_UNANSWERED = 1024;

  /**
   * Bytes of started batches a stream may hold that are not yet handed to the transport (waiting
   * to be durable, or queued behind a transport that is not ready) before it counts no free
   * slots. {@code call.isReady()} alone is not enough: it only sees what reached the transport,
   * so two pumps in quick succession could start a full capacity for a client that reads
   * nothing. 128 KiB (four times gRPC's own ready threshold) is more than a full capacity of
   * small batches, so a fast worker does not wait on it.
   */
  static final int MAX_UNSENT_STARTED_BYTES = 128 * 1024;

  /** What the stream's owner is told. */
  interface Owner {
    /** The stream may take batches again (writable again, or its unsent batches went out). */
    void mayDealAgain();

    /** The stream ended (finished, failed or cancelled): leave the dispatcher. */
    void ended();
  }

  private final ServerCallStreamObserver<WorkResponse> call;
  private final Executor executor;
  private final Owner owner;

  private final Queue<WorkResponse> outgoing = new ConcurrentLinkedQueue<>();
  private final AtomicInteger unanswered = new AtomicInteger();
  /** Groups of started batches waiting to be durable: a half-closed stream still sends them. */
  private final AtomicInteger pendingStarts = new AtomicInteger();
  private final AtomicBoolean drainScheduled = new AtomicBoolean();
  private final AtomicBoolean readPaused = new AtomicBoolean();
  private volatile boolean halfClosed;
  /** Bytes of started batches not yet handed to the transport (see MAX_UNSENT_STARTED_BYTES). */
  private final AtomicInteger unsentStartedBytes = new AtomicInteger();
  /** A pump found the transport not ready: tell the owner when it is ready again. */
  private volatile boolean waitingForReady;
  /** A pump found too many unsent bytes: tell the owner once they are sent. */
  private volatile boolean waitingForSend;
  private volatile StatusRuntimeException closeWith;
  private volatile boolean done;

  /** Takes over {@code call}'s flow control and asks for the first request. */
  WorkStreamTransport(
      ServerCallStreamObserver<WorkResponse> call, Executor executor, Owner owner) {
    this.call = call;
    this.executor = executor;
    this.owner = owner;
    call.disableAutoRequest();
    call.setOnCancelHandler(this::cancelled);
    call.setOnReadyHandler(this::readyAgain);
    call.request(1);
  }

  /** Ended, or ending: nothing more is applied or answered. */
  boolean closing() {
    return done || closeWith != null;
  }

  /** A request was read that will be answered (one result): it counts as unanswered. */
  void awaitsAnswer() {
    unanswered.incrementAndGet();
  }

  /** Reads the next request unless {@link #MAX_UNANSWERED} are unanswered (then once sent). */
  void readMore() {
    if (unanswered.get() < MAX_UNANSWERED) {
      call.request(1);
    } else {
      readPaused.set(true);
      if (unanswered.get() < MAX_UNANSWERED && readPaused.compareAndSet(true, false)) {
        call.request(1);
      }
    }
  }

  /**
   * Whether the stream may be given batches now: not ending or half-closed, its transport ready
   * (gRPC flow control) and fewer than {@link #MAX_UNSENT_STARTED_BYTES} of started batches
   * unsent. When not, the owner is told once that changes ({@link Owner#mayDealAgain}).
   */
  boolean canTakeStarts() {
    if (done || halfClosed || closeWith != null) {
      return false;
    }
    if (!call.isReady()) {
      waitingForReady = true;
      return false;
    }
    if (unsentStartedBytes.get() >= MAX_UNSENT_STARTED_BYTES) {
      waitingForSend = true;
      // Sent meanwhile (the drain saw no flag): look again rather than wait for a change.
      if (unsentStartedBytes.get() >= MAX_UNSENT_STARTED_BYTES) {
        return false;
      }
      waitingForSend = false;
    }
    return true;
  }

  /** Sends {@code results} (answers to requests), after what is queued. */
  void sendResults(List<WorkResponse> results) {
    outgoing.addAll(results);
    scheduleDrain();
  }

  /**
   * Sends {@code started} once {@code durable} completes, in start order; if it fails, the
   * stream ends with what {@code failed} makes of the failure.
   */
  void sendStartedOnce(List<StartedBatch> started, CompletableFuture<?> durable,
      Function<Throwable, StatusRuntimeException> failed) {
    List<WorkResponse> messages = new ArrayList<>(started.size());
    int bytes = 0;
    for (StartedBatch s : started) {
      WorkResponse m = WorkResponse.newBuilder().setStarted(ProtoMapper.toProto(s)).build();
      bytes += m.getSerializedSize();
      messages.add(m);
    }
    unsentStartedBytes.addAndGet(bytes);
    pendingStarts.incrementAndGet();
    durable.whenComplete((ok, failure) -> {
      if (failure != null) {
        close(failed.apply(failure));
      } else {
        outgoing.addAll(messages);
      }
      pendingStarts.decrementAndGet();
      scheduleDrain();
    });
  }

  /**
   * The client half-closed: it is given nothing more; the stream ends OK once every request is
   * answered and every batch already started for it is sent.
   */
  void halfClose() {
    halfClosed = true;
    scheduleDrain();
  }

  /** Ends the stream with {@code status}; messages not yet sent are dropped. */
  void close(StatusRuntimeException status) {
    if (closeWith == null) {
      closeWith = status;
    }
    scheduleDrain();
  }

  /** The client cancelled or the call broke: nothing more is sent. */
  void cancelled() {
    done = true;
    outgoing.clear();
    owner.ended();
  }

  private void readyAgain() {
    scheduleDrain();
    // Writable again: its free slots count again. Only if a pump found it not ready: gRPC calls
    // this after every read of the client too, and a pump each time would be wasted work.
    if (waitingForReady) {
      waitingForReady = false;
      owner.mayDealAgain();
    }
  }

  private void scheduleDrain() {
    if (!done && drainScheduled.compareAndSet(false, true)) {
      executor.execute(this::drain);
    }
  }

  private void drain() {
    try {
      while (true) {
        if (done) {
          return;
        }
        if (closeWith != null) {
          finish(closeWith);
          return;
        }
        WorkResponse next;
        while (call.isReady() && (next = outgoing.poll()) != null) {
          call.onNext(next);
          if (next.hasStarted()) {
            sentStarted(next.getSerializedSize());
          } else if (unanswered.decrementAndGet() < MAX_UNANSWERED
              && readPaused.compareAndSet(true, false)) {
            call.request(1);
          }
        }
        if (halfClosed && unanswered.get() == 0 && pendingStarts.get() == 0
            && outgoing.isEmpty()) {
          finish(null);
          return;
        }
        drainScheduled.set(false);
        boolean more = closeWith != null
            || (halfClosed && unanswered.get() == 0 && pendingStarts.get() == 0)
            || (!outgoing.isEmpty() && call.isReady());
        if (!more || !drainScheduled.compareAndSet(false, true)) {
          return;
        }
      }
    } catch (RuntimeException e) {
      cancelled(); // the call was cancelled under us
    }
  }

  /** A started batch went to the transport: if a pump held back for that, it may deal again. */
  private void sentStarted(int bytes) {
    if (unsentStartedBytes.addAndGet(-bytes) < MAX_UNSENT_STARTED_BYTES && waitingForSend) {
      waitingForSend = false;
      owner.mayDealAgain();
    }
  }

  private void finish(StatusRuntimeException status) {
    done = true;
    outgoing.clear();
    owner.ended();
    if (status == null) {
      call.onCompleted();
    } else {
      call.onError(status);
    }
  }
}
