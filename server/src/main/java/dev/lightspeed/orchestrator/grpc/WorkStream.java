package dev.lightspeed.orchestrator.grpc;

import dev.lightspeed.orchestrator.core.PipelineQueries;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.core.StartedBatch;
import dev.lightspeed.orchestrator.host.JournalGate;
import dev.lightspeed.orchestrator.host.PipelineHandle;
import dev.lightspeed.orchestrator.host.ServerReason;
import dev.lightspeed.orchestrator.v1.WorkAck;
import dev.lightspeed.orchestrator.v1.WorkOpen;
import dev.lightspeed.orchestrator.v1.WorkRequest;
import dev.lightspeed.orchestrator.v1.WorkResponse;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * One Work stream of a single server (SPEC 4.2): its slots and its requests; its messages travel
 * through a {@link WorkStreamTransport} (outgoing queue, flow control, half-close, end).
 *
 * <p>Requests (ack, fail, extend) go through {@link PipelineHandle#execute} exactly as the unary
 * AckBatches, FailBatch and ExtendLease do ({@link WorkRequests}: what each one does and
 * answers), and are answered once durable; they are applied in order off the call's thread by a
 * {@link WorkRequestCoalescer}, which turns the acks that arrive while earlier requests are being
 * applied into one bulk ack. Started batches come from the pipeline's {@link WorkDispatcher}.
 * Nothing here ever waits: a slow client gets no new batches while its transport is not ready,
 * and its requests are read only while fewer than {@link WorkStreamTransport#MAX_UNANSWERED} of
 * them are unanswered, so its buffers stay bounded.
 */
final class WorkStream implements StreamObserver<WorkRequest> {
  /** See {@link WorkStreamTransport#MAX_UNSENT_STARTED_BYTES}. */
  static final int MAX_UNSENT_STARTED_BYTES = WorkStreamTransport.MAX_UNSENT_STARTED_BYTES;

  private final WorkStreams service;
  private final WorkStreamTransport transport;

  // Set by open, on the call's thread, before the stream is registered with a dispatcher.
  private PipelineHandle handle;
  private volatile WorkDispatcher dispatcher;
  private String pipeline = "";
  private int capacity;
  private List<String> stageKey = List.of();

  /** The unfinished batches started on this stream, key → attempt; guarded by the handle. */
  private final Map<String, Integer> unfinished = new HashMap<>();

  /**
   * Completes once every result of the requests applied so far was queued to be sent (see
   * sendInOrder); only touched by the coalescer's drain, one at a time.
   */
  private CompletableFuture<Void> answered = CompletableFuture.completedFuture(null);

  /** The requests after `open`, applied in order with consecutive acks together. */
  private final WorkRequestCoalescer requests;

  WorkStream(WorkStreams service, ServerCallStreamObserver<WorkResponse> call) {
    this.service = service;
    this.requests = new WorkRequestCoalescer(service.executor(),
        new WorkRequestCoalescer.Applier() {
          @Override
          public CompletableFuture<?> acks(List<WorkAck> acks) {
            applyAcks(acks);
            return null;
          }

          @Override
          public CompletableFuture<?> other(WorkRequest request) {
            applyOther(request);
            return null;
          }
        },
        // Refusals that end the stream name their fields in full (open.capacity, ...).
        e -> close(ErrorMapper.toException(e, pipeline)));
    this.transport = new WorkStreamTransport(call, service.executor(),
        new WorkStreamTransport.Owner() {
          @Override
          public void mayDealAgain() {
            WorkDispatcher d = dispatcher;
            if (d != null) {
              d.changed();
            }
          }

          @Override
          public void ended() {
            unregister();
          }
        });
  }

  // ---- requests --------------------------------------------------------------------------------

  @Override
  public void onNext(WorkRequest request) {
    if (transport.closing()) {
      return;
    }
    try {
      service.registry().gate().ensureOpen(); // after a journal failure nothing is answered
      if (handle == null) {
        open(request);
      } else {
        // Applied off this thread, so that acks arriving meanwhile can be applied together.
        transport.awaitsAnswer();
        requests.submit(request);
      }
    } catch (RuntimeException e) {
      // Refusals that end the stream name their fields in full (open.capacity, ...).
      close(ErrorMapper.toException(e, pipeline));
      return;
    }
    transport.readMore();
  }

  private void open(WorkRequest request) {
    if (!request.hasOpen()) {
      throw Rejection.ofField(ServerReason.INVALID_REQUEST, "open",
          "the first request of a Work stream must be `open {pipeline, stages, capacity}`");
    }
    WorkOpen open = request.getOpen();
    pipeline = open.getPipeline();
    PipelineHandle h = service.registry().get(pipeline);
    stageKey = WorkRequests.checkOpen(open, h, service.maxCapacity());
    capacity = open.getCapacity();
    handle = h;
    dispatcher = service.dispatcher(h);
    dispatcher.add(this);
  }

  /** Applies consecutive acks as one bulk ack; see {@link WorkRequests#acks}. */
  private void applyAcks(List<WorkAck> acks) {
    if (transport.closing()) {
      return;
    }
    service.registry().gate().ensureOpen();
    WorkRequests.Reply reply = WorkRequests.acks(handle, pipeline, acks, service.clock());
    sendInOrder(reply.results(), reply.durable());
  }

  /** Applies a request other than an ack, alone; throws what ends the stream. */
  private void applyOther(WorkRequest request) {
    if (transport.closing()) {
      return;
    }
    service.registry().gate().ensureOpen(); // after a journal failure nothing is answered
    WorkRequests.Reply reply = WorkRequests.other(handle, pipeline, request, service.clock());
    sendInOrder(reply.results(), reply.durable());
  }

  /**
   * Sends {@code results} once {@code durable} completes and every earlier request's results are
   * sent: results go out in request order. Waiting on each future directly would not do:
   * callbacks on one future (a refusal waits for the same {@code settled} as the change before
   * it) run in reverse order of registration. Called by the coalescer's drain only.
   */
  private void sendInOrder(List<WorkResponse> results, CompletableFuture<Void> durable) {
    CompletableFuture<Void> previous = answered;
    if (previous.isDone() && !previous.isCompletedExceptionally() && durable.isDone()
        && !durable.isCompletedExceptionally()) {
      sendAll(results); // the common case on a fast disk: no chain
      return;
    }
    answered = previous.thenCompose(ok -> durable).whenComplete((ok, failure) -> {
      if (failure != null) {
        close(journalFailed(failure));
      } else {
        sendAll(results);
      }
    });
  }

  /** The refusal that ends every stream once the journal failed (JOURNAL_UNAVAILABLE). */
  private StatusRuntimeException journalFailed(Throwable failure) {
    Rejection refused = service.registry().gate().refusalAfter(failure);
    return ErrorMapper.toException(
        refused != null ? refused : JournalGate.refusal(failure), pipeline, "");
  }

  private void sendAll(List<WorkResponse> results) {
    transport.sendResults(results);
  }

  @Override
  public void onError(Throwable t) {
    transport.cancelled();
  }

  /**
   * The client half-closed: no more batches are started for it; the stream ends once every
   * request is answered and every batch already started for it is sent (a worker's graceful
   * stop: it half-closes, finishes what it holds and reports with unary calls).
   */
  @Override
  public void onCompleted() {
    transport.halfClose();
  }

  // ---- slots (called by the dispatcher under the pipeline's lock) -----------------------------

  /** How many requests after `open` this stream has read so far (tests). */
  long requestsRead() {
    return requests.submitted();
  }

  List<String> stageKey() {
    return stageKey;
  }

  /**
   * The slots this stream can use now: capacity minus the batches still IN_FLIGHT under the
   * attempt started here with a live lease (a lease past its deadline counts as free: the start
   * that follows expires it first); 0 while the stream cannot deliver (transport not ready,
   * closing, half-closed).
   */
  int freeSlots(PipelineQueries q, long nowMs) {
    if (!transport.canTakeStarts()) {
      return 0;
    }
    for (Iterator<Map.Entry<String, Integer>> it = unfinished.entrySet().iterator();
        it.hasNext(); ) {
      Map.Entry<String, Integer> e = it.next();
      if (!q.inFlightUnexpired(e.getKey(), e.getValue(), nowMs)) {
        it.remove();
      }
    }
    return Math.max(0, capacity - unfinished.size());
  }

  /** A batch was started for this stream (under the lock, before it is durable). */
  void assigned(StartedBatch started) {
    unfinished.put(started.batch().key(), started.attempt());
  }

  /** Sends {@code started} once {@code durable}, in start order. */
  void sendOnceDurable(List<StartedBatch> started, CompletableFuture<Void> durable) {
    transport.sendStartedOnce(started, durable, this::journalFailed);
  }

  /** Ends the stream with {@code status}; messages not yet sent are dropped. */
  void close(StatusRuntimeException status) {
    transport.close(status);
  }

  /** Leaves the dispatcher; this stream's batches stay in flight until acked or expired. */
  private void unregister() {
    WorkDispatcher d = dispatcher;
    if (d != null) {
      d.remove(this);
    }
  }
}
