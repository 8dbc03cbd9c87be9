package dev.lightspeed.orchestrator.core;

/**
 * How failed attempts are retried (SPEC section 2).
 *
 * @param maxAttempts attempts in all, the first included, ≥ 1; the failure of attempt {@code
 *     maxAttempts} dead-letters the batch
 * @param initialBackoffMs the wait after the first failed attempt
 * @param maxBackoffMs the cap on any wait
 * @param multiplier growth of the wait per failed attempt, ≥ 1.0
 */
public record RetryPolicy(
    int maxAttempts, long initialBackoffMs, long maxBackoffMs, double multiplier) {

  public static final RetryPolicy DEFAULT = new RetryPolicy(5, 1_000, 60_000, 2.0);

  /**
   * The wait after failed attempt {@code attempt} (≥ 1): {@code min(max_backoff_ms,
   * floor(initial_backoff_ms * multiplier^(attempt-1)))} in IEEE-754 doubles with {@link
   * StrictMath#pow}, so that every machine computes the same millisecond.
   */
  public long backoffMs(int attempt) {
    double raw = initialBackoffMs * StrictMath.pow(multiplier, attempt - 1);
    // A double beyond Long.MAX_VALUE (or +Infinity) narrows to Long.MAX_VALUE: the cap wins.
    long floored = (long) Math.floor(raw);
    return Math.min(maxBackoffMs, floored);
  }

  public RetryPolicy withMaxAttempts(int value) {
    return new RetryPolicy(value, initialBackoffMs, maxBackoffMs, multiplier);
  }

  public RetryPolicy withInitialBackoffMs(long value) {
    return new RetryPolicy(maxAttempts, value, maxBackoffMs, multiplier);
  }

  public RetryPolicy withMaxBackoffMs(long value) {
    return new RetryPolicy(maxAttempts, initialBackoffMs, value, multiplier);
  }

  public RetryPolicy withMultiplier(double value) {
    return new RetryPolicy(maxAttempts, initialBackoffMs, maxBackoffMs, value);
  }
}
