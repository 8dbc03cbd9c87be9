package dev.lightspeed.orchestrator.grpc;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import dev.lightspeed.orchestrator.core.Reason;
import dev.lightspeed.orchestrator.core.RefusalReason;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.v1.ErrorReason;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where refusals become gRPC statuses (AIP-193). Each reason (the core's {@link
 * Reason}s and the server's {@link ServerReason}s) maps to one code through its category, and to
 * the API's {@link ErrorReason} value of the same name; the status carries a {@code
 * google.rpc.ErrorInfo} with that value's name as the reason and the domain {@value #DOMAIN}, a {@code BadRequest} field violation for invalid input, and a
 * {@code RetryInfo} for backpressure. Anything else is a server fault: logged here with its stack
 * trace, answered as INTERNAL with no detail.
 */
public final class ErrorMapper {
  static final String DOMAIN = "lightspeed.orchestrator";
  private static final Logger log = LoggerFactory.getLogger(ErrorMapper.class);

  private ErrorMapper() {}

  /**
   * Most UTF-8 bytes of a message sent; a longer one (quoting a huge request value) is cut. The
   * message travels up to three times in the trailers (grpc-message percent-encoded, the status
   * details, a BadRequest), and clients refuse trailers beyond 8 KiB by default.
   */
  public static final int MAX_MESSAGE_BYTES = 512;
  /** Most UTF-8 bytes of an ErrorInfo metadata value sent (a pipeline name from the request). */
  static final int MAX_METADATA_BYTES = 128;

  /** The rich status of a refusal, as sent on the wire or inside a per-item result. */
  static com.google.rpc.Status toStatus(Rejection r, String pipeline, String fieldPrefix) {
    String reason = errorReason(r.reason()).name();
    ErrorInfo.Builder info = ErrorInfo.newBuilder().setReason(reason).setDomain(DOMAIN);
    if (pipeline != null && !pipeline.isEmpty()) {
      info.putMetadata("pipeline", cut(pipeline, MAX_METADATA_BYTES));
    }
    info.putAllMetadata(r.metadata());
    String field = r.field() == null ? null : fieldPrefix + r.field();
    if (field != null) {
      info.putMetadata("field", field);
    }
    com.google.rpc.Status.Builder status =
        com.google.rpc.Status.newBuilder()
            .setCode(code(r.reason()).getNumber())
            .setMessage(cut(r.getMessage(), MAX_MESSAGE_BYTES))
            .addDetails(Any.pack(info.build()));
    if (field != null && r.reason().category() == Reason.Category.INVALID_ARGUMENT) {
      status.addDetails(
          Any.pack(
              BadRequest.newBuilder()
                  .addFieldViolations(
                      BadRequest.FieldViolation.newBuilder()
                          .setField(field)
                          .setDescription(cut(r.getMessage(), MAX_MESSAGE_BYTES))
                          .setReason(reason))
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

  /** {@code text}, or as many of its first code points as fit {@code maxBytes} of UTF-8 and "…". */
  static String cut(String text, int maxBytes) {
    if (text.length() * 3 <= maxBytes) {
      return text;
    }
    int bytes = 0;
    int i = 0;
    while (i < text.length()) {
      int cp = text.codePointAt(i);
      int size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      if (bytes + size > maxBytes) {
        return text.substring(0, i) + "…";
      }
      bytes += size;
      i += Character.charCount(cp);
    }
    return text;
  }

  /**
   * The status of a refusal, with the {@link Rejection} as its cause: never sent (gRPC sends no
   * causes), but the metrics interceptor reads the typed reason from it instead of unpacking the
   * ErrorInfo just packed here.
   */
  public static StatusRuntimeException toException(
      Rejection r, String pipeline, String fieldPrefix) {
    StatusRuntimeException e =
        StatusProto.toStatusRuntimeException(toStatus(r, pipeline, fieldPrefix));
    return new StatusRuntimeException(e.getStatus().withCause(r), e.getTrailers());
  }

  /** Any throwable from a handler, as the status to send; unexpected ones are logged. */
  public static StatusRuntimeException toException(Throwable t, String pipeline) {
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

  /**
   * The API's value for a reason: the one of the same name. ErrorReasonProtoTest checks that
   * every reason has one, so this never throws for a reason of the server.
   */
  public static ErrorReason errorReason(RefusalReason reason) {
    return ErrorReason.valueOf(reason.name());
  }

  public static Code code(RefusalReason reason) {
    return switch (reason.category()) {
      case INVALID_ARGUMENT -> Code.INVALID_ARGUMENT;
      case NOT_FOUND -> Code.NOT_FOUND;
      case ALREADY_EXISTS -> Code.ALREADY_EXISTS;
      case FAILED_PRECONDITION -> Code.FAILED_PRECONDITION;
      case RESOURCE_EXHAUSTED -> Code.RESOURCE_EXHAUSTED;
      case ABORTED -> Code.ABORTED;
      case OUT_OF_RANGE -> Code.OUT_OF_RANGE;
      case UNAUTHENTICATED -> Code.UNAUTHENTICATED;
      case PERMISSION_DENIED -> Code.PERMISSION_DENIED;
      case UNAVAILABLE -> Code.UNAVAILABLE;
    };
  }
}
