package dev.lightspeed.orchestrator.core;

/**
 * The backpressure boundary of a pipeline (SPEC section 2).
 *
 * @param maxInFlight how many batches may be IN_FLIGHT at once, ≥ 1
 * @param maxQueued enqueue is refused with QUEUE_FULL while QUEUED + RETRY_WAIT ≥ this, ≥ 1
 * @param maxLagMs enqueue is refused with LAG_EXCEEDED when the batch's lag is larger; 0 =
 *     unlimited
 * @param maxInFlightRecords the records budget of all IN_FLIGHT batches together; 0 = unlimited
 * @param leaseMs how long a started batch may run before it is failed with "lease expired"; 0 =
 *     leases never expire
 */
public record Boundary(
    int maxInFlight, long maxQueued, long maxLagMs, long maxInFlightRecords, long leaseMs) {

  public static final int DEFAULT_MAX_IN_FLIGHT = 64;
  public static final long DEFAULT_MAX_QUEUED = 10_000;
  public static final long DEFAULT_LEASE_MS = 30_000;

  public static final Boundary DEFAULT =
      new Boundary(DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_QUEUED, 0, 0, DEFAULT_LEASE_MS);

  public Boundary withMaxInFlight(int value) {
    return new Boundary(value, maxQueued, maxLagMs, maxInFlightRecords, leaseMs);
  }

  public Boundary withMaxQueued(long value) {
    return new Boundary(maxInFlight, value, maxLagMs, maxInFlightRecords, leaseMs);
  }

  public Boundary withMaxLagMs(long value) {
    return new Boundary(maxInFlight, maxQueued, value, maxInFlightRecords, leaseMs);
  }

  public Boundary withMaxInFlightRecords(long value) {
    return new Boundary(maxInFlight, maxQueued, maxLagMs, value, leaseMs);
  }

  public Boundary withLeaseMs(long value) {
    return new Boundary(maxInFlight, maxQueued, maxLagMs, maxInFlightRecords, value);
  }
}
