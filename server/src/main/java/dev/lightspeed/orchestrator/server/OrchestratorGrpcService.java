package dev.lightspeed.orchestrator.server;

import dev.lightspeed.orchestrator.core.BatchState;
import dev.lightspeed.orchestrator.core.Page;
import dev.lightspeed.orchestrator.core.PipelineQueries;
import dev.lightspeed.orchestrator.core.PipelineRuntime;
import dev.lightspeed.orchestrator.core.PipelineSpec;
import dev.lightspeed.orchestrator.core.PipelineStatus;
import dev.lightspeed.orchestrator.core.ProcessOutcome;
import dev.lightspeed.orchestrator.core.Reason;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.core.RunSummary;
import dev.lightspeed.orchestrator.core.StartResult;
import dev.lightspeed.orchestrator.core.StartedBatch;
import dev.lightspeed.orchestrator.core.StatusDraft;
import dev.lightspeed.orchestrator.journal.v1.Ack;
import dev.lightspeed.orchestrator.journal.v1.ApplyAction;
import dev.lightspeed.orchestrator.journal.v1.Command;
import dev.lightspeed.orchestrator.journal.v1.CompleteRun;
import dev.lightspeed.orchestrator.journal.v1.Enqueue;
import dev.lightspeed.orchestrator.journal.v1.ExtendLease;
import dev.lightspeed.orchestrator.journal.v1.Fail;
import dev.lightspeed.orchestrator.journal.v1.StartRun;
import dev.lightspeed.orchestrator.v1.AckBatchRequest;
import dev.lightspeed.orchestrator.v1.AckBatchResponse;
import dev.lightspeed.orchestrator.v1.AckBatchesRequest;
import dev.lightspeed.orchestrator.v1.AckBatchesResponse;
import dev.lightspeed.orchestrator.v1.AckItem;
import dev.lightspeed.orchestrator.v1.AckResult;
import dev.lightspeed.orchestrator.v1.ApplyActionRequest;
import dev.lightspeed.orchestrator.v1.ApplyActionResponse;
import dev.lightspeed.orchestrator.v1.CompleteRunRequest;
import dev.lightspeed.orchestrator.v1.CompleteRunResponse;
import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.CreatePipelineResponse;
import dev.lightspeed.orchestrator.v1.DeletePipelineRequest;
import dev.lightspeed.orchestrator.v1.DeletePipelineResponse;
import dev.lightspeed.orchestrator.v1.EnqueueBatchRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchResponse;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesResponse;
import dev.lightspeed.orchestrator.v1.EnqueueResult;
import dev.lightspeed.orchestrator.v1.ExtendLeaseRequest;
import dev.lightspeed.orchestrator.v1.ExtendLeaseResponse;
import dev.lightspeed.orchestrator.v1.FailBatchRequest;
import dev.lightspeed.orchestrator.v1.FailBatchResponse;
import dev.lightspeed.orchestrator.v1.GetPipelineRequest;
import dev.lightspeed.orchestrator.v1.GetPipelineResponse;
import dev.lightspeed.orchestrator.v1.GetStatusRequest;
import dev.lightspeed.orchestrator.v1.GetStatusResponse;
import dev.lightspeed.orchestrator.v1.ListAuditLogRequest;
import dev.lightspeed.orchestrator.v1.ListAuditLogResponse;
import dev.lightspeed.orchestrator.v1.ListBatchesRequest;
import dev.lightspeed.orchestrator.v1.ListBatchesResponse;
import dev.lightspeed.orchestrator.v1.ListDeadLettersRequest;
import dev.lightspeed.orchestrator.v1.ListDeadLettersResponse;
import dev.lightspeed.orchestrator.v1.ListPipelinesRequest;
import dev.lightspeed.orchestrator.v1.ListPipelinesResponse;
import dev.lightspeed.orchestrator.v1.ListRetriesRequest;
import dev.lightspeed.orchestrator.v1.ListRetriesResponse;
import dev.lightspeed.orchestrator.v1.ListRunsRequest;
import dev.lightspeed.orchestrator.v1.ListRunsResponse;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.StartAvailableRequest;
import dev.lightspeed.orchestrator.v1.StartAvailableResponse;
import dev.lightspeed.orchestrator.v1.StartRunRequest;
import dev.lightspeed.orchestrator.v1.StartRunResponse;
import dev.lightspeed.orchestrator.v1.UpdatePipelineRequest;
import dev.lightspeed.orchestrator.v1.UpdatePipelineResponse;
import dev.lightspeed.orchestrator.v1.WatchEventsRequest;
import dev.lightspeed.orchestrator.v1.WatchEventsResponse;
import dev.lightspeed.orchestrator.v1.WatchStartedRequest;
import dev.lightspeed.orchestrator.v1.WatchStartedResponse;
import io.grpc.Context;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;

