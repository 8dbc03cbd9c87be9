package dev.lightspeed.orchestrator.client;

import com.google.common.util.concurrent.MoreExecutors;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import dev.lightspeed.orchestrator.v1.WorkOpen;
import dev.lightspeed.orchestrator.v1.WorkRequest;
import dev.lightspeed.orchestrator.v1.WorkResponse;
import dev.lightspeed.orchestrator.v1.WorkResult;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * One open Work stream of a {@link Worker}: sends {@code open}, hands each started batch to the
 * worker, and matches each result to its request by {@code request_id}. When the stream ends,
 * every request still waiting fails (the worker then reports with a unary call).
 */
final class WorkSession implements ClientResponseObserver<WorkRequest, WorkResponse> {
  /** Request ids are unique per process, so a result can never be taken for another request. */
  private static final AtomicLong NEXT_REQUEST_ID = new AtomicLong();

  private final Consumer<StartedBatch> onStarted;
  private final BiConsumer<WorkSession, Throwable> onEnded;
  private final Map<Long, Waiting> pending = new ConcurrentHashMap<>();
  /** Fails requests that wait longer than their timeout (once a second, not a timer each). */
  private final ScheduledFuture<?> sweep;
  /** Completes when the server ends the stream (normally or with an error). */
  final CompletableFuture<Void> ended = new CompletableFuture<>();
  private ClientCallStreamObserver<WorkRequest> call;
  /** Guarded by {@code this}: no request may follow the half-close or the end. */
  private boolean sendsClosed;

  /** A request waiting for its result; {@code deadlineNanos} Long.MAX_VALUE: no timeout. */
  private record Waiting(CompletableFuture<WorkResult> result, long deadlineNanos) {}

  WorkSession(Channel channel, WorkerOptions options, Consumer<StartedBatch> onStarted,
      BiConsumer<WorkSession, Throwable> onEnded, ScheduledExecutorService scheduler) {
    this.onStarted = onStarted;
    this.onEnded = onEnded;
    this.sweep = scheduler.scheduleWithFixedDelay(this::expire, 1, 1, TimeUnit.SECONDS);
    // The stream's messages are handled on the transport's thread: each is a short hand-off
    // (a batch to the handler pool, a result to its future), so a second thread per message
    // (the channel's executor) would only add a wake-up. Nothing here blocks.
    OrchestratorServiceGrpc.newStub(channel).withExecutor(MoreExecutors.directExecutor())
        .work(this);
    send(WorkRequest.newBuilder().setOpen(WorkOpen.newBuilder()
        .setPipeline(options.pipeline())
        .setCapacity(options.concurrency())
        .addAllStages(options.stages())).build());
  }

  @Override
  public void beforeStart(ClientCallStreamObserver<WorkRequest> requestStream) {
    this.call = requestStream;
  }

  /**
   * Sends {@code request} with a fresh request id; the future completes with its result, or
   * fails if the stream cannot take it or ends before answering.
   */
  CompletableFuture<WorkResult> request(WorkRequest.Builder request) {
    return request(request, null);
  }

  /**
   * As {@link #request(WorkRequest.Builder)}; the future also fails when no result came within
   * {@code timeout} (checked about once a second; null: no timeout).
   */
  CompletableFuture<WorkResult> request(WorkRequest.Builder request, Duration timeout) {
    long id = NEXT_REQUEST_ID.incrementAndGet();
    switch (request.getRequestCase()) {
      case ACK -> request.getAckBuilder().setRequestId(id);
      case FAIL -> request.getFailBuilder().setRequestId(id);
      case EXTEND -> request.getExtendBuilder().setRequestId(id);
      default -> throw new IllegalArgumentException("not a request with an id: " + request);
    }
    CompletableFuture<WorkResult> result = new CompletableFuture<>();
    pending.put(id, new Waiting(result,
        timeout == null ? Long.MAX_VALUE : System.nanoTime() + timeout.toNanos()));
    if (!send(request.build())) {
      pending.remove(id);
      result.completeExceptionally(
          Status.UNAVAILABLE.withDescription("the Work stream is closed").asRuntimeException());
    }
    return result;
  }

  /** Whether requests can still be sent (not half-closed, not ended). */
  synchronized boolean open() {
    return !sendsClosed;
  }

  private synchronized boolean send(WorkRequest request) {
    if (sendsClosed) {
      return false;
    }
    try {
      call.onNext(request);
      return true;
    } catch (RuntimeException e) {
      return false; // cancelled under us
    }
  }

  /** No more requests: the server starts nothing more for this stream and ends it when done. */
  synchronized void halfClose() {
    if (!sendsClosed) {
      sendsClosed = true;
      call.onCompleted(); // requests already sent are still answered
    }
  }

  /** Cancels the stream at once. */
  void cancel() {
    synchronized (this) {
      sendsClosed = true;
    }
    call.cancel("worker stopped", null);
  }

  @Override
  public void onNext(WorkResponse response) {
    if (response.hasStarted()) {
      onStarted.accept(response.getStarted());
    } else if (response.hasResult()) {
      Waiting w = pending.remove(response.getResult().getRequestId());
      if (w != null) {
        w.result().complete(response.getResult());
      }
    }
  }

  @Override
  public void onError(Throwable t) {
    end(t);
  }

  @Override
  public void onCompleted() {
    end(null);
  }

  private void end(Throwable error) {
    synchronized (this) {
      sendsClosed = true;
    }
    sweep.cancel(false);
    failPending();
    ended.complete(null);
    onEnded.accept(this, error);
  }

  private void failPending() {
    for (Long id : pending.keySet()) {
      Waiting w = pending.remove(id);
      if (w != null) {
        w.result().completeExceptionally(Status.UNAVAILABLE
            .withDescription("the Work stream ended before answering").asRuntimeException());
      }
    }
  }

  private void expire() {
    long now = System.nanoTime();
    for (Map.Entry<Long, Waiting> e : pending.entrySet()) {
      if (now - e.getValue().deadlineNanos() > 0 && pending.remove(e.getKey(), e.getValue())) {
        e.getValue().result().completeExceptionally(Status.DEADLINE_EXCEEDED
            .withDescription("no answer on the Work stream in time").asRuntimeException());
      }
    }
  }
}
