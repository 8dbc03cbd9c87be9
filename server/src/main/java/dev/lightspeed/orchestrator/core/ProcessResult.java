package dev.lightspeed.orchestrator.core;

/**
 * What an ack reports about the work done.
 *
 * @param runId the run active at the ack; 0 when none
 */
public record ProcessResult(
    String batchKey,
    String stage,
    long records,
    int attempt,
    long runId,
    long startedAtMs,
    long completedAtMs) {}
