package dev.lightspeed.orchestrator.client;

import dev.lightspeed.orchestrator.v1.StartedBatch;

/**
 * The work a {@link Worker} does for one started batch. Returning normally acks the batch;
 * throwing fails this attempt: retryably, unless the exception is a {@link
 * NonRetryableException}, which sends the batch to the dead letters at once. The failure reason
 * is the exception's message (its class name when it has none).
 *
 * <p>Runs on one of the worker's handler threads, up to {@link WorkerOptions#concurrency()} at a
 * time; the lease is kept alive meanwhile. It may be interrupted when the worker is aborted, or
 * when a graceful close runs out of time.
 */
@FunctionalInterface
public interface BatchHandler {
  void handle(StartedBatch batch) throws Exception;
}
