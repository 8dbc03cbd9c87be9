package dev.lightspeed.orchestrator.grpc;

import dev.lightspeed.orchestrator.core.Command;
import dev.lightspeed.orchestrator.core.ItemResults;
import dev.lightspeed.orchestrator.core.PipelineQueries;
import dev.lightspeed.orchestrator.core.ProcessOutcome;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.core.StartedBatch;
import dev.lightspeed.orchestrator.host.PipelineHandle;
import dev.lightspeed.orchestrator.host.PipelineRegistry;
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
import java.util.function.Function;

/**
 * One Work stream on a cluster node (SPEC 4.2, docs/cluster.md): the protocol of one server's
 * {@link WorkStream}, with every change replicated through the pipeline's Raft group. Its
 * messages travel through the same {@link WorkStreamTransport}; its ack, fail and extend are
 * log entries (acks that arrive while an earlier request is being replicated become one bulk-ack
 * entry, through the same {@link WorkRequestCoalescer}), answered with the leader's apply reply
 * as {@link WorkRequests} answers them on one node; its batches are started by the pipeline's
 * {@link ClusterWorkDispatcher} on this node.
 *
 * <p>A batch started for the stream holds a slot until this node's replica has applied its
 * start and shows it out of IN_FLIGHT under that attempt (or its lease past the deadline): the
 * replica may apply a moment after the leader answered, and counting from it before then could
 * give the stream more than its capacity.
 */
final class ClusterWorkStream implements StreamObserver<WorkRequest> {
  private final ClusterWorkStreams service;
  private final WorkStreamTransport transport;
  /** The requests after `open`, applied in order, each after the one before was replicated. */
  private final WorkRequestCoalescer requests;

  // Set by open, on the call's thread, before the stream is registered with a dispatcher.
  private volatile ClusterWorkDispatcher dispatcher;
  private String pipeline = "";
  private int capacity;
  private List<String> stageKey = List.of();

  /** A batch started here: its attempt and the log index of its start. */
  private record Started(int attempt, long index) {}

  /** The unfinished batches started on this stream, by key; guarded by {@code this}. */
  private final Map<String, Started> unfinished = new HashMap<>();

