package dev.lightspeed.orchestrator.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Lets a streaming handler send the response headers before its first message.
 *
 * <p>A WatchStarted stream delivers batches started "from now on". grpc-java sends headers only
 * with the first message, so a client could not tell when its watch was registered, and batches
 * started right after opening it could be missed. With this interceptor the handler sends the
 * headers once the watcher is registered: a client that has seen them knows every later start
 * reaches it. The stub layer's own header send then becomes a no-op.
 */
public final class EarlyHeaders implements ServerInterceptor {
  /** In a call's context: sends that call's headers (once; later sends do nothing). */
  static final Context.Key<Runnable> SEND = Context.key("lightspeed.send-headers-early");

  private final MethodDescriptor<?, ?> method;

  public EarlyHeaders(MethodDescriptor<?, ?> method) {
    this.method = method;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    if (!call.getMethodDescriptor().getFullMethodName().equals(method.getFullMethodName())) {
      return next.startCall(call, headers);
    }
    AtomicBoolean sent = new AtomicBoolean();
    ServerCall<Q, R> once =
        new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
          @Override
          public void sendHeaders(Metadata responseHeaders) {
            if (sent.compareAndSet(false, true)) {
              super.sendHeaders(responseHeaders);
            }
          }
        };
    Context context = Context.current().withValue(SEND, () -> once.sendHeaders(new Metadata()));
    return Contexts.interceptCall(context, once, headers, next);
  }
}
