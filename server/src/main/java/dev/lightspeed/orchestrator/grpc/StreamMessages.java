package dev.lightspeed.orchestrator.grpc;

import io.grpc.Attributes;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.SecurityLevel;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * A service served with {@code InputStream} messages, so that an interceptor sees a request
 * before it is parsed ({@link MalformedRequests} needs to catch the parse failure).
 *
 * <p>Why not grpc-java's {@code ServerInterceptors.useInputStreamMessages}: it copies every
 * request into a fresh {@code BufferedInputStream} with an 8 KiB buffer, in case an interceptor
 * keeps the stream past {@code onMessage}. That copy was 16% of the server's CPU samples in the
 * unary bench case (bench/findings.md). Here the stream is handed on as it is, and it must be
 * parsed before {@code onMessage} returns — which the wrapping listener below does, and which
 * {@link MalformedRequests} relies on. Responses go out as the method's own marshaller streams
 * them (protobuf's lazily serialised, drainable stream), as before.
 */
final class StreamMessages {
  private StreamMessages() {}

  /** Passes streams through untouched: valid only until {@code onMessage} returns. */
  private static final MethodDescriptor.Marshaller<InputStream> PASS_THROUGH =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(InputStream value) {
          return value;
        }

        @Override
        public InputStream parse(InputStream stream) {
          return stream;
        }
      };

  /** {@code service} with every method taking and returning {@code InputStream} messages. */
  static ServerServiceDefinition of(ServerServiceDefinition service) {
    List<ServerMethodDefinition<InputStream, InputStream>> methods = new ArrayList<>();
    ServiceDescriptor original = service.getServiceDescriptor();
    ServiceDescriptor.Builder descriptor =
        ServiceDescriptor.newBuilder(original.getName())
            .setSchemaDescriptor(original.getSchemaDescriptor());
    for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
      ServerMethodDefinition<InputStream, InputStream> wrapped = wrap(method);
      methods.add(wrapped);
      descriptor.addMethod(wrapped.getMethodDescriptor());
    }
    ServerServiceDefinition.Builder builder = ServerServiceDefinition.builder(descriptor.build());
    methods.forEach(builder::addMethod);
    return builder.build();
  }

  private static <Q, R> ServerMethodDefinition<InputStream, InputStream> wrap(
      ServerMethodDefinition<Q, R> definition) {
    MethodDescriptor<Q, R> typed = definition.getMethodDescriptor();
    MethodDescriptor<InputStream, InputStream> streamed =
        typed.toBuilder(PASS_THROUGH, PASS_THROUGH).build();
    ServerCallHandler<InputStream, InputStream> handler = (call, headers) -> {
      ServerCall.Listener<Q> listener =
          definition.getServerCallHandler().startCall(new TypedCall<>(call, typed), headers);
      return new ServerCall.Listener<>() {
        @Override
        public void onMessage(InputStream message) {
          // Parsed here, before the transport closes the stream after onMessage returns.
          listener.onMessage(typed.parseRequest(message));
        }

        @Override
        public void onHalfClose() {
          listener.onHalfClose();
        }

        @Override
        public void onCancel() {
          listener.onCancel();
        }

        @Override
        public void onComplete() {
          listener.onComplete();
        }

        @Override
        public void onReady() {
          listener.onReady();
        }
      };
    };
    return ServerMethodDefinition.create(streamed, handler);
  }

  /** The typed view of a streamed call that the service's own handler sees. */
  private static final class TypedCall<Q, R> extends ServerCall<Q, R> {
    private final ServerCall<InputStream, InputStream> call;
    private final MethodDescriptor<Q, R> method;

    TypedCall(ServerCall<InputStream, InputStream> call, MethodDescriptor<Q, R> method) {
      this.call = call;
      this.method = method;
    }

    @Override
    public void sendMessage(R message) {
      call.sendMessage(method.streamResponse(message));
    }

    @Override
    public MethodDescriptor<Q, R> getMethodDescriptor() {
      return method;
    }

    @Override
    public void request(int numMessages) {
      call.request(numMessages);
    }

    @Override
    public void sendHeaders(Metadata headers) {
      call.sendHeaders(headers);
    }

    @Override
    public boolean isReady() {
      return call.isReady();
    }

    @Override
    public void close(Status status, Metadata trailers) {
      call.close(status, trailers);
    }

    @Override
    public boolean isCancelled() {
      return call.isCancelled();
    }

    @Override
    public void setMessageCompression(boolean enabled) {
      call.setMessageCompression(enabled);
    }

    @Override
    public void setCompression(String compressor) {
      call.setCompression(compressor);
    }

    @Override
    public void setOnReadyThreshold(int numBytes) {
      call.setOnReadyThreshold(numBytes);
    }

    @Override
    public SecurityLevel getSecurityLevel() {
      return call.getSecurityLevel();
    }

    @Override
    public Attributes getAttributes() {
      return call.getAttributes();
    }

    @Override
    public String getAuthority() {
      return call.getAuthority();
    }
  }
}
