package dev.lightspeed.orchestrator.client;

/**
 * Counters of a {@link Worker} since it started.
 *
 * @param started batches started by this worker
 * @param acked acks the server accepted
 * @param retriesScheduled failures reported that scheduled a retry
 * @param deadLettered failures reported that dead-lettered the batch
 * @param reportsDropped acks and failures dropped because the lease had been lost (STALE_ATTEMPT,
 *     NOT_IN_FLIGHT, BATCH_NOT_FOUND, or a FailureRejected outcome)
 * @param leasesLost heartbeats answered STALE_ATTEMPT, NOT_IN_FLIGHT or BATCH_NOT_FOUND
 * @param reportErrors acks and failures that could not be delivered (e.g. UNAVAILABLE after the
 *     retries); such a batch is started again when its lease expires
 */
public record WorkerStats(
    long started,
    long acked,
    long retriesScheduled,
    long deadLettered,
    long reportsDropped,
    long leasesLost,
    long reportErrors) {}
