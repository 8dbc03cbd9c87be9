package dev.lightspeed.orchestrator.cli;

import static dev.lightspeed.orchestrator.client.ServerExtension.batch;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.client.OrchestratorClient;
import dev.lightspeed.orchestrator.client.ServerExtension;
import dev.lightspeed.orchestrator.client.errors.OrchestratorErrors;
import dev.lightspeed.orchestrator.server.OrchestratorServer;
import dev.lightspeed.orchestrator.v1.Boundary;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import io.grpc.Status;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyServerBuilder;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The CLI says what to do when a call fails or does nothing: the flag to pass, the name that was
 * probably meant, why nothing started; and one clean line instead of a stack trace.
 */
class CliHintsTest {
  @RegisterExtension static final ServerExtension server = new ServerExtension();

  private final OrchestratorClient client = server.client();

  record Result(int code, String out, String err) {}

  private static Result run(String... args) {
    List<String> all = new ArrayList<>(List.of("--target", server.target()));
    all.addAll(Arrays.asList(args));
    return runRaw(all.toArray(String[]::new));
  }

  private static Result runRaw(String... args) {
    CommandLine cli = OrchestratorCli.newCommandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(args);
    return new Result(code, out.toString(), err.toString());
  }

  // ---- --target ------------------------------------------------------------------------------

  @Test
  void target_withoutPort_meansTheServersDefaultPort() {
    assertThat(Targets.withDefaultPort("127.0.0.1")).isEqualTo("127.0.0.1:50051");
    assertThat(Targets.withDefaultPort("orchestrator.internal"))
        .isEqualTo("orchestrator.internal:50051");
    assertThat(Targets.withDefaultPort("::1")).isEqualTo("[::1]:50051");
    assertThat(Targets.withDefaultPort("[::1]")).isEqualTo("[::1]:50051");
    assertThat(Targets.withDefaultPort("[::1]:7000")).isEqualTo("[::1]:7000");
    assertThat(Targets.withDefaultPort("10.0.0.5:7000")).isEqualTo("10.0.0.5:7000");
    assertThat(Targets.withDefaultPort("dns:///orchestrator:7000"))
        .isEqualTo("dns:///orchestrator:7000");

    OrchestratorCli cli = new OrchestratorCli();
    new CommandLine(cli).parseArgs("--target", "127.0.0.1");
    assertThat(cli.effectiveTarget()).isEqualTo("127.0.0.1:50051");
  }

  @Test
  void unknownHost_isOneErrorLineAndAHint_noStackTrace() throws Exception {
    // The real main() in its own JVM: grpc-java's logging of the failed resolution is part of
    // what the user sees on stderr.
    Process p = new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp", System.getProperty("java.class.path"),
            OrchestratorCli.class.getName(),
            "--target", "no-such-host.invalid:50051", "--deadline", "20s", "status", "orders")
        .redirectErrorStream(true)
        .start();
    String output = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();

