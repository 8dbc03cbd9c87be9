package dev.lightspeed.orchestrator.core;

/**
 * A consistent snapshot of a pipeline's counters and health.
 *
 * @param queuedCount QUEUED + RETRY_WAIT
 * @param retryWaitCount the RETRY_WAIT part of {@code queuedCount}
 * @param activeRunId 0 when no run is active
 * @param invalidReason the broken invariant when {@code valid} is false, else empty
 */
public record PipelineStatus(
    long queuedCount,
    long retryWaitCount,
    long inFlightCount,
    long deadLetterCount,
    PipelineMode mode,
    int effectiveMaxInFlight,
    long activeRunId,
    String signature,
    boolean valid,
    String invalidReason) {}
