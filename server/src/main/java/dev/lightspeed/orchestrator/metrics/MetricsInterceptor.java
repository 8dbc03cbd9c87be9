package dev.lightspeed.orchestrator.metrics;

import dev.lightspeed.orchestrator.core.Rejection;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * Counts each OrchestratorService call from the wire: its duration by RPC and status code, and,
 * for a refused call, its reason (the {@link Rejection} that {@link ErrorMapper} put as the
 * status's cause). Installed outermost, so it also sees the calls that authentication refuses.
 * What the calls did (enqueued, deduplicated, failure outcomes, refused bulk items) is counted by
 * the service from the core's typed results ({@link DomainMetrics}), not inferred here.
 */
public final class MetricsInterceptor implements ServerInterceptor {
  private final ServerMetrics metrics;

  public MetricsInterceptor(ServerMetrics metrics) {
    this.metrics = metrics;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    return next.startCall(new Observed<>(call, metrics), headers);
  }

  /** One call: counts its duration and status when it closes. */
  private static final class Observed<Q, R>
      extends ForwardingServerCall.SimpleForwardingServerCall<Q, R> {
    private final ServerMetrics metrics;
    private final String method;
    private final long startNanos = System.nanoTime();

    Observed(ServerCall<Q, R> call, ServerMetrics metrics) {
      super(call);
      this.metrics = metrics;
      this.method = call.getMethodDescriptor().getBareMethodName();
    }

    @Override
    public void close(Status status, Metadata trailers) {
      try {
        String code = status.getCode().name();
        metrics.latency.labelValues(method, code)
            .observe((System.nanoTime() - startNanos) / 1e9);
        if (!status.isOk() && status.getCause() instanceof Rejection r) {
          metrics.rejections.labelValues(method, code, r.reason().name()).inc();
        }
      } finally {
        super.close(status, trailers);
      }
    }
  }
}
