package dev.lightspeed.orchestrator.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.lightspeed.orchestrator.dashboard.DashboardHttpServer;
import dev.lightspeed.orchestrator.durability.Durability;
import io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** With --tls-cert the dashboard's HTTP port speaks HTTPS only, with the same certificate. */
class DashboardTlsTest {
  @TempDir Path dir;

  @Test
  void servesHttpsOnlyWithTheServersCertificate() throws Exception {
    var ca = TestCertificates.authority(dir, "dashboard-ca");
    var cert = TestCertificates.server(dir, ca, "dashboard-server");
    OrchestratorServer server = new OrchestratorServer(
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)),
        Clock.systemUTC(), Durability.inMemory(), ServerSettings.defaults()).start();
    DashboardHttpServer http = new DashboardHttpServer(server.httpService(), null, "127.0.0.1", 0,
        cert.certFile().toFile(), cert.keyFile().toFile(), null, 4 << 20).start();
    try {
      KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
      trust.load(null, null);
      trust.setCertificateEntry("ca", ca.certificate());
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext ssl = SSLContext.getInstance("TLS");
      ssl.init(null, tmf.getTrustManagers(), null);
      HttpClient tls = HttpClient.newBuilder().sslContext(ssl).build();
      String path = "/lightspeed.orchestrator.v1.OrchestratorService/ListPipelines";
      HttpRequest.Builder req = HttpRequest.newBuilder()
          .header("Content-Type", "application/json")
          .timeout(Duration.ofSeconds(30))
          .POST(HttpRequest.BodyPublishers.ofString("{}"));

      var ok = tls.send(req.uri(URI.create("https://127.0.0.1:" + http.port() + path)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(ok.statusCode()).isEqualTo(200);
      assertThat(ok.version()).isEqualTo(HttpClient.Version.HTTP_2);

      Throwable plain = catchThrowable(() -> HttpClient.newHttpClient().send(
          req.uri(URI.create("http://127.0.0.1:" + http.port() + path)).build(),
          HttpResponse.BodyHandlers.ofString()));
      assertThat(plain).as("plain HTTP on the TLS port").isNotNull();
    } finally {
      http.close();
      server.stop(1, TimeUnit.SECONDS);
    }
  }
}
