package dev.lightspeed.orchestrator.client;

import dev.lightspeed.orchestrator.server.OrchestratorServer;
import dev.lightspeed.orchestrator.server.TestCertificates;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The real server on a loopback port that requires client certificates of its CA, as the
 * server's {@code --tls-client-ca} configures it ({@code TlsServerCredentials}, {@code REQUIRE}),
 * with one pipeline {@code mtls}; and a client certificate of that CA.
 */
public final class MutualTlsServer implements AutoCloseable {
  public final TestCertificates.Authority ca;
  public final TestCertificates.Issued client;
  private final OrchestratorServer server;

  public MutualTlsServer(Path dir) throws Exception {
    ca = TestCertificates.authority(dir, "test-ca");
    TestCertificates.Issued serverCert = TestCertificates.server(dir, ca, "orchestrator");
    client = TestCertificates.client(dir, ca, "worker-1");
    TlsServerCredentials.Builder tls =
        TlsServerCredentials.newBuilder()
            .keyManager(serverCert.certFile().toFile(), serverCert.keyFile().toFile())
            .trustManager(ca.certFile().toFile())
            .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
    server =
        new OrchestratorServer(
                NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), tls.build()),
                Clock.systemUTC(),
                16)
            .start();
    server.createPipelines(List.of(ServerExtension.spec("mtls", 1, 30_000).build()));
  }

  public String target() {
    return "127.0.0.1:" + server.port();
  }

  @Override
  public void close() throws InterruptedException {
    server.stop(1, TimeUnit.SECONDS);
  }
}
