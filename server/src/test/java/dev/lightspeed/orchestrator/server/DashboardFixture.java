package dev.lightspeed.orchestrator.server;

import dev.lightspeed.orchestrator.dashboard.DashboardHttpServer;
import dev.lightspeed.orchestrator.durability.Durability;
import dev.lightspeed.orchestrator.security.TokenFile;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceBlockingStub;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.concurrent.TimeUnit;

/**
 * A real server for the dashboard's tests: the gRPC port and the dashboard's HTTP port on
 * 127.0.0.1 (free ports), in memory, with tokens: {@link #OPS} has every role, {@link #READER}
 * only reader.
 */
final class DashboardFixture implements AutoCloseable {
  static final String OPS = "ops-token-0000000000000001";
  static final String READER = "reader-token-000000000001";
  static final String TOKENS = OPS + " producer,worker,operator,admin,reader ops\n"
      + READER + " reader dashboards\n";

  final OrchestratorServer server;
  DashboardHttpServer http;
  private final TokenFile tokens;
  private final ManagedChannel channel;

  DashboardFixture(boolean withTokens) throws Exception {
    tokens = withTokens ? TokenFile.parse(TOKENS, "tokens.txt") : null;
    ServerSettings settings = ServerSettings.defaults().withTokens(tokens);
    server = new OrchestratorServer(
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)),
        Clock.systemUTC(), Durability.inMemory(), settings).start();
    http = new DashboardHttpServer(server.httpService(), tokens, "127.0.0.1", 0, null, null, null,
        4 << 20).start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
  }

  /** The gRPC port's stub, as {@code token} (null: none); each call has 30 s. */
  OrchestratorServiceBlockingStub grpc(String token) {
    io.grpc.Channel ch = token == null ? channel : AuthTest.withHeader(channel, "Bearer " + token);
    return OrchestratorServiceGrpc.newBlockingStub(io.grpc.ClientInterceptors.intercept(ch,
        new io.grpc.ClientInterceptor() {
          @Override
          public <Q, R> io.grpc.ClientCall<Q, R> interceptCall(io.grpc.MethodDescriptor<Q, R> m,
              io.grpc.CallOptions options, io.grpc.Channel next) {
            return next.newCall(m, options.withDeadlineAfter(30, TimeUnit.SECONDS));
          }
        }));
  }

  /** Stops the HTTP port; {@link #startHttpAgain} brings it back on the same port number. */
  int stopHttp() {
    int port = http.port();
    http.close();
    return port;
  }

  void startHttpAgain(int port) {
    http = new DashboardHttpServer(server.httpService(), tokens, "127.0.0.1", port, null, null,
        null, 4 << 20).start();
  }

  String baseUrl() {
    return "http://127.0.0.1:" + http.port();
  }

  @Override
  public void close() throws Exception {
    channel.shutdownNow();
    http.close();
    server.stop(1, TimeUnit.SECONDS);
  }
}
