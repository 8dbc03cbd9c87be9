package dev.lightspeed.orchestrator.core;

/**
 * A live batch as the queries show it.
 *
 * @param attempt 0 until the first start
 * @param readyAtMs when the batch became (or becomes) ready to start: its enqueue or redrive time
 *     when QUEUED, its retry time in RETRY_WAIT; kept as it was in the other states
 * @param leaseDeadlineMs the lease deadline while IN_FLIGHT with a lease, else 0
 */
public record BatchView(
    Batch batch, BatchState state, int attempt, long readyAtMs, long leaseDeadlineMs) {}
