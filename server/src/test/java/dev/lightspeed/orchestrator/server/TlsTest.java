package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.RpcErrors.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import dev.lightspeed.orchestrator.boot.ProductionOptions;
import dev.lightspeed.orchestrator.durability.Durability;

import dev.lightspeed.orchestrator.v1.GetStatusRequest;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * TLS and mutual TLS over a real Netty port of 127.0.0.1, configured through the same flags as
 * the server jar ({@link ProductionOptions}), with certificates made at test time.
 */
class TlsTest {
  @TempDir static Path dir;
  static TestCertificates.Authority serverCa;
  static TestCertificates.Authority clientCa;
  static TestCertificates.Authority otherCa;
  static TestCertificates.Issued serverCert;
  static TestCertificates.Issued clientCert;
  static TestCertificates.Issued strangerCert;

  private OrchestratorServer server;
  private final List<ManagedChannel> channels = new ArrayList<>();

  @BeforeAll
  static void certificates() throws Exception {
    serverCa = TestCertificates.authority(dir, "server-ca");
    clientCa = TestCertificates.authority(dir, "client-ca");
    otherCa = TestCertificates.authority(dir, "other-ca");
    serverCert = TestCertificates.server(dir, serverCa, "server");
    clientCert = TestCertificates.client(dir, clientCa, "client");
    strangerCert = TestCertificates.client(dir, otherCa, "stranger");
  }

  @AfterEach
  void stop() throws Exception {
    for (ManagedChannel c : channels) {
      c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.stop(5, TimeUnit.SECONDS);
    }
  }

  private int start(String... flags) throws Exception {
    ProductionOptions options = new ProductionOptions();
    new CommandLine(options).parseArgs(flags);
    assertThat(options.problems()).isEmpty();
    server = new OrchestratorServer(
        options.nettyServerBuilder("127.0.0.1", 0), Clock.systemUTC(), Durability.inMemory(),
        options.settings(16, options.tokens())).start();
    return server.port();
  }

  private ManagedChannel channel(ChannelCredentials credentials) {
    ManagedChannel c =
        NettyChannelBuilder.forAddress("127.0.0.1", server.port(), credentials).build();
    channels.add(c);
    return c;
  }

  private static ChannelCredentials trusting(TestCertificates.Authority ca) throws Exception {
    return TlsChannelCredentials.newBuilder().trustManager(ca.certFile().toFile()).build();
  }

  private static ChannelCredentials presenting(TestCertificates.Issued cert) throws Exception {
    return TlsChannelCredentials.newBuilder()
        .trustManager(serverCa.certFile().toFile())
        .keyManager(cert.certFile().toFile(), cert.keyFile().toFile())
        .build();
  }

  /** The status of one GetStatus call on an unknown pipeline (NOT_FOUND means it got through). */
  private static Status.Code getStatus(ManagedChannel channel) {
    try {
      OrchestratorServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(10, TimeUnit.SECONDS)
          .getStatus(GetStatusRequest.newBuilder().setPipeline("none").build());
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }

  @Test
  void tls_servesClientsThatTrustItsCa_andNoPlaintextOrDistrustingClient() throws Exception {
    start("--tls-cert", serverCert.certFile().toString(),
        "--tls-key", serverCert.keyFile().toString());

    ManagedChannel tls = channel(trusting(serverCa));
    assertThat(HealthGrpc.newBlockingStub(tls).withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(HealthCheckRequest.getDefaultInstance()).getStatus())
        .isEqualTo(ServingStatus.SERVING);
    assertThat(getStatus(tls)).isEqualTo(Status.Code.NOT_FOUND);

    assertThat(getStatus(channel(InsecureChannelCredentials.create())))
        .as("plaintext").isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(getStatus(channel(trusting(otherCa))))
        .as("a client that does not trust the server's CA").isEqualTo(Status.Code.UNAVAILABLE);
  }

  @Test
  void mutualTls_admitsOnlyClientsWithACertificateOfTheClientCa() throws Exception {
    start("--tls-cert", serverCert.certFile().toString(),
        "--tls-key", serverCert.keyFile().toString(),
        "--tls-client-ca", clientCa.certFile().toString());

    assertThat(getStatus(channel(presenting(clientCert)))).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(getStatus(channel(trusting(serverCa))))
        .as("no client certificate").isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(getStatus(channel(presenting(strangerCert))))
        .as("a certificate of another CA").isEqualTo(Status.Code.UNAVAILABLE);
  }

  @Test
  void tlsWithTokens_needsBoth() throws Exception {
    Path tokens = dir.resolve("tokens.txt");
    Files.writeString(tokens, AuthTest.TOKENS);
    start("--tls-cert", serverCert.certFile().toString(),
        "--tls-key", serverCert.keyFile().toString(),
        "--token-file", tokens.toString());
    ManagedChannel tls = channel(trusting(serverCa));

    assertRefused(
        () -> OrchestratorServiceGrpc.newBlockingStub(tls)
            .getStatus(GetStatusRequest.newBuilder().setPipeline("none").build()),
        Status.Code.UNAUTHENTICATED, "MISSING_CREDENTIALS");
    Throwable withToken = catchThrowable(() ->
        OrchestratorServiceGrpc.newBlockingStub(
                AuthTest.withHeader(tls, "Bearer " + AuthTest.READER))
            .getStatus(GetStatusRequest.newBuilder().setPipeline("none").build()));
    assertThat(Status.fromThrowable(withToken).getCode()).isEqualTo(Status.Code.NOT_FOUND);
  }

  @Test
  void aKeyThatIsNotPem_isRefusedAtStartUp() throws Exception {
    Path badKey = dir.resolve("bad.key");
    Files.writeString(badKey, "not a key");
    ProductionOptions options = new ProductionOptions();
    new CommandLine(options).parseArgs("--tls-cert", serverCert.certFile().toString(),
        "--tls-key", badKey.toString());

    assertThat(catchThrowable(() -> options.nettyServerBuilder("127.0.0.1", 0)))
        .isInstanceOfAny(java.io.IOException.class, IllegalArgumentException.class);
  }
}
