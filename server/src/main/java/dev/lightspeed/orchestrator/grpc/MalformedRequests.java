package dev.lightspeed.orchestrator.grpc;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.host.ServerReason;
import dev.lightspeed.orchestrator.metrics.ServerMetrics;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A request whose bytes are not a valid protobuf encoding of the RPC's request type is answered
 * INVALID_ARGUMENT MALFORMED_REQUEST with an ErrorInfo, like every other refusal, and reaches no
 * handler. Without this, grpc-java parses requests outside every interceptor and answers a bad
 * one UNKNOWN "Application error processing RPC" with a stack trace in the log for each, which
 * tells the client nothing and lets anyone flood the log.
 *
 * <p>How: the service is served with InputStream messages ({@link StreamMessages}), so that
 * parsing happens inside this interceptor's listener, where a parse failure can be caught. Logs each refusal at DEBUG ({@code
 * event=malformed_request}).
 */
public final class MalformedRequests implements ServerInterceptor {
  private static final Logger log = LoggerFactory.getLogger(MalformedRequests.class);

  /**
   * grpc-netty logs a WARNING with a stack trace for every request over the message size limit,
   * which a hostile client could use to flood the log; the client is told RESOURCE_EXHAUSTED
   * either way. Held here: JUL keeps only weak references to its loggers.
   */
  private static final java.util.logging.Logger OVERSIZE_LOG =
      java.util.logging.Logger.getLogger("io.grpc.netty.NettyServerStream");

  private final ServerMetrics metrics;

  /** Stops grpc-netty's per-request stack trace for oversized messages (see above). */
  public static void quietOversizeWarnings() {
    OVERSIZE_LOG.setLevel(java.util.logging.Level.SEVERE);
  }

  private MalformedRequests(ServerMetrics metrics) {
    this.metrics = metrics;
  }

  /** {@code service}, refusing malformed requests; {@code metrics} may be null. */
  public static ServerServiceDefinition guard(
      ServerServiceDefinition service, ServerMetrics metrics) {
    return ServerInterceptors.intercept(
        StreamMessages.of(service), new MalformedRequests(metrics));
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    AtomicBoolean closed = new AtomicBoolean();
    ServerCall<Q, R> tracked = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        if (closed.compareAndSet(false, true)) {
          super.close(status, trailers);
        }
      }
    };
    ServerCall.Listener<Q> listener = next.startCall(tracked, headers);
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
      private boolean refused;

      @Override
      public void onMessage(Q message) {
        if (refused) {
          return;
        }
        try {
          super.onMessage(message);
        } catch (StatusRuntimeException e) {
          if (!(e.getCause() instanceof InvalidProtocolBufferException bad)) {
            throw e;
          }
          refused = true;
          refuse(tracked, bad);
        }
      }

      @Override
      public void onHalfClose() {
        if (!refused) {
          super.onHalfClose();
        }
      }
    };
  }

  private void refuse(ServerCall<?, ?> call, InvalidProtocolBufferException cause) {
    String method = call.getMethodDescriptor().getBareMethodName();
    log.atDebug()
        .addKeyValue("event", "malformed_request")
        .addKeyValue("method", method)
        .log("request refused: {}", cause.getMessage());
    if (metrics != null) {
      metrics.rejections
          .labelValues(method, "INVALID_ARGUMENT", ServerReason.MALFORMED_REQUEST.name())
          .inc();
    }
    StatusRuntimeException status = ErrorMapper.toException(
        Rejection.of(ServerReason.MALFORMED_REQUEST,
            "the request is not a valid " + call.getMethodDescriptor().getFullMethodName()
                + " request message (" + cause.getMessage() + "); send it with a gRPC client"
                + " generated from the service's .proto files"),
        null, "");
    call.close(status.getStatus(), status.getTrailers());
  }
}
