package dev.lightspeed.orchestrator.core;

/**
 * A pipeline's status read under its lock, with the signature still to be finished: finishing
 * it sorts and hashes every remembered batch, which on a busy pipeline is most of the cost, and
 * needs no lock (see {@code StateSignature.begin}).
 */
public final class StatusDraft {
  private final PipelineStatus status;
  private final long version;
  private final StateSignature.Pending pending;

  StatusDraft(PipelineStatus status, long version, StateSignature.Pending pending) {
    this.status = status;
    this.version = version;
    this.pending = pending;
  }

  /** The state version the status was read at. */
  public long version() {
    return version;
  }

  /** Whether the signature was cached already, so {@link #finish} costs nothing. */
  public boolean signatureKnown() {
    return pending == null;
  }

  /** The status with its signature. Call once, without holding the pipeline's lock. */
  public PipelineStatus finish() {
    if (pending == null) {
      return status;
    }
    String signature = pending.finish();
    return new PipelineStatus(
        status.queuedCount(),
        status.retryWaitCount(),
        status.inFlightCount(),
        status.deadLetterCount(),
        status.mode(),
        status.effectiveMaxInFlight(),
        status.activeRunId(),
        signature,
        status.valid(),
        status.invalidReason());
  }
}