/**
 * The gRPC adapter: translates each request with {@link ProtoMapper}, applies it to its pipeline
 * through {@link PipelineHandle}, and answers refusals through {@link ErrorMapper}. No rules live
 * here; they are in the core.
 */
final class OrchestratorGrpcService extends OrchestratorServiceGrpc.OrchestratorServiceImplBase {
  private final PipelineRegistry registry;
  private final Clock clock;
  private final Executor watchExecutor;
  /**
   * Where the reads that may cost O(state) run (GetStatus's first answer after a change, a
   * filtered ListBatches that skips most batches, the other lists): never on a transport thread,
   * and through each pipeline's own sequential executor over this pool, so that a large read of
   * one pipeline never delays a read of another.
   */
  private final Executor readPool;
  /** Refuses every call once the journal failed. */
  private final JournalGate gate;
  private final int watchBufferCapacity;
  private final Limits limits;
  /** Null when metrics are off. */
  private final ServerMetrics metrics;
  private final WorkStreams work;

  OrchestratorGrpcService(
      PipelineRegistry registry, Clock clock, Executor watchExecutor, Executor readPool,
      int watchBufferCapacity, Limits limits, ServerMetrics metrics) {
    this.registry = registry;
    this.gate = registry.gate();
    this.clock = clock;
    this.watchExecutor = watchExecutor;
    this.readPool = readPool;
    this.watchBufferCapacity = watchBufferCapacity;
    this.limits = limits;
    this.metrics = metrics;
    this.work = new WorkStreams(registry, clock, watchExecutor, metrics);
  }

  // ---- pipelines -----------------------------------------------------------------------------

  @Override
  public void createPipeline(
      CreatePipelineRequest req, StreamObserver<CreatePipelineResponse> out) {
    mutation(out, req.getSpec().getName(), "spec.", () -> {
      var durable = registry.create(ProtoMapper.toCore(req.getSpec()), now());
      var reply = CreatePipelineResponse.newBuilder()
          .setPipeline(effectiveSpec(registry.get(req.getSpec().getName())))
          .build();
      return new Reply<>(reply, durable);
    });
  }

  @Override
  public void getPipeline(GetPipelineRequest req, StreamObserver<GetPipelineResponse> out) {
    unary(out, req.getName(), "", () -> GetPipelineResponse.newBuilder()
        .setPipeline(effectiveSpec(registry.get(req.getName())))
        .build());
  }

  @Override
  public void listPipelines(ListPipelinesRequest req, StreamObserver<ListPipelinesResponse> out) {
    unary(out, null, "", () -> {
      int size = Paging.pageSize(req.getPageSize());
      String after = Paging.text(req.getPageToken(), "pipelines");
      List<PipelineHandle> page = registry.list(after, size + 1);
      ListPipelinesResponse.Builder resp = ListPipelinesResponse.newBuilder();
      for (PipelineHandle h : page.subList(0, Math.min(size, page.size()))) {
        try {
          resp.addPipelines(effectiveSpec(h));
        } catch (Rejection deletedMeanwhile) {
          // deleted between listing and reading: not part of this page
        }
      }
      if (page.size() > size) {
        resp.setNextPageToken(Paging.token("pipelines", page.get(size - 1).name()));
      }
      return resp.build();
    });
  }

