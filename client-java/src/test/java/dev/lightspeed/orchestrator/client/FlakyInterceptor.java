package dev.lightspeed.orchestrator.client;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A server interceptor that answers the next {@code n} calls of a method with UNAVAILABLE before
 * they reach the service, and counts every call per method, so tests can see retries.
 */
final class FlakyInterceptor implements ServerInterceptor {
  private final Map<String, AtomicInteger> failuresLeft = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();

  /** The next {@code n} calls of {@code method} (its bare name, e.g. "AckBatch") fail. */
  void failNext(String method, int n) {
    failuresLeft.computeIfAbsent(method, k -> new AtomicInteger()).set(n);
  }

  int calls(String method) {
    AtomicInteger n = calls.get(method);
    return n == null ? 0 : n.get();
  }

  void reset() {
    failuresLeft.clear();
    calls.clear();
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String method = call.getMethodDescriptor().getBareMethodName();
    calls.computeIfAbsent(method, k -> new AtomicInteger()).incrementAndGet();
    AtomicInteger left = failuresLeft.get(method);
    if (left != null && left.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      call.close(Status.UNAVAILABLE.withDescription("injected by FlakyInterceptor"), new Metadata());
      return new ServerCall.Listener<>() {};
    }
    return next.startCall(call, headers);
  }
}
