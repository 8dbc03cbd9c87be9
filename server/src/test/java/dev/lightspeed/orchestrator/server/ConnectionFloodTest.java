package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.boot.ProductionOptions;
import dev.lightspeed.orchestrator.durability.Durability;
import dev.lightspeed.orchestrator.grpc.ConnectionLimiter.Limit;
import dev.lightspeed.orchestrator.grpc.ConnectionLimiter;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Idle TCP connections that never speak HTTP/2 (issue 15: 20,000 of them took every file
 * descriptor of the server): the excess is closed at accept, the admitted ones are closed after
 * the handshake timeout, and ordinary clients are served during and after. The flood comes from
 * 127.0.0.2 and 127.0.0.3 (Linux routes all of 127/8 to loopback), the ordinary client from
 * 127.0.0.1, so that the per-address cap is seen apart from the total one.
 *
 * <p>{@code -Dlightspeed.flood.sockets=N} floods with N sockets instead of the default few dozen
 * (the server's cap is then N / 2), for a longer run by hand; each socket costs the test JVM two
 * descriptors below the cap, so keep N under the descriptor limit (ulimit -n) of the JVM.
 */
class ConnectionFloodTest {
  private static final int FLOOD = Integer.getInteger("lightspeed.flood.sockets", 40);

  private OrchestratorServer server;
  private ConnectionLimiter limiter;
  private final List<ManagedChannel> channels = new ArrayList<>();
  private final List<Socket> sockets = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    closeSockets();
    for (ManagedChannel c : channels) {
      c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    server.stop(5, TimeUnit.SECONDS);
  }

  private PipelineClient start(String... flags) throws Exception {
    ProductionOptions options = new ProductionOptions();
    new CommandLine(options).parseArgs(flags);
    var builder = options.nettyServerBuilder("127.0.0.1", 0);
    ServerSettings settings = options.settings(64, null);
    limiter = settings.connections();
    server = new OrchestratorServer(builder, Clock.systemUTC(), Durability.inMemory(), settings)
        .start();
    return PipelineClient.create(OrchestratorServiceGrpc.newBlockingStub(channel()),
        pipeline("orders", "s").build());
  }

  private ManagedChannel channel() {
    ManagedChannel c = NettyChannelBuilder.forAddress("127.0.0.1", server.port())
        .usePlaintext().build();
    channels.add(c);
    return c;
  }

  /** {@code count} raw sockets from {@code from} that never send a byte. */
  private List<Socket> idleSockets(String from, int count) throws IOException {
    List<Socket> opened = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      Socket s = new Socket();
      s.bind(new InetSocketAddress(from, 0));
      s.connect(new InetSocketAddress("127.0.0.1", server.port()), 5_000);
      opened.add(s);
      sockets.add(s);
    }
    return opened;
  }

  private void closeSockets() {
    for (Socket s : sockets) {
      try {
        s.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
    sockets.clear();
  }

  /**
   * Whether the server admitted the socket: an admitted connection gets the server's HTTP/2
   * SETTINGS at once; a refused one ends (EOF or reset) without a byte.
   */
  private static boolean admitted(Socket s) throws IOException {
    s.setSoTimeout(10_000);
    try {
      return s.getInputStream().read() >= 0;
    } catch (SocketTimeoutException e) {
      throw new AssertionError("the server neither spoke nor closed the connection in 10 s", e);
    } catch (IOException reset) {
      return false;
    }
  }

  /** Whether the server closes the socket within {@code seconds} (it reads to the end). */
  private static boolean closedWithin(Socket s, int seconds) throws IOException {
    s.setSoTimeout(200);
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    InputStream in = s.getInputStream();
    byte[] buffer = new byte[4096];
    while (System.nanoTime() < end) {
      try {
        if (in.read(buffer) < 0) {
          return true;
        }
      } catch (SocketTimeoutException e) {
        // not yet
      } catch (IOException reset) {
        return true;
      }
    }
    return false;
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.sleep(20);
    }
  }

  private static long count(List<Socket> sockets, boolean admitted) throws IOException {
    long n = 0;
    for (Socket s : sockets) {
      if (admitted(s) == admitted) {
        n++;
      }
    }
    return n;
  }

  @Test
  void connectionsBeyondTheCaps_areClosedAtAccept_andOrdinaryClientsAreServed() throws Exception {
    int max = FLOOD / 2 + 1;
    int perAddress = FLOOD / 4;
    PipelineClient p = start("--max-connections", "" + max,
        "--max-connections-per-address", "" + perAddress, "--handshake-timeout", "120");
    p.enqueue(batch("before", "s", 1));

    // One address: all but perAddress are refused at once.
    List<Socket> first = idleSockets("127.0.0.2", perAddress + 5);
    assertThat(count(first, true)).as("admitted from 127.0.0.2").isEqualTo(perAddress);
    assertThat(limiter.refused(Limit.MAX_CONNECTIONS_PER_ADDRESS)).isEqualTo(5);

    // Another address fills the server: 1 (the client) + perAddress + the rest up to max.
    List<Socket> second = idleSockets("127.0.0.3", perAddress);
    int room = max - 1 - perAddress;
    assertThat(count(second, true)).as("admitted from 127.0.0.3").isEqualTo(room);
    assertThat(limiter.refused(Limit.MAX_CONNECTIONS)).isEqualTo(perAddress - room);
    assertThat(limiter.open()).isEqualTo(max);

    // The client's connection was open before the flood: it is still served.
    p.enqueue(batch("during", "s", 2));

    closeSockets();
    await("the flood's connections are closed on the server", () -> limiter.open() == 1);
    PipelineClient fresh =
        new PipelineClient(OrchestratorServiceGrpc.newBlockingStub(channel()), "orders");
    fresh.enqueue(batch("after", "s", 3));
    assertThat(fresh.batches()).hasSize(3);
  }

  @Test
  void connectionsThatNeverSendTheHttp2Preface_areClosedAfterTheHandshakeTimeout()
      throws Exception {
    PipelineClient p = start("--handshake-timeout", "1");
    List<Socket> idle = idleSockets("127.0.0.2", Math.min(FLOOD, 20));
    p.enqueue(batch("during", "s", 1));

    for (Socket s : idle) {
      assertThat(closedWithin(s, 15)).as("closed by the server after the handshake timeout")
          .isTrue();
    }
    await("the server has only the client's connection", () -> limiter.open() == 1);
    p.enqueue(batch("after", "s", 2));
    assertThat(p.batches()).hasSize(2);
  }
}
