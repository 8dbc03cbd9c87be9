package dev.lightspeed.orchestrator.grpc;

import dev.lightspeed.orchestrator.core.Command;
import dev.lightspeed.orchestrator.core.ItemResults;
import dev.lightspeed.orchestrator.core.ProcessOutcome;
import dev.lightspeed.orchestrator.core.Reason;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.host.PipelineHandle;
import dev.lightspeed.orchestrator.host.ServerReason;
import dev.lightspeed.orchestrator.v1.WorkAck;
import dev.lightspeed.orchestrator.v1.WorkOpen;
import dev.lightspeed.orchestrator.v1.WorkRequest;
import dev.lightspeed.orchestrator.v1.WorkResponse;
import dev.lightspeed.orchestrator.v1.WorkResult;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * What a Work stream's requests do to its pipeline (SPEC 4.2): the checks of {@code open}, and
 * ack, fail and extend applied through {@link PipelineHandle#execute} exactly as the unary
 * AckBatches, FailBatch and ExtendLease do, each turned into its {@link WorkResult}. It exists
 * apart from {@link WorkStream}, which owns the stream's protocol (flow control, slots, sending),
 * so that the rules of a request read without the machinery that carries its answer; what it
 * returns is sent by the stream once {@link Reply#durable} completes.
 */
final class WorkRequests {
  private WorkRequests() {}

  /** Results to send, in order, once {@code durable} completes. */
  record Reply(List<WorkResponse> results, CompletableFuture<Void> durable) {}

  /**
   * Checks {@code open}'s capacity (1 to {@code maxCapacity}) and stages (declared by {@code
   * handle}'s pipeline); returns the stages, sorted (the stream's stage key).
   */
  static List<String> checkOpen(WorkOpen open, PipelineHandle handle, int maxCapacity) {
    if (open.getCapacity() < 1 || open.getCapacity() > maxCapacity) {
      throw Rejection.ofField(ServerReason.INVALID_REQUEST, "open.capacity",
          "must be between 1 and " + maxCapacity + " (got " + open.getCapacity()
              + "): the number of batches this worker processes at once");
    }
    List<String> declared = handle.read(q -> q.spec().stages());
    TreeSet<String> stages = new TreeSet<>();
    for (String s : open.getStagesList()) {
      if (!declared.contains(s)) {
        throw Rejection.ofField(Reason.UNKNOWN_STAGE, "open.stages",
            "unknown stage '" + s.replaceAll("\\p{Cntrl}", "?") + "'; use one of " + declared);
      }
      stages.add(s);
    }
    return List.copyOf(stages);
  }

  /**
   * Applies consecutive acks as one bulk ack (see {@link WorkRequestCoalescer}), each answered
   * with its own result, in order, once the bulk is durable: the outcomes and refusals are those
   * of applying them one after another, and a refused ack refuses only itself.
   */
  static Reply acks(PipelineHandle handle, String pipeline, List<WorkAck> acks, Clock clock) {
    RequestMapper.Acks mapped = RequestMapper.acks(acks);
    Rejection[] invalid = mapped.invalid();
    int valid = mapped.command().size();
    ItemResults<ProcessOutcome.Processed> applied = null;
    Rejection refusedAll = null;
    // Nothing valid: the refusals report state earlier changes made, sent once those are durable.
    CompletableFuture<Void> durable = handle.settled();
    if (valid > 0) {
      try {
        var executed = handle.execute(mapped.command(), clock.millis());
        applied = executed.result();
        durable = executed.durable();
      } catch (Rejection r) {
        if (r.reason() == ServerReason.PIPELINE_NOT_FOUND) {
          throw r;
        }
        refusedAll = r;
        durable = handle.settled();
      }
    }
    List<WorkResponse> results = ackResults(acks, invalid, applied, refusedAll, pipeline);
    return new Reply(results, durable);
  }

  /**
   * The results of consecutive acks applied as one bulk ack, in order: the invalid ones refused
   * by their own checks, the others by {@code refusedAll} (the whole bulk was refused) or by their
   * item of {@code applied}. Also a cluster node's ({@link ClusterWorkStream}).
   */
  static List<WorkResponse> ackResults(List<WorkAck> acks, Rejection[] invalid,
      ItemResults<ProcessOutcome.Processed> applied, Rejection refusedAll, String pipeline) {
    List<WorkResponse> results = new ArrayList<>(acks.size());
    for (int i = 0, next = 0; i < acks.size(); i++) {
      WorkResult.Builder result = result(acks.get(i).getRequestId());
      Rejection r = invalid[i] != null ? invalid[i]
          : refusedAll != null ? refusedAll
          : applied.refusal(next);
      if (r != null) {
        result.setError(ErrorMapper.toStatus(r, pipeline, "ack."));
      } else {
        result.setOutcome(ProtoMapper.toProto(applied.value(next)));
      }
      if (invalid[i] == null) {
        next++;
      }
      results.add(response(result));
    }
    return results;
  }

  /** A fail's result: its outcome. */
  static WorkResponse failed(long requestId, ProcessOutcome outcome) {
    return response(result(requestId).setOutcome(ProtoMapper.toProto(outcome)));
  }

  /** An extend's result: the new lease deadline. */
  static WorkResponse extended(long requestId, long leaseDeadlineMs) {
    return response(result(requestId).setLeaseDeadlineMs(leaseDeadlineMs));
  }

  /** A refused request's result; {@code fieldPrefix} is "fail." or "extend.". */
  static WorkResponse refused(
      long requestId, Rejection r, String pipeline, String fieldPrefix) {
    return response(result(requestId).setError(ErrorMapper.toStatus(r, pipeline, fieldPrefix)));
  }

  /**
   * Applies a request other than an ack, alone; throws what ends the stream (PIPELINE_NOT_FOUND,
   * a second open, an empty request).
   */
  static Reply other(
      PipelineHandle handle, String pipeline, WorkRequest request, Clock clock) {
    switch (request.getRequestCase()) {
      case FAIL -> {
        var fail = request.getFail();
        return answer(handle, pipeline, fail.getRequestId(), "fail.", () -> {
          var done = handle.execute(new Command.Fail(
              fail.getKey(), fail.getAttempt(), fail.getReason(), fail.getNonRetryable()),
              clock.millis());
          return new Answer(
              WorkResult.newBuilder().setOutcome(ProtoMapper.toProto(done.result())),
              done.durable());
        });
      }
      case EXTEND -> {
        var extend = request.getExtend();
        return answer(handle, pipeline, extend.getRequestId(), "extend.", () -> {
          var done = handle.execute(
              RequestMapper.extendLease(extend.getKey(), extend.getAttempt()), clock.millis());
          return new Answer(WorkResult.newBuilder().setLeaseDeadlineMs(done.result()),
              done.durable());
        });
      }
      case OPEN -> throw Rejection.ofField(ServerReason.INVALID_REQUEST, "open",
          "this Work stream is open already; `open` is only the first request");
      default -> throw Rejection.of(ServerReason.INVALID_REQUEST,
          "the request sets none of open, ack, fail, extend");
    }
  }

  /** A request's result and the change it waits for. */
  private record Answer(WorkResult.Builder result, CompletableFuture<Void> durable) {}

  /**
   * Applies one request; its result is sent once durable. A refusal is the request's result
   * (the stream goes on), except PIPELINE_NOT_FOUND, which ends the stream (thrown).
   */
  private static Reply answer(PipelineHandle handle, String pipeline, long requestId,
      String fieldPrefix, Supplier<Answer> call) {
    Answer a;
    try {
      a = call.get();
    } catch (Rejection r) {
      if (r.reason() == ServerReason.PIPELINE_NOT_FOUND) {
        throw r;
      }
      // A refusal describes state an earlier change made: sent only once that is durable, as
      // the unary calls do (docs/durability.md, "What an OK means").
      return new Reply(List.of(response(result(requestId)
          .setError(ErrorMapper.toStatus(r, pipeline, fieldPrefix)))), handle.settled());
    }
    return new Reply(List.of(response(a.result().setRequestId(requestId))), a.durable());
  }

  private static WorkResponse response(WorkResult.Builder result) {
    return WorkResponse.newBuilder().setResult(result).build();
  }

  private static WorkResult.Builder result(long requestId) {
    return WorkResult.newBuilder().setRequestId(requestId);
  }
}
