package dev.lightspeed.orchestrator.grpc;

import dev.lightspeed.orchestrator.core.Reason;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.host.ServerReason;
import dev.lightspeed.orchestrator.core.StartResult;
import dev.lightspeed.orchestrator.core.StartedBatch;
import dev.lightspeed.orchestrator.host.Limits;
import dev.lightspeed.orchestrator.host.PipelineRegistry;
import dev.lightspeed.orchestrator.metrics.DomainMetrics;
import dev.lightspeed.orchestrator.metrics.ServerMetrics;
import dev.lightspeed.orchestrator.v1.AckBatchRequest;
import dev.lightspeed.orchestrator.v1.AckBatchResponse;
import dev.lightspeed.orchestrator.v1.AckBatchesRequest;
import dev.lightspeed.orchestrator.v1.AckBatchesResponse;
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
import dev.lightspeed.orchestrator.v1.WorkRequest;
import dev.lightspeed.orchestrator.v1.WorkResponse;
import io.grpc.stub.StreamObserver;
import java.time.Clock;
import java.util.concurrent.Executor;

/**
 * The gRPC adapter. Each call that changes a pipeline reads as one line: the request mapped to a
 * core command ({@link RequestMapper}), submitted to its pipeline ({@link Calls#submit}), the
 * typed result mapped to the reply ({@link ResponseMapper}); refusals are answered through
 * {@link ErrorMapper}. Reads are in {@link Reads}, the watch streams in {@link WatchStreams}, the
 * Work stream in {@link WorkStreams}. No rules live here; they are in the core.
 */