  @Override
  public void updatePipeline(
      UpdatePipelineRequest req, StreamObserver<UpdatePipelineResponse> out) {
    String name = req.getPipeline().getName();
    mutation(out, name, "", () -> {
      var command = Command.newBuilder().setUpdatePipeline(
          dev.lightspeed.orchestrator.journal.v1.UpdatePipeline.newBuilder()
              .setValues(req.getPipeline())
              .addAllUpdateMask(req.getUpdateMask().getPathsList()));
      PipelineHandle.Executed done;
      try {
        done = pipeline(name).execute(command, now());
      } catch (Rejection r) {
        // The spec's fields are named by their request path, the mask's already are.
        throw r.reason() == Reason.INVALID_PIPELINE_SPEC && r.field() != null
            ? Rejection.ofField(r.reason(), "pipeline." + r.field(), stripField(r))
            : r;
      }
      var result = (PipelineRuntime.UpdateResult) done.result();
      return new Reply<>(
          UpdatePipelineResponse.newBuilder().setPipeline(ProtoMapper.toProto(result.spec())).build(),
          done.durable());
    });
  }

  /** A field rejection's message without its leading {@code field: }. */
  private static String stripField(Rejection r) {
    String prefix = r.field() + ": ";
    String m = r.getMessage();
    return m.startsWith(prefix) ? m.substring(prefix.length()) : m;
  }

  @Override
  public void deletePipeline(
      DeletePipelineRequest req, StreamObserver<DeletePipelineResponse> out) {
    mutation(out, req.getName(), "", () -> new Reply<>(
        DeletePipelineResponse.getDefaultInstance(),
        registry.delete(req.getName(), req.getForce(), now())));
  }

  // ---- batches -------------------------------------------------------------------------------

  @Override
  public void enqueueBatch(EnqueueBatchRequest req, StreamObserver<EnqueueBatchResponse> out) {
    mutation(out, req.getPipeline(), "batch.", () -> {
      var command = Command.newBuilder()
          .setEnqueue(Enqueue.newBuilder().addBatches(req.getBatch()));
      var done = pipeline(req.getPipeline()).execute(command, now());
      boolean dedup = (Boolean) ((CommandApplier.ItemResults) done.result()).single();
      return new Reply<>(
          EnqueueBatchResponse.newBuilder().setDeduplicated(dedup).build(), done.durable());
    });
  }

  @Override
  public void enqueueBatches(
      EnqueueBatchesRequest req, StreamObserver<EnqueueBatchesResponse> out) {
    mutation(out, req.getPipeline(), "", () -> {
      String name = req.getPipeline();
      PipelineHandle handle = pipeline(name);
      limits.checkItems("batches", req.getBatchesCount());
      var command = Command.newBuilder()
          .setEnqueue(Enqueue.newBuilder().addAllBatches(req.getBatchesList()));
      var done = handle.execute(command, now());
      List<Object> items = ((CommandApplier.ItemResults) done.result()).items();
      EnqueueBatchesResponse.Builder resp = EnqueueBatchesResponse.newBuilder();
      for (int i = 0; i < items.size(); i++) {
        EnqueueResult.Builder result = EnqueueResult.newBuilder().setKey(req.getBatches(i).getKey());
        if (items.get(i) instanceof Rejection r) {
          result.setError(ErrorMapper.toStatus(r, name, "batches[" + i + "]."));
        } else {
          result.setDeduplicated((Boolean) items.get(i));
        }
        resp.addResults(result);
      }
      return new Reply<>(resp.build(), done.durable());
    });
  }

  @Override
  public void startAvailable(
      StartAvailableRequest req, StreamObserver<StartAvailableResponse> out) {
    PipelineHandle.Executed done;
    try {
      gate.ensureOpen();
      PipelineHandle handle = pipeline(req.getPipeline());
      if (req.getMaxBatches() < 0) {
        throw Rejection.ofField(
            ServerReason.INVALID_REQUEST,
            "max_batches",
            "must be ≥ 0 (got " + req.getMaxBatches() + "); 0 means no limit");
      }
      var command = Command.newBuilder().setStartAvailable(
          dev.lightspeed.orchestrator.journal.v1.StartAvailable.newBuilder()
              .setMaxBatches(req.getMaxBatches())
              .addAllStages(req.getStagesList()));
      done = handle.execute(command, now());
    } catch (Rejection r) {
      refuse(out, req.getPipeline(), "", r);
      return;
    } catch (RuntimeException e) {
      out.onError(ErrorMapper.toException(e, req.getPipeline()));
      return;
    }
    // The batches are IN_FLIGHT now whether or not this caller reads them: if it goes away,
    // their leases expire and they are retried.
    StartResult result = (StartResult) done.result();
    if (metrics != null) {
      metrics.started(req.getPipeline(), result);
    }
    done.durable().whenComplete((ok, failure) -> {
      Rejection refused = gate.refusalAfter(failure);
      if (refused != null) {
        out.onError(ErrorMapper.toException(refused, req.getPipeline(), ""));
        return;
      }
      for (StartedBatch s : result.started()) {
        out.onNext(StartAvailableResponse.newBuilder().setStarted(ProtoMapper.toProto(s)).build());
      }
      out.onCompleted();
    });
  }