    assertThat(p.exitValue()).as(output).isEqualTo(1);
    List<String> lines = output.strip().lines().toList();
    assertThat(lines).as(output).hasSize(2);
    assertThat(lines.get(0)).startsWith("ERROR UNAVAILABLE: ");
    assertThat(lines.get(1)).isEqualTo("hint: the host of --target no-such-host.invalid:50051"
        + " is unknown: check its spelling, or use an IP address");
  }

  @Test
  void plaintextAgainstATlsServer_hintsAtTls(@TempDir Path dir) throws Exception {
    OrchestratorServer tlsServer = startTlsServer(dir);
    try {
      Result r = runRaw("--target", "127.0.0.1:" + tlsServer.port(), "--deadline", "10s",
          "pipelines", "list");

      assertThat(r.code()).as(r.err()).isEqualTo(1);
      assertThat(r.err()).startsWith("ERROR UNAVAILABLE: ")
          .contains("\nhint: is the server using TLS? pass --tls (or --ca-file PEM for a private"
              + " CA)");
    } finally {
      tlsServer.stop(1, TimeUnit.SECONDS);
    }
  }

  @Test
  void tlsAgainstAPlaintextServer_hintsAtDroppingTls() {
    Result r = runRaw("--target", server.target(), "--tls", "--deadline", "10s",
        "pipelines", "list");

    assertThat(r.code()).as(r.err()).isEqualTo(1);
    assertThat(r.err()).startsWith("ERROR UNAVAILABLE: ").contains("\nhint: the TLS handshake"
        + " failed: if the server is plaintext, drop --tls and --ca-file");
  }

  @Test
  void createFromAFileWithAnUnknownEnumName_listsTheValidNames(@TempDir Path dir)
      throws Exception {
    Path file = Files.writeString(dir.resolve("spec.json"), """
        {"name": "p", "stages": ["s"], "connectors": [{"name": "c", "kind": "SOURCE",
         "stage": "s"}]}
        """);

    Result r = run("pipelines", "create", "--file", file.toString());

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("is not a JSON PipelineSpec: \"SOURCE\" is not a"
        + " ConnectorKind; valid values: CONNECTOR_KIND_SOURCE, CONNECTOR_KIND_SINK");
  }

  @Test
  void connectionRefused_hintsAtTheTarget() {
    Hints.Context context = new Hints.Context("127.0.0.1:1", false, List::of);

    List<String> hints = Hints.forFailure(OrchestratorErrors.from(Status.UNAVAILABLE
        .withDescription("io exception: Connection refused: /127.0.0.1:1").asRuntimeException()),
        context);

    assertThat(hints).containsExactly("nothing listens on 127.0.0.1:1: is the server running, on"
        + " that port? (--target HOST:PORT or $LIGHTSPEED_TARGET)");
  }

  // ---- refusals that name the server's API instead of the CLI ---------------------------------

  @Test
  void deleteWithLiveBatches_namesTheForceFlag() {
    String p = server.createPipeline("cli-hint-del", 1, 30_000);
    client.enqueueBatch(p, batch("b1", 1));

    Result r = run("pipelines", "delete", p);

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).startsWith("ERROR PIPELINE_NOT_EMPTY: ")
        .contains("delete with --force to drop them").doesNotContain("force=true");
  }

  @Test
  void unknownPipeline_suggestsTheClosestName() {
    String p = server.createPipeline("cli-hint-warehouse", 1, 30_000);
    String typo = p.replace("warehouse", "warehuose");

    Result r = run("status", typo);

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).startsWith("ERROR PIPELINE_NOT_FOUND: ")
        .endsWith("\nhint: did you mean " + p + "?\n");
  }

  @Test
  void unknownPipeline_farFromEveryName_pointsAtTheList() {
    Result r = run("status", "zzzzzzzzzzzzzzzzzzzzzzzzzzzz");

    assertThat(r.err()).contains("\nhint: `lightspeed pipelines list` shows the ");
  }

  // ---- start that starts nothing --------------------------------------------------------------

  @Test
  void start_onAPausedPipeline_saysItIsPausedAndHowToResume() {
    String p = server.createPipeline("cli-hint-paused", 1, 30_000);
    client.enqueueBatch(p, batch("b1", 1));
    assertThat(run("pause", p).code()).isZero();

    Result r = run("start", p);

    assertThat(r.code()).isZero();
    assertThat(r.out().strip()).isEqualTo(
        "(none) pipeline is PAUSED; `lightspeed resume " + p + "` to start again");
  }

  @Test
  void start_atTheInFlightLimit_saysSo() {
    String p = ServerExtension.uniqueName("cli-hint-limit");
    client.createPipeline(ServerExtension.spec(p, 1, 30_000)
        .setBoundary(Boundary.newBuilder().setMaxInFlight(1).setLeaseMs(30_000)).build());
    client.enqueueBatch(p, batch("b1", 1));
    client.enqueueBatch(p, batch("b2", 2));
    assertThat(run("start", p).out()).contains("b1");

    Result r = run("start", p);

    assertThat(r.out().strip()).startsWith(
        "(none) in-flight limit reached (1 of 1 in flight); ack or fail those first");
  }

  @Test
  void start_withNothingQueued_saysSo() {
    String p = server.createPipeline("cli-hint-empty", 1, 30_000);

    assertThat(run("start", p).out().strip()).isEqualTo("(none) nothing queued");
  }

  @Test
  void start_whileTheOnlyBatchWaitsToRetry_saysWhereToLook() {
    String p = ServerExtension.uniqueName("cli-hint-retry");
    client.createPipeline(ServerExtension.spec(p, 3, 30_000)
        .setRetry(dev.lightspeed.orchestrator.v1.RetryPolicy.newBuilder().setMaxAttempts(3)
            .setInitialBackoffMs(3_600_000).setMaxBackoffMs(3_600_000))
        .build());
    client.enqueueBatch(p, batch("b1", 1));
    StartedBatch started = client.startAvailable(p, 1).get(0);
    client.failBatch(p, "b1", started.getAttempt(), "boom", false);

    assertThat(run("start", p).out().strip()).isEqualTo("(none) nothing ready: 1 waiting to"
        + " retry (`lightspeed retries " + p + "` shows when)");

    // ---- and status says that queued includes it ----
    Result status = run("status", p);
    assertThat(status.out()).containsPattern("(?m)^queued\\s+1 \\(0 ready, 1 waiting to retry\\)$")
        .containsPattern("(?m)^retry_wait\\s+1 \\(of the queued\\)$");
  }

  /** A TLS-only server with a self-signed certificate made by keytool (as in TlsTest). */
  private static OrchestratorServer startTlsServer(Path dir) throws Exception {
    Path keystore = dir.resolve("server.p12");
    Process keytool = new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
            "-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1",
            "-dname", "CN=localhost", "-ext", "san=ip:127.0.0.1", "-validity", "2",
            "-storetype", "PKCS12", "-keystore", keystore.toString(),
            "-storepass", "changeit", "-keypass", "changeit")
        .redirectErrorStream(true)
        .start();
    String output = new String(keytool.getInputStream().readAllBytes());
    assertThat(keytool.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(keytool.exitValue()).as(output).isZero();
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(keystore)) {
      ks.load(in, "changeit".toCharArray());
    }
    KeyManagerFactory kmf =
        KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, "changeit".toCharArray());
    NettyServerBuilder builder =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .sslContext(GrpcSslContexts.configure(SslContextBuilder.forServer(kmf)).build());
    return new OrchestratorServer(builder, Clock.systemUTC(), 16).start();
  }
}
