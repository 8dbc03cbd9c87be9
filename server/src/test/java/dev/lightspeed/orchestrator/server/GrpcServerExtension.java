package dev.lightspeed.orchestrator.server;

import dev.lightspeed.orchestrator.durability.Durability;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceBlockingStub;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceStub;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptor;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs a fresh {@link OrchestratorServer} for each test, on an in-process server with a unique
 * name (the default) or on a real Netty port of 127.0.0.1, with a {@link MutableClock} the test
 * moves. Gives a blocking and an async stub on one channel, more channels on demand, and shuts
 * every channel and the server down after each test. Register it with {@code @RegisterExtension}.
 */
public final class GrpcServerExtension implements BeforeEachCallback, AfterEachCallback {
  /** Where the clock of every test starts: an arbitrary, non-zero instant. */
  static final long START_MS = 1_700_000_000_000L;

  private final boolean netty;
  private int watchBufferCapacity = 4096;
  private UnaryOperator<ServerSettings> settings = UnaryOperator.identity();
  private UnaryOperator<NettyServerBuilder> adjustNetty = UnaryOperator.identity();
  private ServerInterceptor outermost;

  private MutableClock clock;
  private OrchestratorServer server;
  private String inProcessName;
  private final List<ManagedChannel> channels = new ArrayList<>();
  private OrchestratorServiceBlockingStub blocking;
  private OrchestratorServiceStub async;

  private GrpcServerExtension(boolean netty) {
    this.netty = netty;
  }

  public static GrpcServerExtension inProcess() {
    return new GrpcServerExtension(false);
  }

  static GrpcServerExtension netty() {
    return new GrpcServerExtension(true);
  }

  /** The per-stream WatchStarted buffer of the server (default 4096, as ServerMain). */
  GrpcServerExtension watchBufferCapacity(int capacity) {
    this.watchBufferCapacity = capacity;
    return this;
  }

  /** Limits, tokens, metrics of the server (default: {@link ServerSettings#defaults()}). */
  GrpcServerExtension settings(UnaryOperator<ServerSettings> adjust) {
    this.settings = adjust;
    return this;
  }

  /** Adjusts the Netty server builder (e.g. its message size limit); ignored in-process. */
  GrpcServerExtension netty(UnaryOperator<NettyServerBuilder> adjust) {
    this.adjustNetty = adjust;
    return this;
  }

  /** An interceptor around every service of the server, outside the server's own. */
  GrpcServerExtension intercept(ServerInterceptor interceptor) {
    this.outermost = interceptor;
    return this;
  }

  @Override
  public void beforeEach(ExtensionContext context) throws Exception {
    clock = new MutableClock(START_MS);
    ServerBuilder<?> builder;
    if (netty) {
      // handlers on the event loops, as ServerMain runs them by default (--handler-threads 0)
      builder = adjustNetty.apply(
          NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).directExecutor());
    } else {
      inProcessName = InProcessServerBuilder.generateName();
      builder = InProcessServerBuilder.forName(inProcessName).directExecutor();
    }
    if (outermost != null) {
      builder.intercept(outermost);
    }
    server =
        new OrchestratorServer(
                builder,
                clock,
                Durability.inMemory(),
                settings.apply(
                    ServerSettings.defaults().withWatchBufferCapacity(watchBufferCapacity)))
            .start();
    ManagedChannel channel = newChannel();
    blocking = OrchestratorServiceGrpc.newBlockingStub(channel);
    async = OrchestratorServiceGrpc.newStub(channel);
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    for (ManagedChannel c : channels) {
      c.shutdownNow();
    }
    for (ManagedChannel c : channels) {
      c.awaitTermination(5, TimeUnit.SECONDS);
    }
    channels.clear();
    if (server != null) {
      server.stop(5, TimeUnit.SECONDS);
      server = null;
    }
  }

  /** Another client connection to the same server, shut down after the test. */
  ManagedChannel newChannel() {
    return newNettyChannel(UnaryOperator.identity());
  }

  /**
   * Another client connection whose Netty builder the test adjusts (e.g. a small flow-control
   * window); on an in-process server the adjustment is ignored.
   */
  ManagedChannel newNettyChannel(UnaryOperator<NettyChannelBuilder> adjust) {
    ManagedChannel channel =
        netty
            ? adjust
                .apply(NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext())
                .build()
            : InProcessChannelBuilder.forName(inProcessName).directExecutor().build();
    channels.add(channel);
    return channel;
  }

  public OrchestratorServer server() {
    return server;
  }

  MutableClock clock() {
    return clock;
  }

  public OrchestratorServiceBlockingStub blocking() {
    return blocking;
  }

  OrchestratorServiceStub async() {
    return async;
  }
}