  @Override
  public void watchStarted(WatchStartedRequest req, StreamObserver<WatchStartedResponse> out) {
    ServerCallStreamObserver<WatchStartedResponse> call =
        (ServerCallStreamObserver<WatchStartedResponse>) out;
    try {
      gate.ensureOpen();
      PipelineHandle handle = pipeline(req.getPipeline());
      Runnable sendHeaders = EarlyHeaders.SEND.get();
      @SuppressWarnings("unchecked")
      Watcher<WatchStartedResponse, WatchStartedResponse>[] self = new Watcher[1];
      self[0] = new Watcher<>(
          req.getPipeline(), call, m -> m, "started batches", watchExecutor, watchBufferCapacity,
          sendHeaders == null ? () -> { } : sendHeaders,
          () -> handle.removeWatcher(self[0]));
      handle.addWatcher(self[0], limits.maxWatchersPerPipeline());
      self[0].start();
    } catch (RuntimeException e) {
      out.onError(ErrorMapper.toException(e, req.getPipeline()));
    }
  }

  @Override
  public void watchEvents(WatchEventsRequest req, StreamObserver<WatchEventsResponse> out) {
    ServerCallStreamObserver<WatchEventsResponse> call =
        (ServerCallStreamObserver<WatchEventsResponse>) out;
    try {
      gate.ensureOpen();
      PipelineHandle handle = pipeline(req.getPipeline());
      Long after = req.hasAfterEventId() ? req.getAfterEventId() : null;
      if (after != null && after < 0) {
        throw Rejection.ofField(ServerReason.INVALID_REQUEST, "after_event_id",
            "must be ≥ 0 (got " + after + "); 0 replays every retained event");
      }
      java.util.Set<dev.lightspeed.orchestrator.core.EventType> types =
          java.util.EnumSet.noneOf(dev.lightspeed.orchestrator.core.EventType.class);
      for (int i = 0; i < req.getTypesCount(); i++) {
        var type = EventMapper.toCore(req.getTypes(i));
        if (type == null) {
          throw Rejection.ofField(ServerReason.INVALID_REQUEST, "types[" + i + "]",
              "is not an event type; use EVENT_TYPE_ENQUEUED ... EVENT_TYPE_RUN_COMPLETED");
        }
        types.add(type);
      }
      Runnable sendHeaders = EarlyHeaders.SEND.get();
      @SuppressWarnings("unchecked")
      Watcher<dev.lightspeed.orchestrator.core.Event, WatchEventsResponse>[] self = new Watcher[1];
      self[0] = new Watcher<>(
          req.getPipeline(), call, EventMapper::toResponse, "events", watchExecutor,
          watchBufferCapacity, sendHeaders == null ? () -> { } : sendHeaders,
          () -> handle.removeEventWatch(self[0]));
      handle.addEventWatch(
          new EventWatches.Watch(self[0], types), after, limits.maxWatchersPerPipeline());
      self[0].start();
    } catch (RuntimeException e) {
      out.onError(ErrorMapper.toException(e, req.getPipeline()));
    }
  }

