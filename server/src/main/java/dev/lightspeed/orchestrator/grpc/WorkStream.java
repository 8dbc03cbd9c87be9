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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One Work stream (SPEC 4.2): its slots, its requests and its outgoing messages.
 *
 * <p>Requests (ack, fail, extend) go through {@link PipelineHandle#execute} exactly as the unary
 * AckBatches, FailBatch and ExtendLease do ({@link WorkRequests}: what each one does and
 * answers), and are answered once durable; they are applied in order off the call's thread by a
 * {@link WorkRequestCoalescer}, which turns the acks that arrive while earlier requests are being
 * applied into one bulk ack. Started batches come from
 * the pipeline's {@link WorkDispatcher}. Everything sent goes through one queue that a drain task
 * empties while the transport is ready (gRPC forbids concurrent calls on an observer; at most one
 * drain runs). Nothing here ever waits: a slow client gets no new batches while its transport is
 * not ready, and its requests are read only while fewer than {@link #MAX_UNANSWERED} of them are
 * unanswered (manual inbound flow control), so its buffers stay bounded.
 */
final class WorkStream implements StreamObserver<WorkRequest> {
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

  private final WorkStreams service;
  private final ServerCallStreamObserver<WorkResponse> call;

  // Set by open, on the call's thread, before the stream is registered with a dispatcher.
  private PipelineHandle handle;
  private WorkDispatcher dispatcher;
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

  private final Queue<WorkResponse> outgoing = new ConcurrentLinkedQueue<>();
  private final AtomicInteger unanswered = new AtomicInteger();
  /** Groups of started batches waiting to be durable: a half-closed stream still sends them. */
  private final AtomicInteger pendingStarts = new AtomicInteger();
  private final AtomicBoolean drainScheduled = new AtomicBoolean();
  private final AtomicBoolean readPaused = new AtomicBoolean();
  private volatile boolean halfClosed;
  /** Bytes of started batches not yet handed to the transport (see MAX_UNSENT_STARTED_BYTES). */
  private final AtomicInteger unsentStartedBytes = new AtomicInteger();
  /** A pump found the transport not ready: tell the dispatcher when it is ready again. */
  private volatile boolean waitingForReady;
  /** A pump found too many unsent bytes: tell the dispatcher once they are sent. */
  private volatile boolean waitingForSend;
  private volatile StatusRuntimeException closeWith;
  private volatile boolean done;

  WorkStream(WorkStreams service, ServerCallStreamObserver<WorkResponse> call) {
    this.service = service;
    this.call = call;
    this.requests = new WorkRequestCoalescer(service.executor(),
        new WorkRequestCoalescer.Applier() {
          @Override
          public void acks(List<WorkAck> acks) {
            applyAcks(acks);
          }

          @Override
          public void other(WorkRequest request) {
            applyOther(request);
          }
        },
        // Refusals that end the stream name their fields in full (open.capacity, ...).
        e -> close(ErrorMapper.toException(e, pipeline)));
    call.disableAutoRequest();
    call.setOnCancelHandler(this::cancelled);
    call.setOnReadyHandler(this::readyAgain);
    call.request(1);
  }

  // ---- requests --------------------------------------------------------------------------------

  @Override
  public void onNext(WorkRequest request) {
    if (done || closeWith != null) {
      return;
    }
    try {
      service.registry().gate().ensureOpen(); // after a journal failure nothing is answered
      if (handle == null) {
        open(request);
      } else {
        // Applied off this thread, so that acks arriving meanwhile can be applied together.
        unanswered.incrementAndGet();
        requests.submit(request);
      }
    } catch (RuntimeException e) {
      // Refusals that end the stream name their fields in full (open.capacity, ...).
      close(ErrorMapper.toException(e, pipeline));
      return;
    }
    readMore();
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
    if (done || closeWith != null) {
      return;
    }
    service.registry().gate().ensureOpen();
    WorkRequests.Reply reply = WorkRequests.acks(handle, pipeline, acks, service.clock());
    sendInOrder(reply.results(), reply.durable());
  }

  /** Applies a request other than an ack, alone; throws what ends the stream. */
  private void applyOther(WorkRequest request) {
    if (done || closeWith != null) {
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
    outgoing.addAll(results);
    scheduleDrain();
  }

  @Override
  public void onError(Throwable t) {
    cancelled();
  }

  /**
   * The client half-closed: no more batches are started for it; the stream ends once every
   * request is answered and every batch already started for it is sent (a worker's graceful
   * stop: it half-closes, finishes what it holds and reports with unary calls).
   */
  @Override
  public void onCompleted() {
    halfClosed = true;
    scheduleDrain();
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
    if (done || halfClosed || closeWith != null) {
      return 0;
    }
    if (!call.isReady()) {
      waitingForReady = true;
      return 0;
    }
    if (unsentStartedBytes.get() >= MAX_UNSENT_STARTED_BYTES) {
      waitingForSend = true;
      // Sent meanwhile (the drain saw no flag): look again rather than wait for a changed().
      if (unsentStartedBytes.get() >= MAX_UNSENT_STARTED_BYTES) {
        return 0;
      }
      waitingForSend = false;
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
        close(journalFailed(failure));
      } else {
        outgoing.addAll(messages);
      }
      pendingStarts.decrementAndGet();
      scheduleDrain();
    });
  }

  // ---- sending ---------------------------------------------------------------------------------

  /** Ends the stream with {@code status}; messages not yet sent are dropped. */
  void close(StatusRuntimeException status) {
    if (closeWith == null) {
      closeWith = status;
    }
    scheduleDrain();
  }

  private void readyAgain() {
    scheduleDrain();
    // Writable again: its free slots count again. Only if a pump found it not ready: gRPC calls
    // this after every read of the client too, and a pump each time would be wasted work.
    if (dispatcher != null && waitingForReady) {
      waitingForReady = false;
      dispatcher.changed();
    }
  }

  private void readMore() {
    if (unanswered.get() < MAX_UNANSWERED) {
      call.request(1);
    } else {
      readPaused.set(true);
      if (unanswered.get() < MAX_UNANSWERED && readPaused.compareAndSet(true, false)) {
        call.request(1);
      }
    }
  }

  private void scheduleDrain() {
    if (!done && drainScheduled.compareAndSet(false, true)) {
      service.executor().execute(this::drain);
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
    if (unsentStartedBytes.addAndGet(-bytes) < MAX_UNSENT_STARTED_BYTES && waitingForSend
        && dispatcher != null) {
      waitingForSend = false;
      dispatcher.changed();
    }
  }

  private void finish(StatusRuntimeException status) {
    done = true;
    outgoing.clear();
    unregister();
    if (status == null) {
      call.onCompleted();
    } else {
      call.onError(status);
    }
  }

  private void cancelled() {
    done = true;
    outgoing.clear();
    unregister();
  }

  /** Leaves the dispatcher; this stream's batches stay in flight until acked or expired. */
  private void unregister() {
    if (dispatcher != null) {
      dispatcher.remove(this);
    }
  }
}
