package dev.lightspeed.orchestrator.client.errors;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * The one place where gRPC statuses become typed exceptions: it reads the {@code
 * google.rpc.ErrorInfo} of the domain {@value #DOMAIN} and picks the type by reason, else by
 * code. Also usable on the per-item {@code google.rpc.Status} of EnqueueBatches and AckBatches.
 */
public final class OrchestratorErrors {
  /** The ErrorInfo domain of the server's reasons. */
  public static final String DOMAIN = "lightspeed.orchestrator";

  private OrchestratorErrors() {}

  /**
   * {@code t} as an {@link OrchestratorException}: mapped from a gRPC status exception (also when
   * wrapped in a CompletionException or ExecutionException), returned as is if it already is one,
   * else wrapped as UNKNOWN.
   */
  public static OrchestratorException from(Throwable t) {
    Throwable cause = t;
    while ((cause instanceof CompletionException || cause instanceof ExecutionException)
        && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof OrchestratorException e) {
      return e;
    }
    if (cause instanceof StatusRuntimeException || cause instanceof StatusException) {
      com.google.rpc.Status status = StatusProto.fromThrowable(cause);
      Throwable transportCause = Status.fromThrowable(cause).getCause();
      if (status.getDetailsCount() == 0 && transportCause != null) {
        // e.g. UNAVAILABLE "io exception": say what actually failed (connection refused, ...)
        status = status.toBuilder()
            .setMessage(status.getMessage() + ": " + transportCause.getMessage())
            .build();
      }
      return fromStatus(status, cause);
    }
    Status status = Status.fromThrowable(cause);
    String message = status.getDescription() != null ? status.getDescription() : cause.toString();
    return fromStatus(
        com.google.rpc.Status.newBuilder()
            .setCode(status.getCode().value())
            .setMessage(message)
            .build(),
        cause);
  }

  /** A call's closing status and trailers, as an exception (the status must not be OK). */
  public static OrchestratorException fromStatus(Status status, Metadata trailers) {
    return fromStatus(
        StatusProto.fromStatusAndTrailers(status, trailers == null ? new Metadata() : trailers),
        status.asRuntimeException(trailers));
  }

  /** A rich status, e.g. a per-item {@code EnqueueResult.error}, as an exception. */
  public static OrchestratorException fromStatus(com.google.rpc.Status status) {
    return fromStatus(status, null);
  }

  private static OrchestratorException fromStatus(com.google.rpc.Status status, Throwable cause) {
    Status.Code code = Status.fromCodeValue(status.getCode()).getCode();
    String reasonName = "";
    Map<String, String> metadata = Map.of();
    for (Any detail : status.getDetailsList()) {
      if (detail.is(ErrorInfo.class)) {
        try {
          ErrorInfo info = detail.unpack(ErrorInfo.class);
          if (DOMAIN.equals(info.getDomain())) {
            reasonName = info.getReason();
            metadata = info.getMetadataMap();
            break;
          }
        } catch (InvalidProtocolBufferException e) {
          // a malformed detail carries no reason
        }
      }
    }
    RpcError error = new RpcError(code, reasonName, metadata, status);
    return switch (ErrorReason.of(reasonName)) {
      case QUEUE_FULL -> new QueueFullException(error, cause);
      case LAG_EXCEEDED -> new LagExceededException(error, cause);
      case STALE_ATTEMPT -> new StaleAttemptException(error, cause);
      default -> switch (code) {
        case INVALID_ARGUMENT -> new InvalidArgumentException(error, cause);
        case NOT_FOUND -> new NotFoundException(error, cause);
        case ALREADY_EXISTS -> new AlreadyExistsException(error, cause);
        case FAILED_PRECONDITION -> new FailedPreconditionException(error, cause);
        case RESOURCE_EXHAUSTED -> new ResourceExhaustedException(error, cause);
        default -> new OrchestratorException(error, cause);
      };
    };
  }
}
