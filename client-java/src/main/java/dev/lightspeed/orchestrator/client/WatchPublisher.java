package dev.lightspeed.orchestrator.client;

import dev.lightspeed.orchestrator.client.errors.OrchestratorErrors;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import dev.lightspeed.orchestrator.v1.WatchStartedRequest;
import dev.lightspeed.orchestrator.v1.WatchStartedResponse;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.Objects;
import java.util.concurrent.Flow;

/**
 * WatchStarted as a {@link Flow.Publisher}: one stream per subscription, the subscriber's demand
 * passed on as gRPC flow control. Signals come from the call's listener, which gRPC serializes,
 * so they are never concurrent (Reactive Streams rule 1.3).
 */
final class WatchPublisher implements Flow.Publisher<StartedBatch> {
  private final Channel channel;
  private final WatchStartedRequest request;

  WatchPublisher(Channel channel, WatchStartedRequest request) {
    this.channel = channel;
    this.request = request;
  }

  @Override
  public void subscribe(Flow.Subscriber<? super StartedBatch> subscriber) {
    Objects.requireNonNull(subscriber, "subscriber");
    ClientCall<WatchStartedRequest, WatchStartedResponse> call =
        channel.newCall(OrchestratorServiceGrpc.getWatchStartedMethod(), CallOptions.DEFAULT);
    Subscription subscription = new Subscription(call, subscriber);
    // Started before onSubscribe so that request() may be called from within onSubscribe; nothing
    // is delivered before the subscriber's first request.
    call.start(subscription.listener(), new Metadata());
    call.sendMessage(request);
    call.halfClose();
    subscriber.onSubscribe(subscription);
  }

  private static final class Subscription implements Flow.Subscription {
    private final ClientCall<WatchStartedRequest, WatchStartedResponse> call;
    private final Flow.Subscriber<? super StartedBatch> subscriber;
    private boolean cancelled;
    private boolean unbounded;
    private volatile IllegalArgumentException badRequest;

    Subscription(
        ClientCall<WatchStartedRequest, WatchStartedResponse> call,
        Flow.Subscriber<? super StartedBatch> subscriber) {
      this.call = call;
      this.subscriber = subscriber;
    }

    @Override
    public synchronized void request(long n) {
      if (cancelled || unbounded) {
        return;
      }
      if (n <= 0) {
        // Rule 3.9: signal onError; it is delivered from onClose so that signals stay serial.
        badRequest = new IllegalArgumentException("request(" + n + "): demand must be > 0");
        cancelled = true;
        call.cancel("invalid demand", badRequest);
        return;
      }
      if (n >= Integer.MAX_VALUE) {
        unbounded = true; // effectively unbounded; gRPC's own counter is an int
      }
      call.request((int) Math.min(n, Integer.MAX_VALUE));
    }

    @Override
    public synchronized void cancel() {
      if (!cancelled) {
        cancelled = true;
        call.cancel("subscription cancelled", null);
      }
    }

    private synchronized boolean isCancelled() {
      return cancelled;
    }

    ClientCall.Listener<WatchStartedResponse> listener() {
      return new ClientCall.Listener<>() {
        @Override
        public void onMessage(WatchStartedResponse message) {
          if (!isCancelled()) {
            subscriber.onNext(message.getStarted());
          }
        }

        @Override
        public void onClose(Status status, Metadata trailers) {
          if (badRequest != null) {
            subscriber.onError(badRequest);
          } else if (isCancelled()) {
            return; // rule 1.8: no signals after cancel
          } else if (status.isOk()) {
            subscriber.onComplete();
          } else {
            subscriber.onError(OrchestratorErrors.fromStatus(status, trailers));
          }
        }
      };
    }
  }
}
