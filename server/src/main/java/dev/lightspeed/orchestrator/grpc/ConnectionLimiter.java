package dev.lightspeed.orchestrator.grpc;

import io.grpc.netty.NettyServerBuilder;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Caps the server's TCP connections, in total and per remote IP address, at accept time: an
 * excess connection is closed before gRPC ever sees it, so it holds a file descriptor for
 * microseconds, not until a timeout. Without a cap, idle connections (they need no token: the
 * token is checked per call) took every descriptor of the process and the journal could not
 * open its next segment (issue 15).
 *
 * <p>grpc-java has no such limit (grpc/grpc-java#1886) and its builder exposes no handler of the
 * listening channel, so this handler goes into the listening channel's own pipeline through
 * {@link NettyServerBuilder#channelFactory}; it sees every accepted channel before grpc-java's
 * acceptor does. A custom channel factory needs its own event loop groups (grpc-java refuses
 * one without the other): NIO, as grpc-java's default is without the native epoll transport,
 * and closed by {@link #close()} after the server stops.
 *
 * <p>Connections that are accepted but never complete the HTTP/2 handshake are grpc-java's to
 * close ({@code handshakeTimeout}, set by {@link ProductionOptions}).
 */
@ChannelHandler.Sharable
public final class ConnectionLimiter extends ChannelInboundHandlerAdapter implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ConnectionLimiter.class);
  private static final long WARN_EVERY_MS = 60_000;

  /** Why a connection was refused; the metric's label value. */
  public enum Limit {
    MAX_CONNECTIONS("max_connections", "--max-connections"),
    MAX_CONNECTIONS_PER_ADDRESS("max_connections_per_address", "--max-connections-per-address");

    final String label;
    final String flag;

    Limit(String label, String flag) {
      this.label = label;
      this.flag = flag;
    }
  }

  private final int maxConnections;
  private final int maxPerAddress;
  private final AtomicInteger open = new AtomicInteger();
  /** Open connections per remote address; an address leaves the map with its last connection. */
  private final ConcurrentHashMap<InetAddress, Integer> perAddress = new ConcurrentHashMap<>();
  private final LongAdder refusedTotal = new LongAdder();
  private final LongAdder refusedPerAddress = new LongAdder();
  private final AtomicInteger refusedSinceWarning = new AtomicInteger();
  private volatile long lastWarnMs = Long.MIN_VALUE / 2;
  private final EventLoopGroup boss =
      new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("grpc-nio-boss-ELG", true),
          NioIoHandler.newFactory());
  private final EventLoopGroup workers =
      new MultiThreadIoEventLoopGroup(0, new DefaultThreadFactory("grpc-nio-worker-ELG", true),
          NioIoHandler.newFactory());

  public ConnectionLimiter(int maxConnections, int maxPerAddress) {
    this.maxConnections = maxConnections;
    this.maxPerAddress = maxPerAddress;
  }

  /** Makes {@code builder} accept through this limiter, on this limiter's event loops. */
  public NettyServerBuilder install(NettyServerBuilder builder) {
    return builder
        .bossEventLoopGroup(boss)
        .workerEventLoopGroup(workers)
        .channelFactory(() -> {
          NioServerSocketChannel listening = new NioServerSocketChannel();
          // Added before ServerBootstrap adds its acceptor, so it sees accepted channels first.
          listening.pipeline().addLast("connection-limiter", this);
          return listening;
        });
  }

  int maxConnections() {
    return maxConnections;
  }

  int maxPerAddress() {
    return maxPerAddress;
  }

  /** Connections open now. */
  public int open() {
    return open.get();
  }

  /** Connections refused since start, by the limit that refused them. */
  public long refused(Limit limit) {
    return (limit == Limit.MAX_CONNECTIONS ? refusedTotal : refusedPerAddress).sum();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof Channel child)) {
      ctx.fireChannelRead(msg);
      return;
    }
    InetAddress address = addressOf(child.remoteAddress());
    Limit refusal = admit(address);
    if (refusal != null) {
      refuse(child, address, refusal);
      return;
    }
    child.closeFuture().addListener(f -> release(address));
    ctx.fireChannelRead(child);
  }

  /** Counts a new connection in; the limit it would break (nothing counted then), else null. */
  private Limit admit(InetAddress address) {
    if (open.incrementAndGet() > maxConnections) {
      open.decrementAndGet();
      return Limit.MAX_CONNECTIONS;
    }
    if (address == null) {
      return null;
    }
    boolean[] admitted = {false};
    perAddress.compute(address, (a, n) -> {
      int count = n == null ? 0 : n;
      if (count >= maxPerAddress) {
        return n;
      }
      admitted[0] = true;
      return count + 1;
    });
    if (!admitted[0]) {
      open.decrementAndGet();
      return Limit.MAX_CONNECTIONS_PER_ADDRESS;
    }
    return null;
  }

  private void release(InetAddress address) {
    open.decrementAndGet();
    if (address != null) {
      perAddress.computeIfPresent(address, (a, n) -> n <= 1 ? null : n - 1);
    }
  }

  private void refuse(Channel child, InetAddress address, Limit limit) {
    // Counted before the close, so that whoever sees the socket closed also sees it counted
    // (ConnectionFloodTest once read 4 of 5 right after its fifth socket was closed).
    (limit == Limit.MAX_CONNECTIONS ? refusedTotal : refusedPerAddress).increment();
    // Not registered with an event loop yet: closing it here just closes the socket.
    child.unsafe().closeForcibly();
    int refused = refusedSinceWarning.incrementAndGet();
    long now = System.currentTimeMillis();
    if (now - lastWarnMs >= WARN_EVERY_MS) {
      lastWarnMs = now;
      refusedSinceWarning.addAndGet(-refused);
      log.atWarn()
          .addKeyValue("event", "connection_refused")
          .addKeyValue("limit", limit.label)
          .addKeyValue("remote", address == null ? "-" : address.getHostAddress())
          .addKeyValue("open_connections", open.get())
          .addKeyValue("refused_since_last_warning", refused)
          .log("connection closed at accept: {} reached (one warning a minute at most; the"
              + " metric lightspeed_connections_refused_total counts each)", limit.flag);
    }
  }

  private static InetAddress addressOf(SocketAddress remote) {
    return remote instanceof InetSocketAddress inet ? inet.getAddress() : null;
  }

  /** Stops the event loops; call after the server has terminated. */
  @Override
  public void close() {
    boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }
}
