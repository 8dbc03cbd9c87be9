package dev.lightspeed.orchestrator.grpc;

import dev.lightspeed.orchestrator.core.Batch;
import dev.lightspeed.orchestrator.core.Command;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.host.ServerReason;
import dev.lightspeed.orchestrator.v1.AckBatchRequest;
import dev.lightspeed.orchestrator.v1.AckBatchesRequest;
import dev.lightspeed.orchestrator.v1.ApplyActionRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesRequest;
import dev.lightspeed.orchestrator.v1.ExtendLeaseRequest;
import dev.lightspeed.orchestrator.v1.FailBatchRequest;
import dev.lightspeed.orchestrator.v1.StartAvailableRequest;
import dev.lightspeed.orchestrator.v1.UpdatePipelineRequest;
import dev.lightspeed.orchestrator.v1.WorkAck;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.function.IntFunction;
import java.util.function.IntUnaryOperator;

/**
 * Each API request that changes a pipeline, as the core {@link Command} it asks for (the
 * request side of the adapter, as Zeebe's gateway has a RequestMapper). Only the checks of the
 * request's own shape live here (a negative attempt, a negative max_batches); every rule of the
 * pipeline is the core's. The values are translated by {@link ProtoMapper}.
 */
public final class RequestMapper {
  private RequestMapper() {}

  static Command.Enqueue enqueue(EnqueueBatchRequest req) {
    return Command.Enqueue.of(ProtoMapper.toCore(req.getBatch()));
  }

  static Command.Enqueue enqueue(EnqueueBatchesRequest req) {
    List<Batch> batches = new ArrayList<>(req.getBatchesCount());
    for (int i = 0; i < req.getBatchesCount(); i++) {
      batches.add(ProtoMapper.toCore(req.getBatches(i)));
    }
    return new Command.Enqueue(batches);
  }

  static Command.StartAvailable startAvailable(StartAvailableRequest req) {
    if (req.getMaxBatches() < 0) {
      throw Rejection.ofField(
          ServerReason.INVALID_REQUEST,
          "max_batches",
          "must be ≥ 0 (got " + req.getMaxBatches() + "); 0 means no limit");
    }
    return new Command.StartAvailable(
        req.getMaxBatches(), new LinkedHashSet<>(req.getStagesList()));
  }

  static Command.StartAvailable startAvailable(int maxBatches, List<String> stages) {
    return new Command.StartAvailable(maxBatches, new LinkedHashSet<>(stages));
  }

  static Command.Ack ack(AckBatchRequest req) {
    return ack(req.getKey(), req.getAttempt());
  }

  /** One ack, from a unary call or a Work stream's request. */
  static Command.Ack ack(String key, int attempt) {
    requireAttempt(attempt, "attempt");
    return Command.Ack.of(key, attempt);
  }

  /**
   * A bulk ack: the items with a valid attempt go to the pipeline; the others are refused here,
   * by their position in the request, and never reach it.
   */
  record Acks(Command.Ack command, Rejection[] invalid) {}

  static Acks acks(AckBatchesRequest req) {
    return acks(req.getAcksCount(), i -> req.getAcks(i).getKey(), i -> req.getAcks(i).getAttempt());
  }

  /** The acks a Work stream applies together, as {@link #acks(AckBatchesRequest)}. */
  static Acks acks(List<WorkAck> acks) {
    return acks(acks.size(), i -> acks.get(i).getKey(), i -> acks.get(i).getAttempt());
  }

  private static Acks acks(int n, IntFunction<String> key, IntUnaryOperator attempt) {
    Rejection[] invalid = new Rejection[n];
    int valid = 0;
    for (int i = 0; i < n; i++) {
      try {
        requireAttempt(attempt.applyAsInt(i), "attempt");
        valid++;
      } catch (Rejection r) {
        invalid[i] = r;
      }
    }
    String[] keys = new String[valid];
    int[] attempts = new int[valid];
    for (int i = 0, next = 0; i < n; i++) {
      if (invalid[i] == null) {
        keys[next] = key.apply(i);
        attempts[next++] = attempt.applyAsInt(i);
      }
    }
    return new Acks(new Command.Ack(keys, attempts), invalid);
  }

  static Command.Fail fail(FailBatchRequest req) {
    return new Command.Fail(
        req.getKey(), req.getAttempt(), req.getReason(), req.getNonRetryable());
  }

  static Command.ExtendLease extendLease(ExtendLeaseRequest req) {
    return extendLease(req.getKey(), req.getAttempt());
  }

  static Command.ExtendLease extendLease(String key, int attempt) {
    requireAttempt(attempt, "attempt");
    return new Command.ExtendLease(key, attempt);
  }

  /** Refuses an unset action (INVALID_ACTION, field {@code action}) before anything else. */
  static Command.ApplyAction applyAction(ApplyActionRequest req) {
    return new Command.ApplyAction(ProtoMapper.toCore(req.getAction()));
  }

  public static Command.UpdatePipeline updatePipeline(UpdatePipelineRequest req) {
    return updatePipeline(req.getPipeline(), req.getUpdateMask().getPathsList());
  }

  /** Absent settings of {@code values} take their defaults, as in CreatePipeline. */
  public static Command.UpdatePipeline updatePipeline(
      dev.lightspeed.orchestrator.v1.PipelineSpec values, List<String> mask) {
    return new Command.UpdatePipeline(List.copyOf(mask), ProtoMapper.toCore(values));
  }

  /** Ack and extend_lease take attempt 0 (no fencing) or a started attempt ≥ 1. */
  static void requireAttempt(int attempt, String field) {
    if (attempt < 0) {
      throw Rejection.ofField(
          ServerReason.INVALID_REQUEST,
          field,
          "must be ≥ 0 (got " + attempt + "); 0 means any attempt, else the started attempt");
    }
  }
}