  @Override
  public void ackBatch(AckBatchRequest req, StreamObserver<AckBatchResponse> out) {
    mutation(out, req.getPipeline(), "", () -> {
      PipelineHandle handle = pipeline(req.getPipeline());
      requireAttempt(req.getAttempt(), "attempt");
      var command = Command.newBuilder().setAck(Ack.newBuilder().addItems(
          AckItem.newBuilder().setKey(req.getKey()).setAttempt(req.getAttempt())));
      var done = handle.execute(command, now());
      var outcome = (ProcessOutcome) ((CommandApplier.ItemResults) done.result()).single();
      return new Reply<>(
          AckBatchResponse.newBuilder().setOutcome(ProtoMapper.toProto(outcome)).build(),
          done.durable());
    });
  }

  @Override
  public void ackBatches(AckBatchesRequest req, StreamObserver<AckBatchesResponse> out) {
    mutation(out, req.getPipeline(), "", () -> {
      String name = req.getPipeline();
      PipelineHandle handle = pipeline(name);
      limits.checkItems("acks", req.getAcksCount());
      // Items with a negative attempt are refused here and not sent to the pipeline.
      Rejection[] invalid = new Rejection[req.getAcksCount()];
      Ack.Builder acks = Ack.newBuilder();
      for (int i = 0; i < req.getAcksCount(); i++) {
        AckItem item = req.getAcks(i);
        try {
          requireAttempt(item.getAttempt(), "attempt");
          acks.addItems(item);
        } catch (Rejection r) {
          invalid[i] = r;
        }
      }
      var done = handle.execute(Command.newBuilder().setAck(acks), now());
      List<Object> items = ((CommandApplier.ItemResults) done.result()).items();
      AckBatchesResponse.Builder resp = AckBatchesResponse.newBuilder();
      int next = 0;
      for (int i = 0; i < req.getAcksCount(); i++) {
        AckResult.Builder result = AckResult.newBuilder().setKey(req.getAcks(i).getKey());
        Object item = invalid[i] != null ? invalid[i] : items.get(next++);
        if (item instanceof Rejection r) {
          result.setError(ErrorMapper.toStatus(r, name, "acks[" + i + "]."));
        } else {
          result.setOutcome(ProtoMapper.toProto((ProcessOutcome) item));
        }
        resp.addResults(result);
      }
      return new Reply<>(resp.build(), done.durable());
    });
  }

  @Override
  public void failBatch(FailBatchRequest req, StreamObserver<FailBatchResponse> out) {
    mutation(out, req.getPipeline(), "", () -> {
      var command = Command.newBuilder().setFail(Fail.newBuilder()
          .setKey(req.getKey())
          .setAttempt(req.getAttempt())
          .setReason(req.getReason())
          .setNonRetryable(req.getNonRetryable()));
      var done = pipeline(req.getPipeline()).execute(command, now());
      return new Reply<>(
          FailBatchResponse.newBuilder()
              .setOutcome(ProtoMapper.toProto((ProcessOutcome) done.result()))
              .build(),
          done.durable());
    });
  }

  @Override
  public void extendLease(ExtendLeaseRequest req, StreamObserver<ExtendLeaseResponse> out) {
    mutation(out, req.getPipeline(), "", () -> {
      PipelineHandle handle = pipeline(req.getPipeline());
      requireAttempt(req.getAttempt(), "attempt");
      var command = Command.newBuilder().setExtendLease(
          ExtendLease.newBuilder().setKey(req.getKey()).setAttempt(req.getAttempt()));
      var done = handle.execute(command, now());
      return new Reply<>(
          ExtendLeaseResponse.newBuilder().setLeaseDeadlineMs((Long) done.result()).build(),
          done.durable());
    });
  }

  /** The Work stream (SPEC 4.2): see {@link WorkStream} and {@link WorkDispatcher}. */
  @Override
  public StreamObserver<dev.lightspeed.orchestrator.v1.WorkRequest> work(
      StreamObserver<dev.lightspeed.orchestrator.v1.WorkResponse> out) {
    return work.open(out);
  }

  // ---- operators and runs --------------------------------------------------------------------

  @Override
  public void applyAction(ApplyActionRequest req, StreamObserver<ApplyActionResponse> out) {
    mutation(out, req.getPipeline(), actionFieldPrefix(req.getAction()), () -> {
      PipelineHandle handle = pipeline(req.getPipeline());
      ProtoMapper.toCore(req.getAction()); // refuses an unset action before anything else
      var command = Command.newBuilder()
          .setApplyAction(ApplyAction.newBuilder().setAction(req.getAction()));
      var done = handle.execute(command, now());
      return new Reply<>(ApplyActionResponse.getDefaultInstance(), done.durable());
    });
  }

