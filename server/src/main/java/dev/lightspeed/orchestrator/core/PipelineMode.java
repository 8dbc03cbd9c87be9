package dev.lightspeed.orchestrator.core;

/**
 * The operator mode of a pipeline. DRAINED is derived: it is reported instead of DRAINING
 * whenever nothing is queued, in flight or waiting to retry.
 */
public enum PipelineMode {
  RUNNING,
  PAUSED,
  DRAINING,
  DRAINED
}
