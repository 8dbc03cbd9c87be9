package dev.lightspeed.orchestrator.boot;

import dev.lightspeed.orchestrator.grpc.ConnectionLimiter;
import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The gRPC transport that {@link ProductionOptions} describe: a Netty server builder with TLS,
 * the handler threads, the connection caps, the message limit and keepalive. It exists apart from
 * the flags, which read best one per field with their help text, so that what the flags build
 * reads in one place.
 */
final class NettyTransport {
  private NettyTransport() {}

  /** The builder, and the connection limiter installed on it (the server exports its counts). */
  record Built(NettyServerBuilder builder, ConnectionLimiter limiter) {}

  /** A Netty server builder on {@code bind:port} as {@code options} say. */
  static Built builder(ProductionOptions options, String bind, int port) throws IOException {
    InetSocketAddress address = new InetSocketAddress(bind, port);
    NettyServerBuilder builder;
    if (options.tls()) {
      TlsServerCredentials.Builder tlsCredentials = TlsServerCredentials.newBuilder()
          .keyManager(options.tlsCert.toFile(), options.tlsKey.toFile());
      if (options.tlsClientCa != null) {
        tlsCredentials
            .trustManager(options.tlsClientCa.toFile())
            .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
      }
      ServerCredentials credentials = tlsCredentials.build();
      try {
        builder = NettyServerBuilder.forAddress(address, credentials);
      } catch (RuntimeException e) {
        throw new IOException("the TLS certificate or key cannot be used: " + e.getMessage(), e);
      }
    } else {
      builder = NettyServerBuilder.forAddress(address);
    }
    if (options.handlerThreads == 0) {
      // Handlers run where the call's bytes arrive: no hand-off to another thread per call
      // (bench/findings.md: 62.5 -> 16.3 µs of server CPU per empty call), and at most one
      // thread per event loop contends for a pipeline's lock instead of one per call.
      builder.directExecutor();
    } else {
      builder.executor(handlerPool(options.handlerThreads));
    }
    ConnectionLimiter limiter = new ConnectionLimiter(
        DescriptorLimit.connectionsThatFit(options.maxConnections),
        options.maxConnectionsPerAddress);
    limiter.install(builder);
    builder
        .handshakeTimeout(options.handshakeTimeoutSeconds, TimeUnit.SECONDS)
        .maxInboundMessageSize(options.maxMessageBytes)
        .maxConcurrentCallsPerConnection(options.maxConcurrentCallsPerConnection)
        .keepAliveTime(options.keepaliveTimeSeconds, TimeUnit.SECONDS)
        .keepAliveTimeout(options.keepaliveTimeoutSeconds, TimeUnit.SECONDS)
        .permitKeepAliveTime(options.permitKeepaliveTimeSeconds, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true);
    if (options.maxConnectionAgeSeconds > 0) {
      builder.maxConnectionAge(options.maxConnectionAgeSeconds, TimeUnit.SECONDS);
      if (options.maxConnectionAgeGraceSeconds > 0) {
        builder.maxConnectionAgeGrace(options.maxConnectionAgeGraceSeconds, TimeUnit.SECONDS);
      }
    }
    return new Built(builder, limiter);
  }

  /** Daemon threads: the process ends with the server, and the pool with it. */
  private static ExecutorService handlerPool(int threads) {
    AtomicInteger number = new AtomicInteger();
    return Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "lightspeed-handler-" + number.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }
}
