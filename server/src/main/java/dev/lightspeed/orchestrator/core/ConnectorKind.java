package dev.lightspeed.orchestrator.core;

/** Whether a connector produces batches into its stage (SOURCE) or takes them out (SINK). */
public enum ConnectorKind {
  SOURCE,
  SINK
}
