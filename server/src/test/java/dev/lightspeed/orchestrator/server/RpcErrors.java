package dev.lightspeed.orchestrator.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.util.List;
import java.util.Optional;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** Assertions on AIP-193 errors: code, ErrorInfo reason and domain, and the other details. */
public final class RpcErrors {
  public static final String DOMAIN = "lightspeed.orchestrator";

  private RpcErrors() {}

  /**
   * Runs {@code call}, which must fail with {@code code} and an ErrorInfo of {@code reason} in the
   * orchestrator's domain; returns the rich status for further checks.
   */
  public static com.google.rpc.Status assertRefused(
      ThrowingCallable call, Status.Code code, String reason) {
    Throwable thrown = catchThrowable(call);
    assertThat(thrown)
        .as("the call must be refused with %s %s", code, reason)
        .isInstanceOf(StatusRuntimeException.class);
    com.google.rpc.Status status = StatusProto.fromThrowable(thrown);
    assertThat(status).as("rich status (grpc-status-details-bin) of %s", thrown).isNotNull();
    assertThat(Status.fromThrowable(thrown).getCode()).isEqualTo(code);
    return assertStatus(status, code, reason);
  }

  /** Checks a rich status, e.g. the per-item error of a bulk RPC. */
  public static com.google.rpc.Status assertStatus(
      com.google.rpc.Status status, Status.Code code, String reason) {
    assertThat(status.getCode()).as("code of %s", status).isEqualTo(code.value());
    ErrorInfo info = errorInfo(status);
    assertThat(info.getReason()).as("ErrorInfo.reason, message: %s", status.getMessage())
        .isEqualTo(reason);
    assertThat(info.getDomain()).isEqualTo(DOMAIN);
    assertThat(status.getMessage()).as("the message says what to change").isNotBlank();
    return status;
  }

  /** The one ErrorInfo of a status. */
  public static ErrorInfo errorInfo(com.google.rpc.Status status) {
    List<ErrorInfo> infos = details(status, ErrorInfo.class);
    assertThat(infos).as("ErrorInfo details of %s", status).hasSize(1);
    return infos.get(0);
  }

  public static Optional<BadRequest> badRequest(com.google.rpc.Status status) {
    return details(status, BadRequest.class).stream().findFirst();
  }

  public static Optional<RetryInfo> retryInfo(com.google.rpc.Status status) {
    return details(status, RetryInfo.class).stream().findFirst();
  }

  /** The fields named by the BadRequest of a status (empty if it has none). */
  public static List<String> violatedFields(com.google.rpc.Status status) {
    return badRequest(status).stream()
        .flatMap(b -> b.getFieldViolationsList().stream())
        .map(BadRequest.FieldViolation::getField)
        .toList();
  }

  private static <T extends Message> List<T> details(com.google.rpc.Status status, Class<T> type) {
    return status.getDetailsList().stream()
        .filter(any -> any.is(type))
        .map(any -> unpack(any, type))
        .toList();
  }

  private static <T extends Message> T unpack(Any any, Class<T> type) {
    try {
      return any.unpack(type);
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError("undecodable " + type.getSimpleName() + " detail", e);
    }
  }
}
