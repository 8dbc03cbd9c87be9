package dev.lightspeed.orchestrator.server;

import dev.lightspeed.orchestrator.core.BatchState;
import dev.lightspeed.orchestrator.core.PipelineSpec;
import dev.lightspeed.orchestrator.core.PipelineStatus;
import dev.lightspeed.orchestrator.core.ProcessOutcome;
import dev.lightspeed.orchestrator.core.Reason;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.core.RunSummary;
import dev.lightspeed.orchestrator.core.StartResult;
import dev.lightspeed.orchestrator.core.StartedBatch;
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
import dev.lightspeed.orchestrator.v1.WatchStartedRequest;
import dev.lightspeed.orchestrator.v1.WatchStartedResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Clock;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executor;
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
  private final int watchBufferCapacity;

  OrchestratorGrpcService(
      PipelineRegistry registry, Clock clock, Executor watchExecutor, int watchBufferCapacity) {
    this.registry = registry;
    this.clock = clock;
    this.watchExecutor = watchExecutor;
    this.watchBufferCapacity = watchBufferCapacity;
  }

  // ---- pipelines -----------------------------------------------------------------------------

  @Override
  public void createPipeline(
      CreatePipelineRequest req, StreamObserver<CreatePipelineResponse> out) {
    unary(out, req.getSpec().getName(), "spec.", () -> {
      PipelineHandle h = registry.create(ProtoMapper.toCore(req.getSpec()));
      return CreatePipelineResponse.newBuilder().setPipeline(effectiveSpec(h)).build();
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
  public void deletePipeline(
      DeletePipelineRequest req, StreamObserver<DeletePipelineResponse> out) {
    unary(out, req.getName(), "", () -> {
      registry.delete(req.getName(), req.getForce());
      return DeletePipelineResponse.getDefaultInstance();
    });
  }

  // ---- batches -------------------------------------------------------------------------------

  @Override
  public void enqueueBatch(EnqueueBatchRequest req, StreamObserver<EnqueueBatchResponse> out) {
    unary(out, req.getPipeline(), "batch.", () -> {
      boolean dedup = pipeline(req.getPipeline())
          .apply(rt -> rt.enqueueBatch(ProtoMapper.toCore(req.getBatch()), now()));
      return EnqueueBatchResponse.newBuilder().setDeduplicated(dedup).build();
    });
  }

  @Override
  public void enqueueBatches(
      EnqueueBatchesRequest req, StreamObserver<EnqueueBatchesResponse> out) {
    unary(out, req.getPipeline(), "", () -> {
      String name = req.getPipeline();
      return pipeline(name).apply(rt -> {
        EnqueueBatchesResponse.Builder resp = EnqueueBatchesResponse.newBuilder();
        for (int i = 0; i < req.getBatchesCount(); i++) {
          dev.lightspeed.orchestrator.v1.Batch b = req.getBatches(i);
          EnqueueResult.Builder result = EnqueueResult.newBuilder().setKey(b.getKey());
          try {
            result.setDeduplicated(rt.enqueueBatch(ProtoMapper.toCore(b), now()));
          } catch (Rejection r) {
            result.setError(ErrorMapper.toStatus(r, name, "batches[" + i + "]."));
          }
          resp.addResults(result);
        }
        return resp.build();
      });
    });
  }

  @Override
  public void startAvailable(
      StartAvailableRequest req, StreamObserver<StartAvailableResponse> out) {
    StartResult result;
    try {
      if (req.getMaxBatches() < 0) {
        throw Rejection.ofField(
            Reason.INVALID_REQUEST,
            "max_batches",
            "must be ≥ 0 (got " + req.getMaxBatches() + "); 0 means no limit");
      }
      Set<String> stages = new LinkedHashSet<>(req.getStagesList());
      result = pipeline(req.getPipeline()).start(now(), req.getMaxBatches(), stages);
    } catch (RuntimeException e) {
      out.onError(ErrorMapper.toException(e, req.getPipeline()));
      return;
    }
    // The batches are IN_FLIGHT now whether or not this caller reads them: if it goes away,
    // their leases expire and they are retried.
    for (StartedBatch s : result.started()) {
      out.onNext(StartAvailableResponse.newBuilder().setStarted(ProtoMapper.toProto(s)).build());
    }
    out.onCompleted();
  }

  @Override
  public void watchStarted(WatchStartedRequest req, StreamObserver<WatchStartedResponse> out) {
    ServerCallStreamObserver<WatchStartedResponse> call =
        (ServerCallStreamObserver<WatchStartedResponse>) out;
    try {
      PipelineHandle handle = pipeline(req.getPipeline());
      Watcher[] self = new Watcher[1];
      self[0] = new Watcher(
          req.getPipeline(), call, watchExecutor, watchBufferCapacity,
          () -> handle.removeWatcher(self[0]));
      handle.addWatcher(self[0]);
    } catch (RuntimeException e) {
      out.onError(ErrorMapper.toException(e, req.getPipeline()));
    }
  }

  @Override
  public void ackBatch(AckBatchRequest req, StreamObserver<AckBatchResponse> out) {
    unary(out, req.getPipeline(), "", () -> {
      requireAttempt(req.getAttempt(), "attempt");
      ProcessOutcome outcome = pipeline(req.getPipeline())
          .apply(rt -> rt.ackBatch(req.getKey(), req.getAttempt(), now()));
      return AckBatchResponse.newBuilder().setOutcome(ProtoMapper.toProto(outcome)).build();
    });
  }

  @Override
  public void ackBatches(AckBatchesRequest req, StreamObserver<AckBatchesResponse> out) {
    unary(out, req.getPipeline(), "", () -> {
      String name = req.getPipeline();
      return pipeline(name).apply(rt -> {
        AckBatchesResponse.Builder resp = AckBatchesResponse.newBuilder();
        for (int i = 0; i < req.getAcksCount(); i++) {
          AckItem item = req.getAcks(i);
          AckResult.Builder result = AckResult.newBuilder().setKey(item.getKey());
          try {
            requireAttempt(item.getAttempt(), "attempt");
            result.setOutcome(
                ProtoMapper.toProto(rt.ackBatch(item.getKey(), item.getAttempt(), now())));
          } catch (Rejection r) {
            result.setError(ErrorMapper.toStatus(r, name, "acks[" + i + "]."));
          }
          resp.addResults(result);
        }
        return resp.build();
      });
    });
  }

  @Override
  public void failBatch(FailBatchRequest req, StreamObserver<FailBatchResponse> out) {
    unary(out, req.getPipeline(), "", () -> {
      ProcessOutcome outcome = pipeline(req.getPipeline()).apply(rt -> rt.failBatch(
          req.getKey(), req.getAttempt(), req.getReason(), req.getNonRetryable(), now()));
      return FailBatchResponse.newBuilder().setOutcome(ProtoMapper.toProto(outcome)).build();
    });
  }

  @Override
  public void extendLease(ExtendLeaseRequest req, StreamObserver<ExtendLeaseResponse> out) {
    unary(out, req.getPipeline(), "", () -> {
      requireAttempt(req.getAttempt(), "attempt");
      long deadline = pipeline(req.getPipeline())
          .apply(rt -> rt.extendLease(req.getKey(), req.getAttempt(), now()));
      return ExtendLeaseResponse.newBuilder().setLeaseDeadlineMs(deadline).build();
    });
  }

  // ---- operators and runs --------------------------------------------------------------------

  @Override
  public void applyAction(ApplyActionRequest req, StreamObserver<ApplyActionResponse> out) {
    unary(out, req.getPipeline(), actionFieldPrefix(req.getAction()), () -> {
      PipelineHandle handle = pipeline(req.getPipeline());
      var action = ProtoMapper.toCore(req.getAction());
      handle.apply(rt -> rt.applyAction(action, now()));
      return ApplyActionResponse.getDefaultInstance();
    });
  }

  @Override
  public void startRun(StartRunRequest req, StreamObserver<StartRunResponse> out) {
    unary(out, req.getPipeline(), "", () -> {
      RunSummary run = pipeline(req.getPipeline()).apply(rt -> rt.startRun(now()));
      return StartRunResponse.newBuilder().setRun(ProtoMapper.toProto(run)).build();
    });
  }

  @Override
  public void completeRun(CompleteRunRequest req, StreamObserver<CompleteRunResponse> out) {
    unary(out, req.getPipeline(), "", () -> {
      CompleteRunResponse.Builder resp = CompleteRunResponse.newBuilder();
      pipeline(req.getPipeline())
          .apply(rt -> rt.completeRun(now()))
          .ifPresent(run -> resp.setRun(ProtoMapper.toProto(run)));
      return resp.build();
    });
  }

  // ---- queries -------------------------------------------------------------------------------

  @Override
  public void listBatches(ListBatchesRequest req, StreamObserver<ListBatchesResponse> out) {
    unary(out, req.getPipeline(), "", () -> {
      int size = Paging.pageSize(req.getPageSize());
      BatchState filter = req.hasState() ? ProtoMapper.toCore(req.getState()) : null;
      String listing = "batches" + (filter == null ? "" : "/" + filter);
      long cursor = Paging.cursor(req.getPageToken(), listing);
      var page = pipeline(req.getPipeline()).read(q -> q.batches(cursor, size, filter));
      ListBatchesResponse.Builder resp = ListBatchesResponse.newBuilder()
          .setNextPageToken(Paging.token(listing, page.nextCursor()));
      page.items().forEach(v -> resp.addBatches(ProtoMapper.toProto(v)));
      return resp.build();
    });
  }

  @Override
  public void listRetries(ListRetriesRequest req, StreamObserver<ListRetriesResponse> out) {
    unary(out, req.getPipeline(), "", () -> {
      int size = Paging.pageSize(req.getPageSize());
      long cursor = Paging.cursor(req.getPageToken(), "retries");
      var page = pipeline(req.getPipeline()).read(q -> q.retries(cursor, size));
      ListRetriesResponse.Builder resp = ListRetriesResponse.newBuilder()
          .setNextPageToken(Paging.token("retries", page.nextCursor()));
      page.items().forEach(r -> resp.addRetries(ProtoMapper.toProto(r)));
      return resp.build();
    });
  }

  @Override
  public void listDeadLetters(
      ListDeadLettersRequest req, StreamObserver<ListDeadLettersResponse> out) {
    unary(out, req.getPipeline(), "", () -> {
      int size = Paging.pageSize(req.getPageSize());
      long cursor = Paging.cursor(req.getPageToken(), "dead-letters");
      var page = pipeline(req.getPipeline()).read(q -> q.deadLetters(cursor, size));
      ListDeadLettersResponse.Builder resp = ListDeadLettersResponse.newBuilder()
          .setNextPageToken(Paging.token("dead-letters", page.nextCursor()));
      page.items().forEach(r -> resp.addDeadLetters(ProtoMapper.toProto(r)));
      return resp.build();
    });
  }

  @Override
  public void listRuns(ListRunsRequest req, StreamObserver<ListRunsResponse> out) {
    unary(out, req.getPipeline(), "", () -> {
      int size = Paging.pageSize(req.getPageSize());
      long cursor = Paging.cursor(req.getPageToken(), "runs");
      var page = pipeline(req.getPipeline()).read(q -> q.runs(cursor, size));
      ListRunsResponse.Builder resp = ListRunsResponse.newBuilder()
          .setNextPageToken(Paging.token("runs", page.nextCursor()));
      page.items().forEach(r -> resp.addRuns(ProtoMapper.toProto(r)));
      return resp.build();
    });
  }

  @Override
  public void listAuditLog(ListAuditLogRequest req, StreamObserver<ListAuditLogResponse> out) {
    unary(out, req.getPipeline(), "", () -> {
      int size = Paging.pageSize(req.getPageSize());
      long cursor = Paging.cursor(req.getPageToken(), "audit-log");
      var page = pipeline(req.getPipeline()).read(q -> q.auditLog(cursor, size));
      ListAuditLogResponse.Builder resp = ListAuditLogResponse.newBuilder()
          .setNextPageToken(Paging.token("audit-log", page.nextCursor()));
      page.items().forEach(e -> resp.addEntries(ProtoMapper.toProto(e)));
      return resp.build();
    });
  }

  @Override
  public void getStatus(GetStatusRequest req, StreamObserver<GetStatusResponse> out) {
    unary(out, req.getPipeline(), "", () -> {
      PipelineStatus status = pipeline(req.getPipeline()).read(q -> q.status());
      return ProtoMapper.toProto(status);
    });
  }

  // ---- helpers -------------------------------------------------------------------------------

  private static dev.lightspeed.orchestrator.v1.PipelineSpec effectiveSpec(PipelineHandle h) {
    PipelineSpec spec = h.read(q -> q.spec());
    return ProtoMapper.toProto(spec);
  }

  private PipelineHandle pipeline(String name) {
    return registry.get(name);
  }

  private long now() {
    return clock.millis();
  }

  /** Runs one unary call: its reply, or its refusal mapped to a status. */
  private static <T> void unary(
      StreamObserver<T> out, String pipeline, String fieldPrefix, Supplier<T> call) {
    T reply;
    try {
      reply = call.get();
    } catch (Rejection r) {
      out.onError(ErrorMapper.toException(r, pipeline, fieldPrefix));
      return;
    } catch (RuntimeException e) {
      out.onError(ErrorMapper.toException(e, pipeline));
      return;
    }
    out.onNext(reply);
    out.onCompleted();
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
          Reason.INVALID_REQUEST,
          field,
          "must be ≥ 0 (got " + attempt + "); 0 means any attempt, else the started attempt");
    }
  }

}
