package dev.lightspeed.orchestrator.core;

/**
 * One connector of a pipeline's plan (SPEC section 2).
 *
 * @param name unique in the plan
 * @param kind SOURCE or SINK; at most one of each per stage
 * @param stage a declared stage
 * @param disabled a disabled connector refuses enqueues to its stage and stops its stage starting
 * @param maxBatchRecords the largest batch the stage accepts; 0 = unlimited
 * @param deadLetterDestination where dead letters of the stage go; empty = fall back (see {@link
 *     PipelineRuntime#failBatch})
 * @param ordered an ordered connector makes its stage start strictly one batch at a time, in
 *     enqueue order
 */
public record Connector(
    String name,
    ConnectorKind kind,
    String stage,
    boolean disabled,
    long maxBatchRecords,
    String deadLetterDestination,
    boolean ordered) {

  public Connector {
    deadLetterDestination = deadLetterDestination == null ? "" : deadLetterDestination;
  }

  /** A connector with the defaults of SPEC section 2: enabled, unlimited, unordered. */
  public static Connector of(String name, ConnectorKind kind, String stage) {
    return new Connector(name, kind, stage, false, 0, "", false);
  }

  public Connector withDisabled(boolean value) {
    return new Connector(
        name, kind, stage, value, maxBatchRecords, deadLetterDestination, ordered);
  }

  public Connector withMaxBatchRecords(long value) {
    return new Connector(name, kind, stage, disabled, value, deadLetterDestination, ordered);
  }

  public Connector withDeadLetterDestination(String value) {
    return new Connector(name, kind, stage, disabled, maxBatchRecords, value, ordered);
  }

  public Connector withOrdered(boolean value) {
    return new Connector(name, kind, stage, disabled, maxBatchRecords, deadLetterDestination, value);
  }
}
