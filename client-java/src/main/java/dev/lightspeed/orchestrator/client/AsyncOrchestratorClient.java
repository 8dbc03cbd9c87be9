package dev.lightspeed.orchestrator.client;

import static dev.lightspeed.orchestrator.client.UnaryCalls.unary;

import dev.lightspeed.orchestrator.v1.AckBatchRequest;
import dev.lightspeed.orchestrator.v1.AckBatchResponse;
import dev.lightspeed.orchestrator.v1.AckBatchesRequest;
import dev.lightspeed.orchestrator.v1.AckBatchesResponse;
import dev.lightspeed.orchestrator.v1.AckItem;
import dev.lightspeed.orchestrator.v1.AckResult;
import dev.lightspeed.orchestrator.v1.ApplyActionRequest;
import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.CompleteRunRequest;
import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.CreatePipelineResponse;
import dev.lightspeed.orchestrator.v1.DeletePipelineRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchResponse;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesResponse;
import dev.lightspeed.orchestrator.v1.EnqueueResult;
import dev.lightspeed.orchestrator.v1.Event;
import dev.lightspeed.orchestrator.v1.EventType;
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
import dev.lightspeed.orchestrator.v1.OperatorAction;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.PipelineSpec;
import dev.lightspeed.orchestrator.v1.ProcessOutcome;
import dev.lightspeed.orchestrator.v1.RunSummary;
import dev.lightspeed.orchestrator.v1.StartAvailableRequest;
import dev.lightspeed.orchestrator.v1.StartAvailableResponse;
import dev.lightspeed.orchestrator.v1.StartRunRequest;
import dev.lightspeed.orchestrator.v1.UpdatePipelineRequest;
import dev.lightspeed.orchestrator.v1.UpdatePipelineResponse;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import dev.lightspeed.orchestrator.v1.WatchEventsRequest;
import dev.lightspeed.orchestrator.v1.WatchEventsResponse;
import dev.lightspeed.orchestrator.v1.WatchStartedRequest;
import dev.lightspeed.orchestrator.v1.WatchStartedResponse;
import io.grpc.CallOptions;
import io.grpc.Channel;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;

/**
 * The non-blocking form of {@link OrchestratorClient}: the same calls, same deadline and retries,
 * as {@link CompletableFuture}s that fail with the typed exceptions of the {@code errors} package.
 * Cancelling a future cancels its call. Futures complete on the client's executor (see {@link
 * OrchestratorClient.Builder#directExecutor()}): don't block in their callbacks unless it is a
 * thread pool. Obtain it with {@link OrchestratorClient#async()}.
 */
public final class AsyncOrchestratorClient {
  private final Channel channel;
  private final Duration deadline;

  AsyncOrchestratorClient(Channel channel, Duration deadline) {
    this.channel = channel;
    this.deadline = deadline;
  }

  // ---- pipelines -----------------------------------------------------------------------------

  /** {@link OrchestratorClient#updatePipeline}, asynchronously. */
  public CompletableFuture<PipelineSpec> updatePipeline(
      PipelineSpec values, java.util.List<String> updateMask) {
    return unary(
            channel,
            OrchestratorServiceGrpc.getUpdatePipelineMethod(),
            options(),
            UpdatePipelineRequest.newBuilder()
                .setPipeline(values)
                .setUpdateMask(com.google.protobuf.FieldMask.newBuilder().addAllPaths(updateMask))
                .build())
        .thenApply(UpdatePipelineResponse::getPipeline);
  }

  public CompletableFuture<PipelineSpec> createPipeline(PipelineSpec spec) {
    return unary(
            channel,
            OrchestratorServiceGrpc.getCreatePipelineMethod(),
            options(),
            CreatePipelineRequest.newBuilder().setSpec(spec).build())
        .thenApply(CreatePipelineResponse::getPipeline);
  }

  public CompletableFuture<PipelineSpec> getPipeline(String name) {
    return getPipeline(name, false);
  }

  /** As {@link OrchestratorClient#getPipeline(String, boolean)}. */
  public CompletableFuture<PipelineSpec> getPipeline(String name, boolean staleOk) {
    return unary(
            channel,
            OrchestratorServiceGrpc.getGetPipelineMethod(),
            options(),
            GetPipelineRequest.newBuilder().setName(name).setStaleOk(staleOk).build())
        .thenApply(GetPipelineResponse::getPipeline);
  }

