package dev.lightspeed.orchestrator.client;

import dev.lightspeed.orchestrator.v1.FailBatchRequest;

/**
 * Requests that the blocking and the asynchronous client build the same way from the same
 * arguments, written once so that the two cannot drift apart.
 */
final class Requests {
  private Requests() {}

  static FailBatchRequest failBatch(
      String pipeline, String key, int attempt, String reason, boolean nonRetryable) {
    return FailBatchRequest.newBuilder()
        .setPipeline(pipeline)
        .setKey(key)
        .setAttempt(attempt)
        .setReason(reason)
        .setNonRetryable(nonRetryable)
        .build();
  }
}
