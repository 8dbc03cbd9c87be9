package dev.lightspeed.orchestrator.grpc;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import java.io.Closeable;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The channels a cluster node relays streams through ({@link StreamRelay}): one per member API
 * address, made on first use and kept for the node's life (gRPC multiplexes every relayed stream
 * to that member over it), closed at the node's stop.
 *
 * <p>Credentials are the node's own ({@code --tls-cert}/{@code --tls-key} presented as a client
 * certificate, {@code --tls-client-ca} trusted; docs/cluster.md, "Streams on a node outside the
 * pipeline's group"), or plaintext when the node serves plaintext. Keepalive pings every
 * {@value #KEEPALIVE_S} s (the servers permit one every 10 s by default) notice a member that
 * stopped answering without closing its connection, so its relayed streams end instead of
 * hanging.
 */
public final class MemberChannels implements Closeable {
  static final long KEEPALIVE_S = 30;
  static final long KEEPALIVE_TIMEOUT_S = 10;

  private final ChannelCredentials credentials;
  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
  private volatile boolean closed;

  /**
   * The credentials of a node that serves its API with TLS: its own certificate and key
   * ({@code --tls-cert}, {@code --tls-key}) presented as a client certificate (a member under
   * mutual TLS asks for one), and the members' certificates checked against {@code trusted}
   * ({@code --tls-client-ca}, the cluster's CA) or, when null, the JVM's default trust roots
   * (certificates from a public CA). The member's certificate must name the host of its
   * apiAddress, as for any client.
   */
  public static ChannelCredentials tls(java.io.File cert, java.io.File key, java.io.File trusted)
      throws java.io.IOException {
    io.grpc.TlsChannelCredentials.Builder b =
        io.grpc.TlsChannelCredentials.newBuilder().keyManager(cert, key);
    if (trusted != null) {
      b.trustManager(trusted);
    }
    return b.build();
  }

  /** {@code credentials} null: plaintext. */
  MemberChannels(ChannelCredentials credentials) {
    this.credentials = credentials == null ? InsecureChannelCredentials.create() : credentials;
  }

  /**
   * The channel to the member serving on {@code apiAddress} ("host:port").
   *
   * @throws IllegalStateException after {@link #close}
   */
  ManagedChannel to(String apiAddress) {
    if (closed) {
      throw new IllegalStateException("this node is stopping");
    }
    return channels.computeIfAbsent(apiAddress, address -> {
      int colon = address.lastIndexOf(':');
      String host = address.substring(0, colon).replace("[", "").replace("]", "");
      int port = Integer.parseInt(address.substring(colon + 1));
      return NettyChannelBuilder.forAddress(host, port, credentials)
          // What a member sends was already bounded by its own limits when it accepted it.
          .maxInboundMessageSize(Integer.MAX_VALUE)
          .keepAliveTime(KEEPALIVE_S, TimeUnit.SECONDS)
          .keepAliveTimeout(KEEPALIVE_TIMEOUT_S, TimeUnit.SECONDS)
          // The relay's callbacks only pass a message on (never block): no thread hand-off.
          .directExecutor()
          .build();
    });
  }

  /** {@link #close} was called: the node is stopping. */
  boolean closed() {
    return closed;
  }

  /** Ends the relayed streams still open and closes the channels. */
  @Override
  public void close() {
    closed = true;
    for (ManagedChannel channel : channels.values()) {
      channel.shutdownNow();
    }
    for (ManagedChannel channel : channels.values()) {
      try {
        channel.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