  public CompletableFuture<ListPipelinesResponse> listPipelines(ListPipelinesRequest request) {
    return unary(channel, OrchestratorServiceGrpc.getListPipelinesMethod(), options(), request);
  }

  public CompletableFuture<Void> deletePipeline(String name, boolean force) {
    return unary(
            channel,
            OrchestratorServiceGrpc.getDeletePipelineMethod(),
            options(),
            DeletePipelineRequest.newBuilder().setName(name).setForce(force).build())
        .thenApply(r -> null);
  }

  // ---- batches -------------------------------------------------------------------------------

  /** Completes with whether the enqueue was a deduplicated repeat. */
  public CompletableFuture<Boolean> enqueueBatch(String pipeline, Batch batch) {
    return unary(
            channel,
            OrchestratorServiceGrpc.getEnqueueBatchMethod(),
            options(),
            EnqueueBatchRequest.newBuilder().setPipeline(pipeline).setBatch(batch).build())
        .thenApply(EnqueueBatchResponse::getDeduplicated);
  }

  public CompletableFuture<List<EnqueueResult>> enqueueBatches(
      String pipeline, List<Batch> batches) {
    return unary(
            channel,
            OrchestratorServiceGrpc.getEnqueueBatchesMethod(),
            options(),
            EnqueueBatchesRequest.newBuilder().setPipeline(pipeline).addAllBatches(batches).build())
        .thenApply(EnqueueBatchesResponse::getResultsList);
  }

  public CompletableFuture<List<StartedBatch>> startAvailable(String pipeline, int maxBatches) {
    return startAvailable(
        StartAvailableRequest.newBuilder().setPipeline(pipeline).setMaxBatches(maxBatches).build());
  }

  public CompletableFuture<List<StartedBatch>> startAvailable(StartAvailableRequest request) {
    return UnaryCalls.collect(
        channel,
        OrchestratorServiceGrpc.getStartAvailableMethod(),
        options(),
        request,
        StartAvailableResponse::getStarted);
  }

  /**
   * Every batch started in the pipeline from now on, as a {@link Flow.Publisher}: each {@code
   * subscribe} opens one WatchStarted stream, which delivers no more than the subscriber requests
   * (gRPC flow control) and ends when the subscription is cancelled. A subscriber that falls far
   * behind is cut off by the server ({@code WATCH_BUFFER_FULL} in {@code onError}).
   */
  public Flow.Publisher<StartedBatch> watchStarted(String pipeline) {
    return new WatchPublisher<>(
        channel,
        OrchestratorServiceGrpc.getWatchStartedMethod(),
        WatchStartedRequest.newBuilder().setPipeline(pipeline).build(),
        WatchStartedResponse::getStarted);
  }

  /**
   * The pipeline's events (WatchEvents) after {@code afterEventId} (null = from now on), only of
   * {@code types} (empty = all), as a {@link Flow.Publisher}: each {@code subscribe} opens one
   * stream that delivers no more than the subscriber requests. Unlike the blocking {@link
   * OrchestratorClient#watchEvents} iterator it does not resume by itself: when the stream ends
   * with an error (the server cut a reader that fell behind with {@code WATCH_BUFFER_FULL}, the
   * connection was lost), subscribe again with the last event id seen; the server replays what it
   * still retains, or refuses with {@code EVENTS_EXPIRED}.
   */
  public Flow.Publisher<Event> watchEvents(
      String pipeline, Long afterEventId, List<EventType> types) {
    WatchEventsRequest.Builder request =
        WatchEventsRequest.newBuilder().setPipeline(pipeline).addAllTypes(types);
    if (afterEventId != null) {
      request.setAfterEventId(afterEventId);
    }
    return new WatchPublisher<>(
        channel,
        OrchestratorServiceGrpc.getWatchEventsMethod(),
        request.build(),
        WatchEventsResponse::getEvent);
  }

  public CompletableFuture<ProcessOutcome> ackBatch(String pipeline, String key, int attempt) {
    return unary(
            channel,
            OrchestratorServiceGrpc.getAckBatchMethod(),
            options(),
            AckBatchRequest.newBuilder()
                .setPipeline(pipeline)
                .setKey(key)
                .setAttempt(attempt)
                .build())
        .thenApply(AckBatchResponse::getOutcome);
  }

  public CompletableFuture<List<AckResult>> ackBatches(String pipeline, List<AckItem> acks) {
    return unary(
            channel,
            OrchestratorServiceGrpc.getAckBatchesMethod(),
            options(),
            AckBatchesRequest.newBuilder().setPipeline(pipeline).addAllAcks(acks).build())
        .thenApply(AckBatchesResponse::getResultsList);
  }