  @Override
  public void startRun(StartRunRequest req, StreamObserver<StartRunResponse> out) {
    mutation(out, req.getPipeline(), "", () -> {
      var command = Command.newBuilder().setStartRun(StartRun.getDefaultInstance());
      var done = pipeline(req.getPipeline()).execute(command, now());
      return new Reply<>(
          StartRunResponse.newBuilder()
              .setRun(ProtoMapper.toProto((RunSummary) done.result()))
              .build(),
          done.durable());
    });
  }

  @Override
  public void completeRun(CompleteRunRequest req, StreamObserver<CompleteRunResponse> out) {
    mutation(out, req.getPipeline(), "", () -> {
      var command = Command.newBuilder().setCompleteRun(CompleteRun.getDefaultInstance());
      var done = pipeline(req.getPipeline()).execute(command, now());
      CompleteRunResponse.Builder resp = CompleteRunResponse.newBuilder();
      @SuppressWarnings("unchecked")
      var run = (Optional<RunSummary>) done.result();
      run.ifPresent(r -> resp.setRun(ProtoMapper.toProto(r)));
      return new Reply<>(resp.build(), done.durable());
    });
  }

  // ---- queries -------------------------------------------------------------------------------

  @Override
  public void listBatches(ListBatchesRequest req, StreamObserver<ListBatchesResponse> out) {
    pipelineRead(out, req.getPipeline(), () -> {
      PipelineHandle handle = pipeline(req.getPipeline());
      BatchState filter = req.hasState() ? ProtoMapper.toCore(req.getState()) : null;
      var page = page(handle, req.getPageSize(), req.getPageToken(),
          "batches" + (filter == null ? "" : "/" + filter),
          (q, cursor, size) -> q.batches(cursor, size, filter));
      ListBatchesResponse.Builder resp =
          ListBatchesResponse.newBuilder().setNextPageToken(page.nextPageToken());
      page.items().forEach(v -> resp.addBatches(ProtoMapper.toProto(v)));
      return resp.build();
    });
  }

  @Override
  public void listRetries(ListRetriesRequest req, StreamObserver<ListRetriesResponse> out) {
    pipelineRead(out, req.getPipeline(), () -> {
      var page = page(pipeline(req.getPipeline()), req.getPageSize(), req.getPageToken(),
          "retries", PipelineQueries::retries);
      ListRetriesResponse.Builder resp =
          ListRetriesResponse.newBuilder().setNextPageToken(page.nextPageToken());
      page.items().forEach(r -> resp.addRetries(ProtoMapper.toProto(r)));
      return resp.build();
    });
  }

  @Override
  public void listDeadLetters(
      ListDeadLettersRequest req, StreamObserver<ListDeadLettersResponse> out) {
    pipelineRead(out, req.getPipeline(), () -> {
      var page = page(pipeline(req.getPipeline()), req.getPageSize(), req.getPageToken(),
          "dead-letters", PipelineQueries::deadLetters);
      ListDeadLettersResponse.Builder resp =
          ListDeadLettersResponse.newBuilder().setNextPageToken(page.nextPageToken());
      page.items().forEach(r -> resp.addDeadLetters(ProtoMapper.toProto(r)));
      return resp.build();
    });
  }

  @Override
  public void listRuns(ListRunsRequest req, StreamObserver<ListRunsResponse> out) {
    pipelineRead(out, req.getPipeline(), () -> {
      var page = page(pipeline(req.getPipeline()), req.getPageSize(), req.getPageToken(),
          "runs", PipelineQueries::runs);
      ListRunsResponse.Builder resp =
          ListRunsResponse.newBuilder().setNextPageToken(page.nextPageToken());
      page.items().forEach(r -> resp.addRuns(ProtoMapper.toProto(r)));
      return resp.build();
    });
  }

