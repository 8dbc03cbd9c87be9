package dev.lightspeed.orchestrator.client;

import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import io.grpc.MethodDescriptor;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The channel's default service config: a gRPC retry policy on UNAVAILABLE for the idempotent
 * methods only.
 *
 * <p>Why grpc-java's own retry rather than a loop around each call: it retries inside the call,
 * so one deadline covers every attempt; it only retries while no response has been received
 * (a call that already got an answer is never replayed), it buffers the request for replay,
 * applies jittered exponential backoff and honours server pushback and retry throttling; and the
 * same config covers the blocking, async and streaming forms alike. A loop would have to
 * re-implement each of those.
 *
 * <p>Which methods are idempotent, i.e. safe to send again when the first try may have been
 * applied before the connection broke:
 *
 * <ul>
 *   <li>EnqueueBatch / EnqueueBatches: every batch carries a required idempotency key, so a
 *       replay is answered {@code deduplicated = true} and changes nothing;
 *   <li>AckBatch / AckBatches: a repeated ack returns the same outcome (SPEC 3.3);
 *   <li>ExtendLease: extending twice only moves the deadline to "now + lease" again;
 *   <li>every read: GetPipeline, ListPipelines, ListBatches, ListRetries, ListDeadLetters,
 *       ListRuns, ListAuditLog, GetStatus.
 * </ul>
 *
 * <p>Not retried: StartAvailable (a replay would start more batches, and the first reply's
 * batches would be lost until their leases expire), FailBatch (a replay of an applied failure is
 * answered FailureRejected, hiding the real outcome), CreatePipeline / DeletePipeline (a replay
 * turns success into PIPELINE_EXISTS / PIPELINE_NOT_FOUND), ApplyAction (REDRIVE, DISCARD and
 * CANCEL are not idempotent and every action is audited), StartRun / CompleteRun, and the
 * WatchStarted stream. grpc-java still retries any call transparently when it provably never
 * reached the server.
 */
final class RetryServiceConfig {
  static final List<MethodDescriptor<?, ?>> IDEMPOTENT_METHODS =
      List.of(
          OrchestratorServiceGrpc.getEnqueueBatchMethod(),
          OrchestratorServiceGrpc.getEnqueueBatchesMethod(),
          OrchestratorServiceGrpc.getAckBatchMethod(),
          OrchestratorServiceGrpc.getAckBatchesMethod(),
          OrchestratorServiceGrpc.getExtendLeaseMethod(),
          OrchestratorServiceGrpc.getGetPipelineMethod(),
          OrchestratorServiceGrpc.getListPipelinesMethod(),
          OrchestratorServiceGrpc.getListBatchesMethod(),
          OrchestratorServiceGrpc.getListRetriesMethod(),
          OrchestratorServiceGrpc.getListDeadLettersMethod(),
          OrchestratorServiceGrpc.getListRunsMethod(),
          OrchestratorServiceGrpc.getListAuditLogMethod(),
          OrchestratorServiceGrpc.getGetStatusMethod());

  private RetryServiceConfig() {}

  /**
   * The service config map as grpc-java's {@code defaultServiceConfig} takes it (JSON-like: numbers
   * are doubles, durations strings such as {@code "0.100000000s"}).
   */
  static Map<String, ?> of(
      int maxAttempts, Duration initialBackoff, Duration maxBackoff, double multiplier) {
    List<Map<String, Object>> names =
        IDEMPOTENT_METHODS.stream()
            .map(
                m ->
                    Map.<String, Object>of(
                        "service", m.getServiceName(), "method", m.getBareMethodName()))
            .toList();
    Map<String, Object> retryPolicy =
        Map.of(
            "maxAttempts", (double) maxAttempts,
            "initialBackoff", seconds(initialBackoff),
            "maxBackoff", seconds(maxBackoff),
            "backoffMultiplier", multiplier,
            "retryableStatusCodes", List.of("UNAVAILABLE"));
    return Map.of("methodConfig", List.of(Map.of("name", names, "retryPolicy", retryPolicy)));
  }

  private static String seconds(Duration d) {
    return String.format("%d.%09ds", d.getSeconds(), d.getNano());
  }
}
