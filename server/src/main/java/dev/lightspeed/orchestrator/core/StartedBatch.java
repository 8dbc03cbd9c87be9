package dev.lightspeed.orchestrator.core;

/**
 * A batch that {@code start_available} moved to IN_FLIGHT.
 *
 * @param attempt the attempt now running, ≥ 1; pass it back to ack, fail and extend_lease
 * @param leaseDeadlineMs when the lease expires; 0 when leases never expire
 * @param runId the run active at the start; 0 when none
 */
public record StartedBatch(
    Batch batch, int attempt, long startedAtMs, long leaseDeadlineMs, long runId) {}
