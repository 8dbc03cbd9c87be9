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
    started = List.copyOf(started);
    expired = List.copyOf(expired);
  }
}
