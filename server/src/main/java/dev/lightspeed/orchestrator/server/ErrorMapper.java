package dev.lightspeed.orchestrator.server;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import dev.lightspeed.orchestrator.core.Reason;
import dev.lightspeed.orchestrator.core.Rejection;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where refusals become gRPC statuses (AIP-193). Each {@link Reason} maps to one
 * code through its category; the status carries a {@code google.rpc.ErrorInfo} with the reason
 * and the domain {@value #DOMAIN}, a {@code BadRequest} field violation for invalid input, and a
 * {@code RetryInfo} for backpressure. Anything else is a server fault: logged here with its stack
 * trace, answered as INTERNAL with no detail.
 */
final class ErrorMapper {
  static final String DOMAIN = "lightspeed.orchestrator";
  private static final Logger log = LoggerFactory.getLogger(ErrorMapper.class);

  private ErrorMapper() {}

  /** The rich status of a refusal, as sent on the wire or inside a per-item result. */
  static com.google.rpc.Status toStatus(Rejection r, String pipeline, String fieldPrefix) {
    ErrorInfo.Builder info = ErrorInfo.newBuilder().setReason(r.reason().name()).setDomain(DOMAIN);
    if (pipeline != null && !pipeline.isEmpty()) {
      info.putMetadata("pipeline", pipeline);
    }
    String field = r.field() == null ? null : fieldPrefix + r.field();
    if (field != null) {
      info.putMetadata("field", field);
    }
    com.google.rpc.Status.Builder status =
        com.google.rpc.Status.newBuilder()
            .setCode(code(r.reason()).getNumber())
            .setMessage(r.getMessage())
            .addDetails(Any.pack(info.build()));
    if (field != null && r.reason().category() == Reason.Category.INVALID_ARGUMENT) {
      status.addDetails(
          Any.pack(
              BadRequest.newBuilder()
                  .addFieldViolations(
                      BadRequest.FieldViolation.newBuilder()
                          .setField(field)
                          .setDescription(r.getMessage())
                          .setReason(r.reason().name()))
                  .build()));
    }
    if (r.retryAfterMs() > 0) {
      long ms = r.retryAfterMs();
      status.addDetails(
          Any.pack(
              RetryInfo.newBuilder()
                  .setRetryDelay(
                      Duration.newBuilder()
                          .setSeconds(ms / 1000)
                          .setNanos((int) (ms % 1000) * 1_000_000))
                  .build()));
    }
    return status.build();
  }

  static StatusRuntimeException toException(Rejection r, String pipeline, String fieldPrefix) {
    return StatusProto.toStatusRuntimeException(toStatus(r, pipeline, fieldPrefix));
  }

  /** Any throwable from a handler, as the status to send; unexpected ones are logged. */
  static StatusRuntimeException toException(Throwable t, String pipeline) {
    if (t instanceof Rejection r) {
      return toException(r, pipeline, "");
    }
    if (t instanceof StatusRuntimeException s) {
      return s;
    }
    log.error("internal error in pipeline '{}'", pipeline, t);
    return Status.INTERNAL
        .withDescription("internal server error; the server log has the details")
        .asRuntimeException();
  }

  static Code code(Reason reason) {
    return switch (reason.category()) {
      case INVALID_ARGUMENT -> Code.INVALID_ARGUMENT;
      case NOT_FOUND -> Code.NOT_FOUND;
      case ALREADY_EXISTS -> Code.ALREADY_EXISTS;
      case FAILED_PRECONDITION -> Code.FAILED_PRECONDITION;
      case RESOURCE_EXHAUSTED -> Code.RESOURCE_EXHAUSTED;
      case ABORTED -> Code.ABORTED;
      case UNAUTHENTICATED -> Code.UNAUTHENTICATED;
      case PERMISSION_DENIED -> Code.PERMISSION_DENIED;
    };
  }
}