  ClusterWorkStream(ClusterWorkStreams service, ServerCallStreamObserver<WorkResponse> call) {
    this.service = service;
    this.requests = new WorkRequestCoalescer(service.executor(),
        new WorkRequestCoalescer.Applier() {
          @Override
          public CompletableFuture<?> acks(List<WorkAck> acks) {
            return applyAcks(acks);
          }

          @Override
          public CompletableFuture<?> other(WorkRequest request) {
            return applyOther(request);
          }
        },
        e -> close(ErrorMapper.toException(e, pipeline)));
    this.transport = new WorkStreamTransport(call, service.executor(),
        new WorkStreamTransport.Owner() {
          @Override
          public void mayDealAgain() {
            ClusterWorkDispatcher d = dispatcher;
            if (d != null) {
              d.changed();
            }
          }

          @Override
          public void ended() {
            ClusterWorkDispatcher d = dispatcher;
            if (d != null) {
              d.remove(ClusterWorkStream.this);
            }
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
      if (dispatcher == null) {
        open(request);
      } else {
        // Applied off this thread, so that acks arriving meanwhile can be applied together.
        transport.awaitsAnswer();
        requests.submit(request);
      }
    } catch (StatusRuntimeException e) {
      close(e);
      return;
    } catch (RuntimeException e) {
      close(ErrorMapper.toException(e, pipeline));
      return;
    }
    transport.readMore();
  }

  /**
   * Checks `open` as one server does (pipeline, capacity, stages), the pipeline against the group
   * (a linearizable read) and the stages against this node's replica, once it has applied the
   * pipeline's creation. Blocks this call's thread for that read (bounded), as a watch does.
   */
  private void open(WorkRequest request) {
    if (!request.hasOpen()) {
      throw Rejection.ofField(ServerReason.INVALID_REQUEST, "open",
          "the first request of a Work stream must be `open {pipeline, stages, capacity}`");
    }
    WorkOpen open = request.getOpen();
    pipeline = open.getPipeline();
    PipelineRegistry replica =
        ClusterReplicas.awaitLocal(service.routing(), pipeline, "open the Work stream");
    PipelineHandle h = replica.get(pipeline);
    stageKey = WorkRequests.checkOpen(open, h, WorkStreams.MAX_CAPACITY);
    capacity = open.getCapacity();
    ClusterWorkDispatcher d = service.dispatcher(h);
    dispatcher = d;
    d.add(this);
  }

  /** Replicates consecutive acks as one bulk-ack entry; each answered with its own result. */
  private CompletableFuture<?> applyAcks(List<WorkAck> acks) {
    if (transport.closing()) {
      return null;
    }
    RequestMapper.Acks mapped = RequestMapper.acks(acks);
    if (mapped.command().size() == 0) {
      transport.sendResults(WorkRequests.ackResults(acks, mapped.invalid(), null, null, pipeline));
      return null;
    }
    return replicate(mapped.command(), result -> {
      if (result instanceof Rejection r) {
        return WorkRequests.ackResults(acks, mapped.invalid(), null, r, pipeline);
      }
      @SuppressWarnings("unchecked")
      ItemResults<ProcessOutcome.Processed> applied =
          (ItemResults<ProcessOutcome.Processed>) result;
      return WorkRequests.ackResults(acks, mapped.invalid(), applied, null, pipeline);
    });
  }

  /** Replicates a request other than an ack, alone; throws what ends the stream. */
  private CompletableFuture<?> applyOther(WorkRequest request) {
    if (transport.closing()) {
      return null;
    }
    switch (request.getRequestCase()) {
      case FAIL -> {
        var fail = request.getFail();
        long id = fail.getRequestId();
        return replicate(new Command.Fail(fail.getKey(), fail.getAttempt(), fail.getReason(),
            fail.getNonRetryable()), result -> List.of(result instanceof Rejection r
                ? WorkRequests.refused(id, r, pipeline, "fail.")
                : WorkRequests.failed(id, (ProcessOutcome) result)));
      }
      case EXTEND -> {
        var extend = request.getExtend();
        long id = extend.getRequestId();
        Command.ExtendLease command;
        try {
          command = RequestMapper.extendLease(extend.getKey(), extend.getAttempt());
        } catch (Rejection r) {
          transport.sendResults(List.of(WorkRequests.refused(id, r, pipeline, "extend.")));
          return null;
        }
        return replicate(command, result -> List.of(result instanceof Rejection r
            ? WorkRequests.refused(id, r, pipeline, "extend.")
            : WorkRequests.extended(id, (Long) result)));
      }
      case OPEN -> throw Rejection.ofField(ServerReason.INVALID_REQUEST, "open",
          "this Work stream is open already; `open` is only the first request");
      default -> throw Rejection.of(ServerReason.INVALID_REQUEST,
          "the request sets none of open, ack, fail, extend");
    }
  }

  /**
   * Submits {@code command} as a log entry with this node's time and sends what {@code answer}
   * makes of the apply's reply (a typed result or a refusal). PIPELINE_NOT_FOUND ends the stream,
   * as on one node; a group without a leader ends it UNAVAILABLE. The future completes once the
   * answer is queued, so the next request is replicated after it.
   */
  private CompletableFuture<?> replicate(
      Command<?> command, Function<Object, List<WorkResponse>> answer) {
    byte[] entry = ClusterEntries.entry(pipeline, service.clock().millis(), command, (byte) 0);
    return service.routing().write(pipeline, entry).handle((bytes, failure) -> {
      try {
        if (failure != null) {
          close(ClusterReplicas.unavailable(service.routing(), pipeline, failure));
          return null;
        }
        Object result = ReplyCodec.decode(bytes);
        if (result instanceof Rejection r && r.reason() == ServerReason.PIPELINE_NOT_FOUND) {
          close(ErrorMapper.toException(r, pipeline, ""));
          return null;
        }
        transport.sendResults(answer.apply(result));
      } catch (RuntimeException e) {
        close(ErrorMapper.toException(e, pipeline));
      }
      return null;
    });
  }

  @Override
  public void onError(Throwable t) {
    transport.cancelled();
  }

  /** The client half-closed: as on one node (see {@link WorkStream#onCompleted}). */
  @Override
  public void onCompleted() {
    transport.halfClose();
  }

  // ---- slots (called by the dispatcher, one pump at a time) -----------------------------------

  List<String> stageKey() {
    return stageKey;
  }

  /**
   * The slots this stream can use now, counted against this node's replica {@code q} (read under
   * its lock) that has applied up to {@code appliedIndex}: capacity minus the batches started here
   * whose start the replica has not applied yet, or that it shows IN_FLIGHT under the attempt
   * started here with a live lease at {@code nowMs}; 0 while the stream cannot deliver.
   */
  synchronized int freeSlots(PipelineQueries q, long nowMs, long appliedIndex) {
    if (!transport.canTakeStarts()) {
      return 0;
    }
    for (Iterator<Map.Entry<String, Started>> it = unfinished.entrySet().iterator();
        it.hasNext(); ) {
      Map.Entry<String, Started> e = it.next();
      Started s = e.getValue();
      if (appliedIndex >= s.index() && !q.inFlightUnexpired(e.getKey(), s.attempt(), nowMs)) {
        it.remove();
      }
    }
    return Math.max(0, capacity - unfinished.size());
  }

  /** Batches were started for this stream by the entry at {@code index} (committed): send them. */
  void started(List<StartedBatch> started, long index) {
    synchronized (this) {
      for (StartedBatch s : started) {
        unfinished.put(s.batch().key(), new Started(s.attempt(), index));
      }
    }
    transport.sendStartedOnce(started, CompletableFuture.completedFuture(null), f -> null);
  }

  /** Ends the stream with {@code status}; messages not yet sent are dropped. */
  void close(StatusRuntimeException status) {
    transport.close(status);
  }
}
