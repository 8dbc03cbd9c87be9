package dev.lightspeed.orchestrator.grpc;

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
import dev.lightspeed.orchestrator.host.Limits;
import dev.lightspeed.orchestrator.host.PipelineRegistry;
import dev.lightspeed.orchestrator.host.ServerReason;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import dev.lightspeed.orchestrator.core.Command;
import dev.lightspeed.orchestrator.core.PipelineSpec;
import dev.lightspeed.orchestrator.core.Reason;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.core.StartResult;
import dev.lightspeed.orchestrator.core.StartedBatch;
import io.grpc.stub.StreamObserver;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * The gRPC adapter of a cluster node (docs/cluster.md): the same requests mapped to the same core
 * commands ({@link RequestMapper}) and the same replies ({@link ResponseMapper}, {@link
 * ErrorMapper}) as {@link OrchestratorGrpcService}, but a command is not applied here: it is
 * replicated through the pipeline's Raft group ({@link ClusterRouting}) and applied by every
 * replica at its log index (the replication package's GroupState); the leader's apply reply, a typed result or a
 * refusal, is the reply. Reads are Raft read-index reads answered by the leader's state, or with
 * {@code stale_ok} by this node's own replica.
 *
 * <p>WatchStarted and WatchEvents are served by the node's own replica of the pipeline's group:
 * it hands a watcher the started batches and events it applies, the same on every replica (with
 * the same event ids). The Work stream ({@link ClusterWorkStream}) replicates its starts and
 * requests, and learns from the same replica when to try a start.
 *
 * <p>A node that holds no replica of the pipeline's group relays those three streams to a member
 * of the group ({@link StreamRelay}, over {@link MemberChannels}), in front of these handlers.
 */
public final class ClusterGrpcService extends OrchestratorServiceGrpc.OrchestratorServiceImplBase
    implements java.io.Closeable {
  private final ClusterRouting routing;
  private final Clock clock;
  private final Limits limits;
  private final Executor watchExecutor;
  private final int watchBufferCapacity;
  private final ClusterWorkStreams work;
  /** The channels that streams of pipelines this node holds no replica of are relayed over. */
  private final MemberChannels members;
  private final StreamRelay relay;

  /**
   * The refused items of this node's bulk calls (the replicas count what the commands did:
   * DomainMetrics.applied); off when metrics are.
   */
  private final dev.lightspeed.orchestrator.metrics.DomainMetrics metrics;

  public ClusterGrpcService(ClusterRouting routing, Clock clock, Limits limits, Executor watchExecutor,
      int watchBufferCapacity) {
    this(routing, clock, limits, watchExecutor, watchBufferCapacity,
        new dev.lightspeed.orchestrator.metrics.DomainMetrics(null));
  }

  public ClusterGrpcService(ClusterRouting routing, Clock clock, Limits limits, Executor watchExecutor,
      int watchBufferCapacity, dev.lightspeed.orchestrator.metrics.DomainMetrics metrics) {
    this(routing, clock, limits, watchExecutor, watchBufferCapacity, metrics, null);
  }

  /**
   * @param memberCredentials how this node dials the other members' API to relay a stream (null:
   *     plaintext)
   */
  public ClusterGrpcService(ClusterRouting routing, Clock clock, Limits limits,
      Executor watchExecutor, int watchBufferCapacity,
      dev.lightspeed.orchestrator.metrics.DomainMetrics metrics,
      io.grpc.ChannelCredentials memberCredentials) {
    this.members = new MemberChannels(memberCredentials);
    this.relay = new StreamRelay(routing, members);
    this.metrics = metrics;
    this.routing = routing;
    this.clock = clock;
    this.limits = limits;
    this.watchExecutor = watchExecutor;
    this.watchBufferCapacity = watchBufferCapacity;
    this.work = new ClusterWorkStreams(routing, clock, watchExecutor);
  }

  /**
   * The interceptor that relays the WatchStarted, WatchEvents and Work streams of a pipeline whose
   * group does not include this node to a member ({@link StreamRelay}); the innermost, so that
   * the caller is authenticated here first and the call counted here as any other.
   */
  /** The relayed streams' figures, registered on {@code /metrics} by the server. */
  public io.prometheus.metrics.model.registry.MultiCollector relayMetrics() {
    return relay.metrics();
  }

  public io.grpc.ServerInterceptor relay() {
    return relay;
  }

  /** Closes the channels to the other members (and the streams relayed over them). */
  @Override
  public void close() {
    members.close();
  }

  // ---- pipelines -----------------------------------------------------------------------------

  @Override
  public void createPipeline(
      CreatePipelineRequest req, StreamObserver<CreatePipelineResponse> out) {
    String name = req.getSpec().getName();
    write(out, name, "spec.", false, (byte) 0,
        () -> {
          limits.heap().checkRoom("pipelines");
          return creating(ProtoMapper.toCore(req.getSpec()));
        },
        spec -> CreatePipelineResponse.newBuilder()
            .setPipeline(ProtoMapper.toProto((PipelineSpec) spec)).build());
  }

  @Override
  public void getPipeline(GetPipelineRequest req, StreamObserver<GetPipelineResponse> out) {
    read(out, req.getStaleOk(), req.getName(), ClusterEntries.Read.GET_PIPELINE, req,
        GetPipelineResponse.parser());
  }

  @Override
  public void listPipelines(ListPipelinesRequest req, StreamObserver<ListPipelinesResponse> out) {
    int size;
    try {
      size = Paging.pageSize(req.getPageSize());
    } catch (Rejection r) {
      out.onError(ErrorMapper.toException(r, null, ""));
      return;
    }
    byte[] query = ClusterEntries.query(ClusterEntries.Read.LIST_PIPELINES, "", req.toByteArray());
    (req.getStaleOk() ? routing.readEveryGroupStale(query) : routing.readEveryGroup(query))
        .whenComplete((replies, failure) -> {
      if (failure != null) {
        out.onError(unavailable(null, failure));
        return;
      }
      // Each group's page, merged in name order: a pipeline lives in one group only.
      List<dev.lightspeed.orchestrator.v1.PipelineSpec> all = new ArrayList<>();
      boolean more = false;
      for (byte[] reply : replies) {
        Object result = ReplyCodec.decode(reply);
        if (result instanceof Rejection r) {
          out.onError(ErrorMapper.toException(r, null, ""));
          return;
        }
        ListPipelinesResponse page = parse(ListPipelinesResponse.parser(), (byte[]) result);
        all.addAll(page.getPipelinesList());
        more |= !page.getNextPageToken().isEmpty();
      }
      all.sort(Comparator.comparing(dev.lightspeed.orchestrator.v1.PipelineSpec::getName));
      ListPipelinesResponse.Builder resp = ListPipelinesResponse.newBuilder();
      resp.addAllPipelines(all.subList(0, Math.min(size, all.size())));
      if (more || all.size() > size) {
        resp.setNextPageToken(Paging.token("pipelines", all.get(size - 1).getName()));
      }
      out.onNext(resp.build());
      out.onCompleted();
    });
  }

  @Override
  public void updatePipeline(
      UpdatePipelineRequest req, StreamObserver<UpdatePipelineResponse> out) {
    String name = req.getPipeline().getName();
    submit(out, name, "", true, (byte) 0, () -> RequestMapper.updatePipeline(req), result -> {
      out.onNext(ResponseMapper.updatePipeline(result));
      out.onCompleted();
    }, ClusterGrpcService::specFieldInRequest);
  }

  @Override
  public void deletePipeline(
      DeletePipelineRequest req, StreamObserver<DeletePipelineResponse> out) {
    write(out, req.getName(), "", false, req.getForce() ? ClusterEntries.FORCE : 0,
        Command.DeletePipeline::new, (Void none) -> DeletePipelineResponse.getDefaultInstance());
  }

  // ---- batches -------------------------------------------------------------------------------

  @Override
  public void enqueueBatch(EnqueueBatchRequest req, StreamObserver<EnqueueBatchResponse> out) {
    write(out, req.getPipeline(), "batch.", true, (byte) 0, () -> {
      limits.heap().checkRoom("batches");
      return RequestMapper.enqueue(req);
    }, results -> {
      metrics.enqueueRefusals("EnqueueBatch", results);
      return ResponseMapper.enqueueBatch(results);
    });
  }

  @Override
  public void enqueueBatches(
      EnqueueBatchesRequest req, StreamObserver<EnqueueBatchesResponse> out) {
    write(out, req.getPipeline(), "", true, (byte) 0, () -> {
      limits.checkItems("batches", req.getBatchesCount());
      limits.heap().checkRoom("batches");
      return RequestMapper.enqueue(req);
    }, results -> {
      metrics.enqueueRefusals("EnqueueBatches", results);
      return ResponseMapper.enqueueBatches(req, results);
    });
  }

  @Override
  public void startAvailable(
      StartAvailableRequest req, StreamObserver<StartAvailableResponse> out) {
    String name = req.getPipeline();
    // The batches are IN_FLIGHT once the command is applied, whether or not this caller reads
    // them: if it goes away, their leases expire and they are retried (as on one node).
    submit(out, name, "", true, (byte) 0, () -> RequestMapper.startAvailable(req),
        (StartResult result) -> {
          for (StartedBatch s : result.started()) {
            out.onNext(ResponseMapper.started(s));
          }
          out.onCompleted();
        }, UnaryOperator.identity());
  }

  @Override
  public void watchStarted(WatchStartedRequest req, StreamObserver<WatchStartedResponse> out) {
    watch(out, req.getPipeline(), watches -> watches.watchStarted(req, out));
  }

  @Override
  public void watchEvents(WatchEventsRequest req, StreamObserver<WatchEventsResponse> out) {
    watch(out, req.getPipeline(), watches -> watches.watchEvents(req, out));
  }

  /**
   * Registers a watch on this node's replica of the pipeline ({@link ClusterReplicas#awaitLocal}).
   * The watch then sees what this replica applies from then on: committed starts and events, as
   * every replica applies them. gRPC lets a handler set a stream's ready and cancel handlers only
   * before it returns, so the watch is registered here, on the handler's thread, after a bounded
   * wait.
   */
  private <T> void watch(StreamObserver<T> out, String pipeline, Consumer<WatchStreams> open) {
    PipelineRegistry replica;
    try {
      replica = ClusterReplicas.awaitLocal(routing, pipeline, "watch it");
    } catch (io.grpc.StatusRuntimeException refused) {
      out.onError(refused);
      return;
    }
    open.accept(new WatchStreams(replica, watchExecutor, watchBufferCapacity, limits));
  }

  @Override
  public void ackBatch(AckBatchRequest req, StreamObserver<AckBatchResponse> out) {
    write(out, req.getPipeline(), "", true, (byte) 0, () -> RequestMapper.ack(req),
        ResponseMapper::ackBatch);
  }

  @Override
  public void ackBatches(AckBatchesRequest req, StreamObserver<AckBatchesResponse> out) {
    RequestMapper.Acks[] acks = new RequestMapper.Acks[1];
    write(out, req.getPipeline(), "", true, (byte) 0, () -> {
      limits.checkItems("acks", req.getAcksCount());
      acks[0] = RequestMapper.acks(req);
      return acks[0].command();
    }, results -> {
      metrics.acked("AckBatches", acks[0].invalid(), results);
      return ResponseMapper.ackBatches(req, acks[0].invalid(), results);
    });
  }

  @Override
  public void failBatch(FailBatchRequest req, StreamObserver<FailBatchResponse> out) {
    write(out, req.getPipeline(), "", true, (byte) 0, () -> RequestMapper.fail(req),
        ResponseMapper::failBatch);
  }

  @Override
  public void extendLease(ExtendLeaseRequest req, StreamObserver<ExtendLeaseResponse> out) {
    write(out, req.getPipeline(), "", true, (byte) 0, () -> RequestMapper.extendLease(req),
        ResponseMapper::extendLease);
  }

  /** The Work stream, served by this node ({@link ClusterWorkStream}). */
  @Override
  public StreamObserver<WorkRequest> work(StreamObserver<WorkResponse> out) {
    return work.open(out);
  }

  // ---- operators and runs --------------------------------------------------------------------

  @Override
  public void applyAction(ApplyActionRequest req, StreamObserver<ApplyActionResponse> out) {
    write(out, req.getPipeline(), OrchestratorGrpcService.actionFieldPrefix(req.getAction()),
        true, (byte) 0, () -> RequestMapper.applyAction(req),
        message -> ApplyActionResponse.getDefaultInstance());
  }

  @Override
  public void startRun(StartRunRequest req, StreamObserver<StartRunResponse> out) {
    write(out, req.getPipeline(), "", true, (byte) 0, Command.StartRun::new,
        ResponseMapper::startRun);
  }

  @Override
  public void completeRun(CompleteRunRequest req, StreamObserver<CompleteRunResponse> out) {
    write(out, req.getPipeline(), "", true, (byte) 0, Command.CompleteRun::new,
        ResponseMapper::completeRun);
  }

  // ---- queries -------------------------------------------------------------------------------

  @Override
  public void listBatches(ListBatchesRequest req, StreamObserver<ListBatchesResponse> out) {
    read(out, req.getStaleOk(), req.getPipeline(), ClusterEntries.Read.LIST_BATCHES, req,
        ListBatchesResponse.parser());
  }

  @Override
  public void listRetries(ListRetriesRequest req, StreamObserver<ListRetriesResponse> out) {
    read(out, req.getStaleOk(), req.getPipeline(), ClusterEntries.Read.LIST_RETRIES, req,
        ListRetriesResponse.parser());
  }

  @Override
  public void listDeadLetters(
      ListDeadLettersRequest req, StreamObserver<ListDeadLettersResponse> out) {
    read(out, req.getStaleOk(), req.getPipeline(), ClusterEntries.Read.LIST_DEAD_LETTERS, req,
        ListDeadLettersResponse.parser());
  }

  @Override
  public void listRuns(ListRunsRequest req, StreamObserver<ListRunsResponse> out) {
    read(out, req.getStaleOk(), req.getPipeline(), ClusterEntries.Read.LIST_RUNS, req,
        ListRunsResponse.parser());
  }

  @Override
  public void listAuditLog(ListAuditLogRequest req, StreamObserver<ListAuditLogResponse> out) {
    read(out, req.getStaleOk(), req.getPipeline(), ClusterEntries.Read.LIST_AUDIT_LOG, req,
        ListAuditLogResponse.parser());
  }

  @Override
  public void getStatus(GetStatusRequest req, StreamObserver<GetStatusResponse> out) {
    read(out, req.getStaleOk(), req.getPipeline(), ClusterEntries.Read.GET_STATUS, req,
        GetStatusResponse.parser());
  }

  // ---- how a call runs -----------------------------------------------------------------------

  /** Replicates the command and answers with its mapped result, or the apply's refusal. */
  private <R, T> void write(
      StreamObserver<T> out, String pipeline, String fieldPrefix, boolean onPipeline, byte flags,
      Supplier<? extends Command<R>> command, Function<R, T> reply) {
    submit(out, pipeline, fieldPrefix, onPipeline, flags, command, result -> {
      out.onNext(reply.apply(result));
      out.onCompleted();
    }, UnaryOperator.identity());
  }

  /**
   * Maps the request to its command here, with the time of this node; replicates it; hands the
   * apply's typed result to {@code answer}. A refusal (from mapping the request, from the apply,
   * or from mapping the result) is answered as on one node.
   */
  @SuppressWarnings("unchecked")
  private <R, T> void submit(
      StreamObserver<T> out, String pipeline, String fieldPrefix, boolean onPipeline, byte flags,
      Supplier<? extends Command<R>> command, Consumer<R> answer,
      UnaryOperator<Rejection> restate) {
    byte[] entry;
    try {
      CallGuard.ensureCallLive();
      entry = ClusterEntries.entry(pipeline, clock.millis(), command.get(), flags);
    } catch (Rejection r) {
      if (onPipeline) {
        refuseUnlessMissing(out, pipeline, fieldPrefix, restate.apply(r));
      } else {
        out.onError(ErrorMapper.toException(r, pipeline, fieldPrefix));
      }
      return;
    } catch (RuntimeException e) {
      out.onError(ErrorMapper.toException(e, pipeline));
      return;
    }
    routing.write(pipeline, entry).whenComplete((bytes, failure) -> {
      if (failure != null) {
        out.onError(unavailable(pipeline, failure));
        return;
      }
      try {
        Object result = ReplyCodec.decode(bytes);
        if (result instanceof Rejection r) {
          throw r;
        }
        answer.accept((R) result);
      } catch (Rejection r) {
        out.onError(ErrorMapper.toException(restate.apply(r), pipeline, fieldPrefix));
      } catch (RuntimeException e) {
        out.onError(ErrorMapper.toException(e, pipeline));
      }
    });
  }

  /**
   * One node answers PIPELINE_NOT_FOUND before any check of the request; a cluster node checks
   * the request before it knows whether the pipeline exists, so a refused request costs one read
   * to keep that order.
   */
  private <T> void refuseUnlessMissing(
      StreamObserver<T> out, String pipeline, String fieldPrefix, Rejection r) {
    byte[] query = ClusterEntries.query(ClusterEntries.Read.GET_PIPELINE, pipeline, new byte[0]);
    routing.read(pipeline, query).whenComplete((bytes, failure) -> {
      if (failure != null) {
        out.onError(unavailable(pipeline, failure));
        return;
      }
      Object result = ReplyCodec.decode(bytes);
      Rejection answer = result instanceof Rejection missing
          && missing.reason() == ServerReason.PIPELINE_NOT_FOUND ? missing : r;
      out.onError(ErrorMapper.toException(answer, pipeline, answer == r ? fieldPrefix : ""));
    });
  }

  /**
   * A read-index read of the pipeline's group, answered by the leader's state; with {@code
   * stale_ok}, by this node's own replica as it is (docs/cluster.md, "Reads").
   */
  private <T> void read(
      StreamObserver<T> out, boolean staleOk, String pipeline, ClusterEntries.Read read,
      MessageLite req, Parser<T> parser) {
    byte[] query = ClusterEntries.query(read, pipeline, req.toByteArray());
    (staleOk ? routing.readStale(pipeline, query) : routing.read(pipeline, query))
        .whenComplete((bytes, failure) -> {
          if (failure != null) {
            out.onError(unavailable(pipeline, failure));
            return;
          }
          Object result = ReplyCodec.decode(bytes);
          if (result instanceof Rejection r) {
            out.onError(ErrorMapper.toException(r, pipeline, ""));
            return;
          }
          out.onNext(parse(parser, (byte[]) result));
          out.onCompleted();
        });
  }

  private static <T> T parse(Parser<T> parser, byte[] bytes) {
    try {
      return parser.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("a cluster node's reply is not a valid response", e);
    }
  }

  /** The group had no leader that answered within the Raft client's retries. */
  private io.grpc.StatusRuntimeException unavailable(String pipeline, Throwable failure) {
    return ClusterReplicas.unavailable(routing, pipeline, failure);
  }

  /** This node's own view, answered here: comparing the nodes' answers is the point. */
  @Override
  public void getClusterStatus(dev.lightspeed.orchestrator.v1.GetClusterStatusRequest req,
      StreamObserver<dev.lightspeed.orchestrator.v1.GetClusterStatusResponse> out) {
    dev.lightspeed.orchestrator.v1.GetClusterStatusResponse status;
    try {
      status = routing.status();
    } catch (java.io.IOException | RuntimeException e) {
      out.onError(ErrorMapper.toException(Rejection.of(ServerReason.JOURNAL_UNAVAILABLE,
          "this node cannot read its Raft groups (is it stopping?): " + e.getMessage()),
          null, ""));
      return;
    }
    out.onNext(status);
    out.onCompleted();
  }

  /**
   * Runs the change on this node's thread for the call (it waits for every affected group's
   * configuration change: seconds, an operator's call). A group that did not answer fails the
   * call UNAVAILABLE; what changed stays, and the same call again finishes it.
   */
  @Override
  public void addClusterNode(dev.lightspeed.orchestrator.v1.AddClusterNodeRequest req,
      StreamObserver<dev.lightspeed.orchestrator.v1.AddClusterNodeResponse> out) {
    membershipChange(out, () -> routing.addNode(req.getPeer()));
  }

  @Override
  public void removeClusterNode(dev.lightspeed.orchestrator.v1.RemoveClusterNodeRequest req,
      StreamObserver<dev.lightspeed.orchestrator.v1.RemoveClusterNodeResponse> out) {
    membershipChange(out, () -> routing.removeNode(req.getNodeId()));
  }

  private interface Change<T> {
    T run() throws java.io.IOException;
  }

  private static <T> void membershipChange(StreamObserver<T> out, Change<T> change) {
    T reply;
    try {
      reply = change.run();
    } catch (Rejection r) {
      out.onError(ErrorMapper.toException(r, null, ""));
      return;
    } catch (java.io.IOException | RuntimeException e) {
      out.onError(ErrorMapper.toException(Rejection.of(ServerReason.JOURNAL_UNAVAILABLE,
          "the membership change did not finish: " + e.getMessage() + "; what changed so far is"
              + " kept: send the same call again once every node involved answers"), null, ""));
      return;
    }
    out.onNext(reply);
    out.onCompleted();
  }

  /**
   * CreatePipeline returns nothing to one node's registry; the cluster's apply returns the
   * effective spec (every default filled in), which the reply carries.
   */
  @SuppressWarnings("unchecked")
  private static Command<Object> creating(PipelineSpec spec) {
    return (Command<Object>) (Command<?>) new Command.CreatePipeline(spec);
  }

  /** UpdatePipeline's spec fields are named by their request path, as on one node. */
  private static Rejection specFieldInRequest(Rejection r) {
    if (r.reason() != Reason.INVALID_PIPELINE_SPEC || r.field() == null) {
      return r;
    }
    String prefix = r.field() + ": ";
    String m = r.getMessage();
    return Rejection.ofField(r.reason(), "pipeline." + r.field(),
        m.startsWith(prefix) ? m.substring(prefix.length()) : m);
  }
}