public final class OrchestratorGrpcService
    extends OrchestratorServiceGrpc.OrchestratorServiceImplBase {
  private final PipelineRegistry registry;
  private final Calls calls;
  private final Limits limits;
  private final DomainMetrics metrics;
  private final WatchStreams watches;
  private final WorkStreams work;

  public OrchestratorGrpcService(
      PipelineRegistry registry, Clock clock, Executor watchExecutor, Executor readPool,
      int watchBufferCapacity, Limits limits, ServerMetrics metrics) {
    this.registry = registry;
    this.calls = new Calls(registry, clock, readPool);
    this.limits = limits;
    this.metrics = new DomainMetrics(metrics);
    this.watches = new WatchStreams(registry, watchExecutor, watchBufferCapacity, limits);
    this.work = new WorkStreams(registry, clock, watchExecutor, metrics);
  }

  // ---- pipelines -----------------------------------------------------------------------------

  @Override
  public void createPipeline(
      CreatePipelineRequest req, StreamObserver<CreatePipelineResponse> out) {
    String name = req.getSpec().getName();
    calls.mutation(out, name, "spec.", () -> {
      limits.heap().checkRoom("pipelines");
      var durable = registry.create(ProtoMapper.toCore(req.getSpec()), calls.now());
      return new Calls.Reply<>(CreatePipelineResponse.newBuilder()
          .setPipeline(Reads.effectiveSpec(registry.get(name))).build(), durable);
    });
  }

  @Override
  public void getPipeline(GetPipelineRequest req, StreamObserver<GetPipelineResponse> out) {
    calls.unary(out, req.getName(), "", () -> GetPipelineResponse.newBuilder()
        .setPipeline(Reads.effectiveSpec(registry.get(req.getName()))).build());
  }

  @Override
  public void listPipelines(ListPipelinesRequest req, StreamObserver<ListPipelinesResponse> out) {
    calls.unary(out, null, "", () -> Reads.listPipelines(registry, req));
  }

  @Override
  public void updatePipeline(
      UpdatePipelineRequest req, StreamObserver<UpdatePipelineResponse> out) {
    String name = req.getPipeline().getName();
    calls.mutation(out, name, "", () -> {
      try {
        return calls.submit(name, () -> RequestMapper.updatePipeline(req),
            ResponseMapper::updatePipeline);
      } catch (Rejection r) {
        // The spec's fields are named by their request path, the mask's already are.
        throw r.reason() == Reason.INVALID_PIPELINE_SPEC && r.field() != null
            ? Rejection.ofField(r.reason(), "pipeline." + r.field(), stripField(r))
            : r;
      }
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
    calls.mutation(out, req.getName(), "", () -> new Calls.Reply<>(
        DeletePipelineResponse.getDefaultInstance(),
        registry.delete(req.getName(), req.getForce(), calls.now()),
        () -> metrics.deleted(req.getName())));
  }

  // ---- batches -------------------------------------------------------------------------------

  @Override
  public void enqueueBatch(EnqueueBatchRequest req, StreamObserver<EnqueueBatchResponse> out) {
    calls.mutation(out, req.getPipeline(), "batch.", () -> calls.submit(req.getPipeline(),
        () -> {
          limits.heap().checkRoom("batches");
          return RequestMapper.enqueue(req);
        }, ResponseMapper::enqueueBatch,
        metrics.on() ? r -> metrics.enqueued("EnqueueBatch", req.getPipeline(), r) : null));
  }

  @Override
  public void enqueueBatches(
      EnqueueBatchesRequest req, StreamObserver<EnqueueBatchesResponse> out) {
    calls.mutation(out, req.getPipeline(), "", () -> calls.submit(req.getPipeline(), () -> {
      limits.checkItems("batches", req.getBatchesCount());
      limits.heap().checkRoom("batches");
      return RequestMapper.enqueue(req);
    }, results -> ResponseMapper.enqueueBatches(req, results),
        metrics.on() ? r -> metrics.enqueued("EnqueueBatches", req.getPipeline(), r) : null));
  }

  @Override
  public void startAvailable(
      StartAvailableRequest req, StreamObserver<StartAvailableResponse> out) {
    String name = req.getPipeline();
    Calls.Reply<StartResult> done;
    try {
      calls.gate().ensureOpen();
      done = calls.submit(name, () -> RequestMapper.startAvailable(req), result -> result);
    } catch (Rejection r) {
      calls.refuse(out, name, "", r);
      return;
    } catch (RuntimeException e) {
      out.onError(ErrorMapper.toException(e, name));
      return;
    }
    // The batches are IN_FLIGHT now whether or not this caller reads them: if it goes away,
    // their leases expire and they are retried.
    StartResult result = done.message();
    metrics.started(name, result);
    done.durable().whenComplete((ok, failure) -> {
      Rejection refused = calls.gate().refusalAfter(failure);
      if (refused != null) {
        out.onError(ErrorMapper.toException(refused, name, ""));
        return;
      }
      for (StartedBatch s : result.started()) {
        out.onNext(ResponseMapper.started(s));
      }
      out.onCompleted();
    });
  }

  @Override
  public void watchStarted(WatchStartedRequest req, StreamObserver<WatchStartedResponse> out) {
    watches.watchStarted(req, out);
  }

  @Override
  public void watchEvents(WatchEventsRequest req, StreamObserver<WatchEventsResponse> out) {
    watches.watchEvents(req, out);
  }

  @Override
  public void ackBatch(AckBatchRequest req, StreamObserver<AckBatchResponse> out) {
    calls.mutation(out, req.getPipeline(), "", () -> calls.submit(req.getPipeline(),
        () -> RequestMapper.ack(req), ResponseMapper::ackBatch));
  }

  @Override
  public void ackBatches(AckBatchesRequest req, StreamObserver<AckBatchesResponse> out) {
    calls.mutation(out, req.getPipeline(), "", () -> {
      RequestMapper.Acks[] acks = new RequestMapper.Acks[1];
      return calls.submit(req.getPipeline(), () -> {
        limits.checkItems("acks", req.getAcksCount());
        acks[0] = RequestMapper.acks(req);
        return acks[0].command();
      }, results -> ResponseMapper.ackBatches(req, acks[0].invalid(), results),
          metrics.on() ? r -> metrics.acked("AckBatches", acks[0].invalid(), r) : null);
    });
  }

  @Override
  public void failBatch(FailBatchRequest req, StreamObserver<FailBatchResponse> out) {
    calls.mutation(out, req.getPipeline(), "", () -> calls.submit(req.getPipeline(),
        () -> RequestMapper.fail(req), ResponseMapper::failBatch,
        metrics.on() ? outcome -> metrics.failed(req.getPipeline(), outcome) : null));
  }

  @Override
  public void extendLease(ExtendLeaseRequest req, StreamObserver<ExtendLeaseResponse> out) {
    calls.mutation(out, req.getPipeline(), "", () -> calls.submit(req.getPipeline(),
        () -> RequestMapper.extendLease(req), ResponseMapper::extendLease));
  }

  /** The Work stream (SPEC 4.2): see {@link WorkStream} and {@link WorkDispatcher}. */
  @Override
  public StreamObserver<WorkRequest> work(StreamObserver<WorkResponse> out) {
    return work.open(out);
  }

  // ---- operators and runs --------------------------------------------------------------------

  @Override
  public void applyAction(ApplyActionRequest req, StreamObserver<ApplyActionResponse> out) {
    calls.mutation(out, req.getPipeline(), actionFieldPrefix(req.getAction()),
        () -> calls.submit(req.getPipeline(), () -> RequestMapper.applyAction(req),
            message -> ApplyActionResponse.getDefaultInstance()));
  }

  @Override
  public void startRun(StartRunRequest req, StreamObserver<StartRunResponse> out) {
    calls.mutation(out, req.getPipeline(), "", () -> calls.submit(req.getPipeline(),
        dev.lightspeed.orchestrator.core.Command.StartRun::new, ResponseMapper::startRun));
  }

  @Override
  public void completeRun(CompleteRunRequest req, StreamObserver<CompleteRunResponse> out) {
    calls.mutation(out, req.getPipeline(), "", () -> calls.submit(req.getPipeline(),
        dev.lightspeed.orchestrator.core.Command.CompleteRun::new, ResponseMapper::completeRun));
  }

  // ---- queries -------------------------------------------------------------------------------

  @Override
  public void listBatches(ListBatchesRequest req, StreamObserver<ListBatchesResponse> out) {
    calls.pipelineRead(out, req.getPipeline(),
        () -> Reads.listBatches(registry.get(req.getPipeline()), req));
  }

  @Override
  public void listRetries(ListRetriesRequest req, StreamObserver<ListRetriesResponse> out) {
    calls.pipelineRead(out, req.getPipeline(),
        () -> Reads.listRetries(registry.get(req.getPipeline()), req));
  }

  @Override
  public void listDeadLetters(
      ListDeadLettersRequest req, StreamObserver<ListDeadLettersResponse> out) {
    calls.pipelineRead(out, req.getPipeline(),
        () -> Reads.listDeadLetters(registry.get(req.getPipeline()), req));
  }

  @Override
  public void listRuns(ListRunsRequest req, StreamObserver<ListRunsResponse> out) {
    calls.pipelineRead(out, req.getPipeline(),
        () -> Reads.listRuns(registry.get(req.getPipeline()), req));
  }

  @Override
  public void listAuditLog(ListAuditLogRequest req, StreamObserver<ListAuditLogResponse> out) {
    calls.pipelineRead(out, req.getPipeline(),
        () -> Reads.listAuditLog(registry.get(req.getPipeline()), req));
  }

  @Override
  public void getStatus(GetStatusRequest req, StreamObserver<GetStatusResponse> out) {
    calls.pipelineRead(out, req.getPipeline(),
        () -> Reads.getStatus(registry.get(req.getPipeline())));
  }

  /** A single server has no cluster to describe: refused, saying where the answer is. */
  @Override
  public void getClusterStatus(dev.lightspeed.orchestrator.v1.GetClusterStatusRequest req,
      StreamObserver<dev.lightspeed.orchestrator.v1.GetClusterStatusResponse> out) {
    out.onError(ErrorMapper.toException(Rejection.of(ServerReason.NOT_A_CLUSTER,
        "this server is a single server, not a cluster node (it was not started with --cluster"
            + " FILE --node-id ID); GetStatus of a pipeline shows its signature here"), null, ""));
  }

  @Override
  public void addClusterNode(dev.lightspeed.orchestrator.v1.AddClusterNodeRequest req,
      StreamObserver<dev.lightspeed.orchestrator.v1.AddClusterNodeResponse> out) {
    out.onError(notACluster());
  }

  @Override
  public void removeClusterNode(dev.lightspeed.orchestrator.v1.RemoveClusterNodeRequest req,
      StreamObserver<dev.lightspeed.orchestrator.v1.RemoveClusterNodeResponse> out) {
    out.onError(notACluster());
  }

  private static io.grpc.StatusRuntimeException notACluster() {
    return ErrorMapper.toException(Rejection.of(ServerReason.NOT_A_CLUSTER,
        "this server is a single server, not a cluster node (it was not started with --cluster"
            + " FILE --node-id ID): it has no nodes to add or remove"), null, "");
  }

  // ---- helpers -------------------------------------------------------------------------------

  /**
   * Where the field that a refused action names sits in the request: the core names it relative
   * to the action's variant ({@code stage}, {@code name}) or to the oneof ({@code
   * set_max_in_flight.max_in_flight}); an unset action names the request field {@code action}.
   */
  static String actionFieldPrefix(dev.lightspeed.orchestrator.v1.OperatorAction action) {
    return switch (action.getActionCase()) {
      case PAUSE_STAGE -> "action.pause_stage.";
      case RESUME_STAGE -> "action.resume_stage.";
      case DISABLE_CONNECTOR -> "action.disable_connector.";
      case ENABLE_CONNECTOR -> "action.enable_connector.";
      case ACTION_NOT_SET -> "";
      default -> "action.";
    };
  }
}