  @Override
  public void listAuditLog(ListAuditLogRequest req, StreamObserver<ListAuditLogResponse> out) {
    pipelineRead(out, req.getPipeline(), () -> {
      var page = page(pipeline(req.getPipeline()), req.getPageSize(), req.getPageToken(),
          "audit-log", PipelineQueries::auditLog);
      ListAuditLogResponse.Builder resp =
          ListAuditLogResponse.newBuilder().setNextPageToken(page.nextPageToken());
      page.items().forEach(e -> resp.addEntries(ProtoMapper.toProto(e)));
      return resp.build();
    });
  }

  /**
   * The signature and the invariant check are computed in O(state) after each change (then
   * cached until the next one), so this runs on the read pool, never on a transport thread.
   */
  @Override
  public void getStatus(GetStatusRequest req, StreamObserver<GetStatusResponse> out) {
    pipelineRead(out, req.getPipeline(), () -> {
      PipelineHandle pipeline = pipeline(req.getPipeline());
      // Under the lock only what must be consistent; the signature's sort-and-hash of every
      // remembered batch runs after the lock is released, so calls on the pipeline do not wait.
      StatusDraft draft = pipeline.read(q -> q.statusDraft());
      PipelineStatus status = draft.finish();
      if (!draft.signatureKnown()) {
        try {
          pipeline.read(q -> {
            q.offerSignature(draft.version(), status.signature());
            return null;
          });
        } catch (Rejection deletedSince) {
          // nothing to cache; the status read before the delete is still the answer
        }
      }
      return ProtoMapper.toProto(status);
    });
  }

  // ---- helpers -------------------------------------------------------------------------------

  private static dev.lightspeed.orchestrator.v1.PipelineSpec effectiveSpec(PipelineHandle h) {
    PipelineSpec spec = h.read(q -> q.spec());
    return ProtoMapper.toProto(spec);
  }

  /** One page of a pipeline's list, read by cursor (see {@link Paging}). */
  @FunctionalInterface
  private interface PageQuery<T> {
    Page<T> read(PipelineQueries queries, long cursor, int size);
  }

  /** A page's items and the token of the page after it ("" at the end). */
  private record PageReply<T>(List<T> items, String nextPageToken) {}

  /** Checks page_size and page_token (bound to {@code listing}), then reads one page. */
  private static <T> PageReply<T> page(
      PipelineHandle handle, int pageSize, String pageToken, String listing, PageQuery<T> query) {
    int size = Paging.pageSize(pageSize);
    String scope = Paging.scope(handle.name(), listing);
    long cursor = Paging.cursor(pageToken, scope);
    Page<T> page = handle.read(q -> query.read(q, cursor, size));
    return new PageReply<>(page.items(), Paging.token(scope, page.nextCursor()));
  }

  private PipelineHandle pipeline(String name) {
    return registry.get(name);
  }

  private long now() {
    return clock.millis();
  }

  /** A reply to send once its change is durable. */
  private record Reply<T>(T message, CompletableFuture<Void> durable) {}

  /**
   * Runs one call that may change state: its refusal is answered at once; its reply only once
   * its journal record is durable (a reply never precedes the fsync of its record). That reply is
   * sent by the journal's writer thread as it completes the group (grpc queues the bytes for the
   * call's event loop): a hand-off to another thread per group cost more than the sends do.
   */
  private <T> void mutation(
      StreamObserver<T> out, String pipeline, String fieldPrefix, Supplier<Reply<T>> call) {
    Reply<T> reply;
    try {
      gate.ensureOpen();
      CallGuard.ensureCallLive();
      reply = call.get();
    } catch (Rejection r) {
      refuse(out, pipeline, fieldPrefix, r);
      return;
    } catch (RuntimeException e) {
      out.onError(ErrorMapper.toException(e, pipeline));
      return;
    }
    sendWhenDurable(out, pipeline, reply.message(), reply.durable());
  }

