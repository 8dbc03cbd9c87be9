package dev.lightspeed.orchestrator.core;

/**
 * A pipeline run: a label on the work done between start_run and complete_run.
 *
 * @param completedAtMs 0 while the run is active
 */
public record RunSummary(
    long runId,
    long startedAtMs,
    long completedAtMs,
    long batchesProcessed,
    long recordsProcessed,
    long retriesScheduled,
    long deadLettered) {}
