package dev.lightspeed.orchestrator.client;

import dev.lightspeed.orchestrator.client.errors.OrchestratorErrors;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.MethodDescriptor;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Calls as {@link CompletableFuture}s: completed on the channel's executor, failed with a typed
 * exception, and cancelling the future cancels the call.
 */
final class UnaryCalls {
  private UnaryCalls() {}

  static <Q, R> CompletableFuture<R> unary(
      Channel channel, MethodDescriptor<Q, R> method, CallOptions options, Q request) {
    ClientCall<Q, R> call = channel.newCall(method, options);
    CallFuture<R> future = new CallFuture<>(call);
    ClientCalls.asyncUnaryCall(call, request, new Collector<>(future, null));
    return future;
  }

  /** A server-streaming call whose messages are collected into a list, each mapped by {@code f}. */
  static <Q, R, T> CompletableFuture<List<T>> collect(
      Channel channel,
      MethodDescriptor<Q, R> method,
      CallOptions options,
      Q request,
      Function<R, T> f) {
    ClientCall<Q, R> call = channel.newCall(method, options);
    CallFuture<List<T>> future = new CallFuture<>(call);
    List<T> items = new ArrayList<>();
    ClientCalls.asyncServerStreamingCall(
        call,
        request,
        new StreamObserver<R>() {
          @Override
          public void onNext(R value) {
            items.add(f.apply(value));
          }

          @Override
          public void onError(Throwable t) {
            future.completeExceptionally(OrchestratorErrors.from(t));
          }

          @Override
          public void onCompleted() {
            future.complete(List.copyOf(items));
          }
        });
    return future;
  }

  private static final class Collector<R> implements StreamObserver<R> {
    private final CompletableFuture<R> future;
    private R value;

    Collector(CompletableFuture<R> future, R initial) {
      this.future = future;
      this.value = initial;
    }

    @Override
    public void onNext(R v) {
      value = v;
    }

    @Override
    public void onError(Throwable t) {
      future.completeExceptionally(OrchestratorErrors.from(t));
    }

    @Override
    public void onCompleted() {
      future.complete(value);
    }
  }

  /** Cancelling it cancels the call. (Dependent stages are plain CompletableFutures.) */
  private static final class CallFuture<T> extends CompletableFuture<T> {
    private final ClientCall<?, ?> call;

    CallFuture(ClientCall<?, ?> call) {
      this.call = call;
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      boolean cancelled = super.cancel(mayInterruptIfRunning);
      if (cancelled) {
        call.cancel("cancelled by the caller", null);
      }
      return cancelled;
    }
  }
}