  /**
   * Sends {@code message} once {@code durable} completes, which covers every change the message
   * reports, including those of earlier calls (a reply that changed nothing waits for the
   * pipeline's last change, see {@link PipelineHandle#settled()}). If the journal failed first,
   * JOURNAL_UNAVAILABLE is sent instead. On the happy path the future is usually complete and
   * the reply leaves at once; else it is sent by the journal's writer thread as it completes the
   * group (grpc queues the bytes for the call's event loop): a hand-off to another thread per
   * group cost more than the sends do. Nothing here ever waits on a transport thread.
   */
  private <T> void sendWhenDurable(
      StreamObserver<T> out, String pipeline, T message, CompletableFuture<Void> durable) {
    if (durable.isDone() && !durable.isCompletedExceptionally() && !gate.failed()) {
      out.onNext(message);
      out.onCompleted();
      return;
    }
    durable.whenComplete((ok, failure) -> {
      Rejection refused = gate.refusalAfter(failure);
      if (refused != null) {
        out.onError(ErrorMapper.toException(refused, pipeline, ""));
      } else {
        out.onNext(message);
        out.onCompleted();
      }
    });
  }

  /**
   * Sends a refusal once what it reports is durable: "no such batch", "stale attempt" or
   * "pipeline exists" describe state that an earlier call may have changed moments ago.
   */
  private <T> void refuse(StreamObserver<T> out, String pipeline, String fieldPrefix, Rejection r) {
    if (r.reason() == ServerReason.JOURNAL_UNAVAILABLE) {
      out.onError(ErrorMapper.toException(r, pipeline, fieldPrefix));
      return;
    }
    CompletableFuture<Void> settled = registry.settled(pipeline);
    if (settled.isDone() && !settled.isCompletedExceptionally()) {
      out.onError(ErrorMapper.toException(r, pipeline, fieldPrefix));
      return;
    }
    settled.whenComplete((ok, failure) -> {
      Rejection refused = gate.refusalAfter(failure);
      out.onError(ErrorMapper.toException(refused != null ? refused : r, pipeline, fieldPrefix));
    });
  }


  /**
   * Runs one read: its reply once the state it read is durable (see {@link #sendWhenDurable}),
   * or its refusal mapped to a status. The settled future is taken after the read, so it covers
   * every change the read saw.
   */
  private <T> void unary(
      StreamObserver<T> out, String pipeline, String fieldPrefix, Supplier<T> call) {
    T reply;
    try {
      gate.ensureOpen();
      reply = call.get();
    } catch (Rejection r) {
      refuse(out, pipeline, fieldPrefix, r);
      return;
    } catch (RuntimeException e) {
      out.onError(ErrorMapper.toException(e, pipeline));
      return;
    }
    sendWhenDurable(out, pipeline, reply, registry.settled(pipeline));
  }

  /**
   * A read of one pipeline that may cost O(state): run on that pipeline's sequential executor
   * over the read pool, so that it neither blocks a transport thread nor waits behind a read of
   * another pipeline.
   */
  private <T> void pipelineRead(StreamObserver<T> out, String pipeline, Supplier<T> call) {
    Executor executor;
    try {
      gate.ensureOpen();
      executor = registry.get(pipeline).reads(readPool);
    } catch (Rejection r) {
      refuse(out, pipeline, "", r);
      return;
    }
    try {
      executor.execute(Context.current().wrap(() -> unary(out, pipeline, "", call)));
    } catch (RejectedExecutionException stopping) {
      out.onError(io.grpc.Status.UNAVAILABLE.withDescription("server shutting down")
          .asRuntimeException());
    }
  }

  /**
   * Where the field that a refused action names sits in the request: the core names it relative
   * to the action's variant ({@code stage}, {@code name}) or to the oneof ({@code
   * set_max_in_flight.max_in_flight}); an unset action names the request field {@code action}.
   */
  private static String actionFieldPrefix(dev.lightspeed.orchestrator.v1.OperatorAction action) {
    return switch (action.getActionCase()) {
      case PAUSE_STAGE -> "action.pause_stage.";
      case RESUME_STAGE -> "action.resume_stage.";
      case DISABLE_CONNECTOR -> "action.disable_connector.";
      case ENABLE_CONNECTOR -> "action.enable_connector.";
      case ACTION_NOT_SET -> "";
      default -> "action.";
    };
  }

  /** Ack and extend_lease take attempt 0 (no fencing) or a started attempt ≥ 1. */
  private static void requireAttempt(int attempt, String field) {
    if (attempt < 0) {
      throw Rejection.ofField(
          ServerReason.INVALID_REQUEST,
          field,
          "must be ≥ 0 (got " + attempt + "); 0 means any attempt, else the started attempt");
    }
  }

}
