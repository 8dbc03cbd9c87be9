package dev.lightspeed.orchestrator.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.lightspeed.orchestrator.client.errors.OrchestratorException;
import dev.lightspeed.orchestrator.server.OrchestratorServer;
import io.grpc.Status;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyServerBuilder;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The builder's TLS settings against a server with a self-signed certificate made by keytool. */
class TlsTest {
  private static final char[] PASSWORD = "changeit".toCharArray();
  @TempDir static Path dir;
  private static OrchestratorServer server;
  private static Path caPem;

  @BeforeAll
  static void startTlsServer() throws Exception {
    Path keystore = dir.resolve("server.p12");
    caPem = dir.resolve("ca.pem");
    keytool("-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1",
        "-dname", "CN=localhost", "-ext", "san=ip:127.0.0.1,dns:localhost", "-validity", "2",
        "-storetype", "PKCS12", "-keystore", keystore.toString(),
        "-storepass", "changeit", "-keypass", "changeit");
    keytool("-exportcert", "-rfc", "-alias", "server", "-keystore", keystore.toString(),
        "-storepass", "changeit", "-file", caPem.toString());

    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(keystore)) {
      ks.load(in, PASSWORD);
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, PASSWORD);
    NettyServerBuilder builder =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .sslContext(GrpcSslContexts.configure(SslContextBuilder.forServer(kmf)).build());
    server = new OrchestratorServer(builder, Clock.systemUTC(), 16).start();
    server.createPipelines(List.of(ServerExtension.spec("tls", 1, 30_000).build()));
  }

  @AfterAll
  static void stop() throws InterruptedException {
    if (server != null) {
      server.stop(1, TimeUnit.SECONDS);
    }
  }

  private static void keytool(String... args) throws Exception {
    Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
    List<String> command = new java.util.ArrayList<>(List.of(keytool.toString()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(output).isZero();
  }

  private static String target() {
    return "127.0.0.1:" + server.port();
  }

  @Test
  void tls_withTrustedCertificates_connects() {
    try (OrchestratorClient client =
        OrchestratorClient.builder().target(target()).trustCertificates(caPem).build()) {
      assertThat(client.getStatus("tls").getValid()).isTrue();
    }
  }

  @Test
  void tls_withoutTrustingTheCertificate_isRefused() {
    try (OrchestratorClient client =
        OrchestratorClient.builder().target(target()).tls(true).disableRetry().build()) {
      OrchestratorException e =
          catchThrowableOfType(OrchestratorException.class, () -> client.getStatus("tls"));
      assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE);
    }
  }

  @Test
  void plaintext_againstATlsServer_fails() {
    try (OrchestratorClient client =
        OrchestratorClient.builder()
            .target(target())
            .tls(false)
            .disableRetry()
            .deadline(Duration.ofSeconds(5))
            .build()) {
      OrchestratorException e =
          catchThrowableOfType(OrchestratorException.class, () -> client.getStatus("tls"));
      assertThat(e.code()).isIn(Status.Code.UNAVAILABLE, Status.Code.INTERNAL, Status.Code.UNKNOWN);
    }
  }
}
