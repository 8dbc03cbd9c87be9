package dev.lightspeed.orchestrator.client;

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
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
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
  private final Map<Long, CompletableFuture<WorkResult>> pending = new ConcurrentHashMap<>();
  /** Completes when the server ends the stream (normally or with an error). */
  final CompletableFuture<Void> ended = new CompletableFuture<>();
  private ClientCallStreamObserver<WorkRequest> call;
  /** Guarded by {@code this}: no request may follow the half-close or the end. */
  private boolean sendsClosed;

  WorkSession(Channel channel, WorkerOptions options, Consumer<StartedBatch> onStarted,
      BiConsumer<WorkSession, Throwable> onEnded) {
    this.onStarted = onStarted;
    this.onEnded = onEnded;
    OrchestratorServiceGrpc.newStub(channel).work(this);
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
    long id = NEXT_REQUEST_ID.incrementAndGet();
    switch (request.getRequestCase()) {
      case ACK -> request.getAckBuilder().setRequestId(id);
      case FAIL -> request.getFailBuilder().setRequestId(id);
      case EXTEND -> request.getExtendBuilder().setRequestId(id);
      default -> throw new IllegalArgumentException("not a request with an id: " + request);
    }
    CompletableFuture<WorkResult> result = new CompletableFuture<>();
    pending.put(id, result);
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
      CompletableFuture<WorkResult> f = pending.remove(response.getResult().getRequestId());
      if (f != null) {
        f.complete(response.getResult());
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
    failPending();
    ended.complete(null);
    onEnded.accept(this, error);
  }

  private void failPending() {
    for (Long id : pending.keySet()) {
      CompletableFuture<WorkResult> f = pending.remove(id);
      if (f != null) {
        f.completeExceptionally(Status.UNAVAILABLE
            .withDescription("the Work stream ended before answering").asRuntimeException());
      }
    }
  }
}
