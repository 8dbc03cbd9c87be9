package dev.lightspeed.orchestrator.client.errors;

import io.grpc.Status;
import java.util.Map;

/**
 * A call that the server refused or that failed on the way. {@link #reason()} is the stable
 * reason of the server's {@code google.rpc.ErrorInfo}; {@link #code()} the gRPC status code. The
 * subclasses group the reasons by code, and a few reasons a caller acts on have their own type
 * ({@link QueueFullException}, {@link LagExceededException}, {@link StaleAttemptException}).
 * Transport failures (UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED, INTERNAL) are this class itself,
 * with reason {@link ErrorReason#UNKNOWN}.
 *
 * <p>The message is the server's: it says what to change, for people, not for parsing.
 */
public class OrchestratorException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final Status.Code code;
  private final ErrorReason reason;
  private final String reasonName;
  private final transient Map<String, String> metadata;
  private final transient com.google.rpc.Status status;

  OrchestratorException(RpcError error, Throwable cause) {
    super(error.status().getMessage(), cause);
    this.code = error.code();
    this.reason = ErrorReason.of(error.reasonName());
    this.reasonName = error.reasonName();
    this.metadata = Map.copyOf(error.metadata());
    this.status = error.status();
  }

  /** The gRPC status code. */
  public Status.Code code() {
    return code;
  }

  /** The reason, or {@link ErrorReason#UNKNOWN} when the status carried none this client knows. */
  public ErrorReason reason() {
    return reason;
  }

  /**
   * The reason as the server sent it (also one newer than this client), or the status code's name
   * (e.g. {@code UNAVAILABLE}) when the status carried no ErrorInfo.
   */
  public String reasonName() {
    return reasonName.isEmpty() ? code.name() : reasonName;
  }

  /** The ErrorInfo metadata, e.g. {@code pipeline} and {@code field}; empty when none. */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** The whole rich status, with every detail the server attached. */
  public com.google.rpc.Status status() {
    return status;
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + ": " + reasonName() + ": " + getMessage();
  }
}
