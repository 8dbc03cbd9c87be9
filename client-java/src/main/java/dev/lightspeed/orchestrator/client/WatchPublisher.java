package dev.lightspeed.orchestrator.client;

import dev.lightspeed.orchestrator.client.errors.OrchestratorErrors;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.util.Objects;
import java.util.concurrent.Flow;
import java.util.function.Function;

/**
 * A watch stream (WatchStarted, WatchEvents) as a {@link Flow.Publisher}: one stream per
 * subscription, the subscriber's demand passed on as gRPC flow control. Signals come from the
 * call's listener, which gRPC serializes, so they are never concurrent (Reactive Streams rule 1.3).
 *
 * @param <Q> the request
 * @param <R> the stream's response message
 * @param <T> what the subscriber receives of each response
 */
final class WatchPublisher<Q, R, T> implements Flow.Publisher<T> {
  private final Channel channel;
  private final MethodDescriptor<Q, R> method;
  private final Q request;
  private final Function<R, T> item;

  WatchPublisher(Channel channel, MethodDescriptor<Q, R> method, Q request, Function<R, T> item) {
    this.channel = channel;
    this.method = method;
    this.request = request;
    this.item = item;
  }

  @Override
  public void subscribe(Flow.Subscriber<? super T> subscriber) {
    Objects.requireNonNull(subscriber, "subscriber");
    ClientCall<Q, R> call = channel.newCall(method, CallOptions.DEFAULT);
    Subscription<Q, R, T> subscription = new Subscription<>(call, subscriber, item);
    // Started before onSubscribe so that request() may be called from within onSubscribe; nothing
    // is delivered before the subscriber's first request.
    call.start(subscription.listener(), new Metadata());
    call.sendMessage(request);
    call.halfClose();
    subscriber.onSubscribe(subscription);
  }

  private static final class Subscription<Q, R, T> implements Flow.Subscription {
    private final ClientCall<Q, R> call;
    private final Flow.Subscriber<? super T> subscriber;
    private final Function<R, T> item;
    private boolean cancelled;
    private boolean unbounded;
    private volatile IllegalArgumentException badRequest;

    Subscription(ClientCall<Q, R> call, Flow.Subscriber<? super T> subscriber,
        Function<R, T> item) {
      this.call = call;
      this.subscriber = subscriber;
      this.item = item;
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

    ClientCall.Listener<R> listener() {
      return new ClientCall.Listener<>() {
        @Override
        public void onMessage(R message) {
          if (!isCancelled()) {
            subscriber.onNext(item.apply(message));
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