  public CompletableFuture<ProcessOutcome> failBatch(
      String pipeline, String key, int attempt, String reason, boolean nonRetryable) {
    return failBatch(Requests.failBatch(pipeline, key, attempt, reason, nonRetryable));
  }

  public CompletableFuture<ProcessOutcome> failBatch(FailBatchRequest request) {
    return unary(channel, OrchestratorServiceGrpc.getFailBatchMethod(), options(), request)
        .thenApply(FailBatchResponse::getOutcome);
  }

  /** Completes with the new lease deadline (epoch ms). */
  public CompletableFuture<Long> extendLease(String pipeline, String key, int attempt) {
    return extendLease(pipeline, key, attempt, deadline);
  }

  /** ExtendLease with its own deadline: a heartbeat is useless once the lease is over. */
  CompletableFuture<Long> extendLease(
      String pipeline, String key, int attempt, Duration callDeadline) {
    return unary(
            channel,
            OrchestratorServiceGrpc.getExtendLeaseMethod(),
            options(callDeadline),
            ExtendLeaseRequest.newBuilder()
                .setPipeline(pipeline)
                .setKey(key)
                .setAttempt(attempt)
                .build())
        .thenApply(ExtendLeaseResponse::getLeaseDeadlineMs);
  }

  // ---- operators and runs --------------------------------------------------------------------

  public CompletableFuture<Void> applyAction(String pipeline, OperatorAction action) {
    return unary(
            channel,
            OrchestratorServiceGrpc.getApplyActionMethod(),
            options(),
            ApplyActionRequest.newBuilder().setPipeline(pipeline).setAction(action).build())
        .thenApply(r -> null);
  }

  public CompletableFuture<RunSummary> startRun(String pipeline) {
    return unary(
            channel,
            OrchestratorServiceGrpc.getStartRunMethod(),
            options(),
            StartRunRequest.newBuilder().setPipeline(pipeline).build())
        .thenApply(r -> r.getRun());
  }

  public CompletableFuture<Optional<RunSummary>> completeRun(String pipeline) {
    return unary(
            channel,
            OrchestratorServiceGrpc.getCompleteRunMethod(),
            options(),
            CompleteRunRequest.newBuilder().setPipeline(pipeline).build())
        .thenApply(r -> r.hasRun() ? Optional.of(r.getRun()) : Optional.empty());
  }

  // ---- queries -------------------------------------------------------------------------------

  public CompletableFuture<ListBatchesResponse> listBatches(ListBatchesRequest request) {
    return unary(channel, OrchestratorServiceGrpc.getListBatchesMethod(), options(), request);
  }

  public CompletableFuture<ListRetriesResponse> listRetries(ListRetriesRequest request) {
    return unary(channel, OrchestratorServiceGrpc.getListRetriesMethod(), options(), request);
  }

  public CompletableFuture<ListDeadLettersResponse> listDeadLetters(
      ListDeadLettersRequest request) {
    return unary(channel, OrchestratorServiceGrpc.getListDeadLettersMethod(), options(), request);
  }

  public CompletableFuture<ListRunsResponse> listRuns(ListRunsRequest request) {
    return unary(channel, OrchestratorServiceGrpc.getListRunsMethod(), options(), request);
  }

  public CompletableFuture<ListAuditLogResponse> listAuditLog(ListAuditLogRequest request) {
    return unary(channel, OrchestratorServiceGrpc.getListAuditLogMethod(), options(), request);
  }

  public CompletableFuture<GetStatusResponse> getStatus(String pipeline) {
    return getStatus(pipeline, false);
  }

  /** As {@link OrchestratorClient#getStatus(String, boolean)}. */
  public CompletableFuture<GetStatusResponse> getStatus(String pipeline, boolean staleOk) {
    return unary(
        channel,
        OrchestratorServiceGrpc.getGetStatusMethod(),
        options(),
        GetStatusRequest.newBuilder().setPipeline(pipeline).setStaleOk(staleOk).build());
  }

  private CallOptions options() {
    return options(deadline);
  }

  private static CallOptions options(Duration callDeadline) {
    return callDeadline == null
        ? CallOptions.DEFAULT
        : CallOptions.DEFAULT.withDeadlineAfter(callDeadline.toNanos(), TimeUnit.NANOSECONDS);
  }
}
