package dev.lightspeed.orchestrator.client;

/**
 * Thrown by a {@link BatchHandler} when retrying cannot help (bad data, a permanent refusal
 * downstream): the {@link Worker} fails the attempt with {@code non_retryable = true}, so the batch
 * is dead-lettered at once with this exception's message as the reason. Only this type itself (or
 * a subclass) thrown directly counts; a cause chain is not searched.
 */
public class NonRetryableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public NonRetryableException(String message) {
    super(message);
  }

  public NonRetryableException(String message, Throwable cause) {
    super(message, cause);
  }
}
