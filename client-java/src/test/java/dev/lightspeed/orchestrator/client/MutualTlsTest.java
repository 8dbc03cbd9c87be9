package dev.lightspeed.orchestrator.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.lightspeed.orchestrator.client.errors.OrchestratorException;
import dev.lightspeed.orchestrator.server.TestCertificates;
import io.grpc.Status;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code clientCertificate(cert, key)} against a server that requires client certificates of its
 * CA (the server's {@code --tls-client-ca}: {@code TlsServerCredentials} with {@code REQUIRE}).
 */
class MutualTlsTest {
  @TempDir static Path dir;
  private static MutualTlsServer server;
  private static TestCertificates.Authority ca;
  private static TestCertificates.Issued client;

  @BeforeAll
  static void startMutualTlsServer() throws Exception {
    server = new MutualTlsServer(dir);
    ca = server.ca;
    client = server.client;
  }

  @AfterAll
  static void stop() throws InterruptedException {
    if (server != null) {
      server.close();
    }
  }

  private static OrchestratorClient.Builder builder() {
    return OrchestratorClient.builder()
        .target(server.target())
        .disableRetry()
        .deadline(Duration.ofSeconds(10));
  }

  @Test
  void aClientCertificateOfTheCa_isLetIn() {
    try (OrchestratorClient c =
        builder()
            .trustCertificates(ca.certFile())
            .clientCertificate(client.certFile(), client.keyFile())
            .build()) {
      assertThat(c.getStatus("mtls").getValid()).isTrue();
    }
  }

  @Test
  void withoutAClientCertificate_theHandshakeFails() {
    try (OrchestratorClient c = builder().trustCertificates(ca.certFile()).build()) {
      OrchestratorException e =
          catchThrowableOfType(OrchestratorException.class, () -> c.getStatus("mtls"));
      assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE);
    }
  }

  @Test
  void aClientCertificateOfAnotherCa_isRefused() throws Exception {
    Path other = dir.resolve("other");
    java.nio.file.Files.createDirectories(other);
    TestCertificates.Authority otherCa = TestCertificates.authority(other, "other-ca");
    TestCertificates.Issued stranger = TestCertificates.client(other, otherCa, "stranger");
    try (OrchestratorClient c =
        builder()
            .trustCertificates(ca.certFile())
            .clientCertificate(stranger.certFile(), stranger.keyFile())
            .build()) {
      OrchestratorException e =
          catchThrowableOfType(OrchestratorException.class, () -> c.getStatus("mtls"));
      assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE);
    }
  }

  @Test
  void aMissingKeyFile_failsAtBuildNamingTheFiles() {
    OrchestratorClient.Builder b =
        builder().clientCertificate(client.certFile(), dir.resolve("absent.key"));
    assertThatThrownBy(b::build)
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining("absent.key");
  }
}
