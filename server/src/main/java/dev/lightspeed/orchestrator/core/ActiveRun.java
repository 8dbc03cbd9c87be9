package dev.lightspeed.orchestrator.core;

/** The counters of the run in progress; frozen into a {@link RunSummary} when it completes. */
final class ActiveRun {
  final long runId;
  final long startedAtMs;
  long batchesProcessed;
  long recordsProcessed;
  long retriesScheduled;
  long deadLettered;

  ActiveRun(long runId, long startedAtMs) {
    this.runId = runId;
    this.startedAtMs = startedAtMs;
  }

  RunSummary summary(long completedAtMs) {
    return new RunSummary(
        runId,
        startedAtMs,
        completedAtMs,
        batchesProcessed,
        recordsProcessed,
        retriesScheduled,
        deadLettered);
  }
}
