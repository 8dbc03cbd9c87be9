package dev.lightspeed.orchestrator.grpc;

import dev.lightspeed.orchestrator.core.ItemResults;
import dev.lightspeed.orchestrator.core.PipelineRuntime;
import dev.lightspeed.orchestrator.core.ProcessOutcome;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.core.RunSummary;
import dev.lightspeed.orchestrator.core.StartedBatch;
import dev.lightspeed.orchestrator.v1.AckBatchResponse;
import dev.lightspeed.orchestrator.v1.AckBatchesRequest;
import dev.lightspeed.orchestrator.v1.AckBatchesResponse;
import dev.lightspeed.orchestrator.v1.AckResult;
import dev.lightspeed.orchestrator.v1.CompleteRunResponse;
import dev.lightspeed.orchestrator.v1.EnqueueBatchResponse;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesResponse;
import dev.lightspeed.orchestrator.v1.EnqueueResult;
import dev.lightspeed.orchestrator.v1.ExtendLeaseResponse;
import dev.lightspeed.orchestrator.v1.FailBatchResponse;
import dev.lightspeed.orchestrator.v1.StartAvailableResponse;
import dev.lightspeed.orchestrator.v1.StartRunResponse;
import dev.lightspeed.orchestrator.v1.UpdatePipelineResponse;
import java.util.Optional;

/**
 * Each typed core result as the API response that reports it (the reply side of the adapter).
 * Item refusals of the bulk calls become per-item statuses through {@link ErrorMapper}, with the
 * item's position in the field path.
 */
final class ResponseMapper {
  private ResponseMapper() {}

  static EnqueueBatchResponse enqueueBatch(ItemResults<Boolean> results) {
    return EnqueueBatchResponse.newBuilder().setDeduplicated(results.single()).build();
  }

  static EnqueueBatchesResponse enqueueBatches(
      EnqueueBatchesRequest req, ItemResults<Boolean> results) {
    EnqueueBatchesResponse.Builder resp = EnqueueBatchesResponse.newBuilder();
    for (int i = 0; i < results.size(); i++) {
      EnqueueResult.Builder result = EnqueueResult.newBuilder().setKey(req.getBatches(i).getKey());
      Rejection r = results.refusal(i);
      if (r != null) {
        result.setError(ErrorMapper.toStatus(r, req.getPipeline(), "batches[" + i + "]."));
      } else {
        result.setDeduplicated(results.value(i));
      }
      resp.addResults(result);
    }
    return resp.build();
  }

  static StartAvailableResponse started(StartedBatch s) {
    return StartAvailableResponse.newBuilder().setStarted(ProtoMapper.toProto(s)).build();
  }

  static AckBatchResponse ackBatch(ItemResults<ProcessOutcome.Processed> results) {
    return AckBatchResponse.newBuilder().setOutcome(ProtoMapper.toProto(results.single())).build();
  }

  /** The items refused before the pipeline ({@code invalid}) and the pipeline's results. */
  static AckBatchesResponse ackBatches(
      AckBatchesRequest req, Rejection[] invalid, ItemResults<ProcessOutcome.Processed> results) {
    AckBatchesResponse.Builder resp = AckBatchesResponse.newBuilder();
    int next = 0;
    for (int i = 0; i < req.getAcksCount(); i++) {
      AckResult.Builder result = AckResult.newBuilder().setKey(req.getAcks(i).getKey());
      Rejection r = invalid[i] != null ? invalid[i] : results.refusal(next);
      if (r != null) {
        result.setError(ErrorMapper.toStatus(r, req.getPipeline(), "acks[" + i + "]."));
      } else {
        result.setOutcome(ProtoMapper.toProto(results.value(next)));
      }
      if (invalid[i] == null) {
        next++;
      }
      resp.addResults(result);
    }
    return resp.build();
  }

  static FailBatchResponse failBatch(ProcessOutcome outcome) {
    return FailBatchResponse.newBuilder().setOutcome(ProtoMapper.toProto(outcome)).build();
  }

  static ExtendLeaseResponse extendLease(long deadline) {
    return ExtendLeaseResponse.newBuilder().setLeaseDeadlineMs(deadline).build();
  }

  static StartRunResponse startRun(RunSummary run) {
    return StartRunResponse.newBuilder().setRun(ProtoMapper.toProto(run)).build();
  }

  static CompleteRunResponse completeRun(Optional<RunSummary> run) {
    CompleteRunResponse.Builder resp = CompleteRunResponse.newBuilder();
    run.ifPresent(r -> resp.setRun(ProtoMapper.toProto(r)));
    return resp.build();
  }

  static UpdatePipelineResponse updatePipeline(PipelineRuntime.UpdateResult result) {
    return UpdatePipelineResponse.newBuilder()
        .setPipeline(ProtoMapper.toProto(result.spec()))
        .build();
  }
}
