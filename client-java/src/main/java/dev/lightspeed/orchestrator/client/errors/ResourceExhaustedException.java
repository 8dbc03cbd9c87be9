package dev.lightspeed.orchestrator.client.errors;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.RetryInfo;
import java.time.Duration;

/**
 * RESOURCE_EXHAUSTED: backpressure (QUEUE_FULL and LAG_EXCEEDED, which have their own types),
 * WATCH_BUFFER_FULL (a WatchStarted stream that fell behind; watch again and reconcile with
 * ListBatches), TOO_MANY_WATCHERS (the pipeline has the most WatchStarted streams the server
 * allows; close one first) or TOO_MANY_PIPELINES (the server holds the most pipelines it allows;
 * delete one first). A message too large for the transport has no reason ({@link #reason()}
 * is {@code UNKNOWN}).
 */
public class ResourceExhaustedException extends OrchestratorException {
  private static final long serialVersionUID = 1L;

  ResourceExhaustedException(RpcError error, Throwable cause) {
    super(error, cause);
  }

  /**
   * How long the server asks the caller to wait before trying again (its {@code
   * google.rpc.RetryInfo}), or {@link Duration#ZERO} when it gave none.
   */
  public Duration retryDelay() {
    for (Any detail : status().getDetailsList()) {
      if (detail.is(RetryInfo.class)) {
        try {
          com.google.protobuf.Duration d = detail.unpack(RetryInfo.class).getRetryDelay();
          return Duration.ofSeconds(d.getSeconds(), d.getNanos());
        } catch (InvalidProtocolBufferException e) {
          return Duration.ZERO;
        }
      }
    }
    return Duration.ZERO;
  }
}
