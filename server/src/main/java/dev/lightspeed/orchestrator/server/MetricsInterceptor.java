package dev.lightspeed.orchestrator.server;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import dev.lightspeed.orchestrator.v1.DeletePipelineRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchResponse;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesResponse;
import dev.lightspeed.orchestrator.v1.EnqueueResult;
import dev.lightspeed.orchestrator.v1.AckBatchesResponse;
import dev.lightspeed.orchestrator.v1.AckResult;
import dev.lightspeed.orchestrator.v1.FailBatchRequest;
import dev.lightspeed.orchestrator.v1.FailBatchResponse;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;

/**
 * Counts what the OrchestratorService answers, from the wire: each call's duration by RPC and
 * code, each refusal by its ErrorInfo reason (per item too, for the bulk RPCs), and the outcomes
 * that responses show (enqueued or deduplicated, failure outcomes). Installed outermost, so it
 * also sees the calls that authentication refuses.
 */
final class MetricsInterceptor implements ServerInterceptor {
  private final ServerMetrics metrics;

  MetricsInterceptor(ServerMetrics metrics) {
    this.metrics = metrics;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    Observed<Q, R> observed = new Observed<>(call, metrics);
    ServerCall.Listener<Q> listener = next.startCall(observed, headers);
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onMessage(Q message) {
        observed.request = message;
        super.onMessage(message);
      }
    };
  }

  /** One call: remembers its request, counts its responses and its status. */
  private static final class Observed<Q, R>
      extends ForwardingServerCall.SimpleForwardingServerCall<Q, R> {
    private final ServerMetrics metrics;
    private final String method;
    private final long startNanos = System.nanoTime();
    volatile Object request;

    Observed(ServerCall<Q, R> call, ServerMetrics metrics) {
      super(call);
      this.metrics = metrics;
      this.method = call.getMethodDescriptor().getBareMethodName();
    }

    @Override
    public void sendMessage(R message) {
      try {
        countResponse(message);
      } finally {
        super.sendMessage(message);
      }
    }

    @Override
    public void close(Status status, Metadata trailers) {
      try {
        metrics.latency
            .labelValues(method, status.getCode().name())
            .observe((System.nanoTime() - startNanos) / 1e9);
        if (!status.isOk()) {
          String reason = reason(StatusProto.fromStatusAndTrailers(status, trailers));
          if (reason != null) {
            metrics.rejections.labelValues(method, status.getCode().name(), reason).inc();
          }
        } else if (request instanceof DeletePipelineRequest d) {
          metrics.forget(d.getName());
        }
      } finally {
        super.close(status, trailers);
      }
    }

    private void countResponse(Object message) {
      if (message instanceof EnqueueBatchResponse r && request instanceof EnqueueBatchRequest q) {
        (r.getDeduplicated() ? metrics.deduplicated : metrics.enqueued)
            .labelValues(q.getPipeline()).inc();
      } else if (message instanceof EnqueueBatchesResponse r
          && request instanceof EnqueueBatchesRequest q) {
        for (EnqueueResult item : r.getResultsList()) {
          if (item.hasError()) {
            itemRefused(item.getError());
          } else {
            (item.getDeduplicated() ? metrics.deduplicated : metrics.enqueued)
                .labelValues(q.getPipeline()).inc();
          }
        }
      } else if (message instanceof AckBatchesResponse r) {
        for (AckResult item : r.getResultsList()) {
          if (item.hasError()) {
            itemRefused(item.getError());
          }
        }
      } else if (message instanceof FailBatchResponse r && request instanceof FailBatchRequest q) {
        switch (r.getOutcome().getOutcomeCase()) {
          case RETRY_SCHEDULED -> {
            metrics.failed.labelValues(q.getPipeline()).inc();
            metrics.retried.labelValues(q.getPipeline()).inc();
          }
          case DEAD_LETTERED -> {
            metrics.failed.labelValues(q.getPipeline()).inc();
            metrics.deadLettered.labelValues(q.getPipeline()).inc();
          }
          case FAILURE_REJECTED -> metrics.staleFailures.labelValues(q.getPipeline()).inc();
          default -> { }
        }
      }
    }

    private void itemRefused(com.google.rpc.Status status) {
      String reason = reason(status);
      if (reason != null) {
        metrics.rejections
            .labelValues(method, Status.fromCodeValue(status.getCode()).getCode().name(), reason)
            .inc();
      }
    }

    /** The ErrorInfo reason of a rich status in the orchestrator's domain, else null. */
    private static String reason(com.google.rpc.Status status) {
      if (status == null) {
        return null;
      }
      for (Any detail : status.getDetailsList()) {
        if (detail.is(ErrorInfo.class)) {
          try {
            ErrorInfo info = detail.unpack(ErrorInfo.class);
            return ErrorMapper.DOMAIN.equals(info.getDomain()) ? info.getReason() : null;
          } catch (InvalidProtocolBufferException e) {
            return null;
          }
        }
      }
      return null;
    }
  }
}
