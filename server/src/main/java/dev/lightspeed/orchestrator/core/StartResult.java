package dev.lightspeed.orchestrator.core;

import java.util.List;

/**
 * What one {@code start_available} did.
 *
 * @param started the batches started, in start order
 * @param expired the outcomes of the leases that expired first, in expiry order
 */
public record StartResult(List<StartedBatch> started, List<ProcessOutcome> expired) {
  public StartResult {
    // The runtime hands over lists it never touches again: wrap them, no copy on the hot path.
    started = java.util.Collections.unmodifiableList(started);
    expired = java.util.Collections.unmodifiableList(expired);
  }
}
