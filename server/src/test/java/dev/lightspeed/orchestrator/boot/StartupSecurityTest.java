package dev.lightspeed.orchestrator.boot;

import static org.assertj.core.api.Assertions.assertThat;
import dev.lightspeed.orchestrator.server.TestCertificates;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * What ServerMain refuses before it listens: a non-loopback address without TLS or without
 * authentication (unless --insecure), inconsistent TLS flags, a bad token file. None of these
 * tests binds a socket when the server behaves; a server that wrongly started is caught by the
 * time limit.
 */
class StartupSecurityTest {
  @TempDir Path dir;
  private final ExecutorService runner = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "server-main-under-test");
    t.setDaemon(true);
    return t;
  });

  @AfterEach
  void stop() {
    runner.shutdownNow();
  }

  /** Runs ServerMain; its exit code and what it printed to stderr. */
  private record Run(int exit, String err) {}

  private Run run(String... args) throws Exception {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream original = System.err;
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      CommandLine cli = new CommandLine(new ServerMain());
      cli.setErr(new java.io.PrintWriter(System.err, true));
      Future<Integer> exit = runner.submit(() -> cli.execute(args));
      return new Run(exit.get(30, TimeUnit.SECONDS), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setErr(original);
    }
  }

  @Test
  void anyAddress_withoutTlsAndAuth_refusesToStart_namingWhatIsMissingAndInsecure()
      throws Exception {
    Run r = run("--bind", "0.0.0.0", "--port", "0", "--in-memory");

    assertThat(r.exit).isEqualTo(2);
    assertThat(r.err).contains("refusing to listen on 0.0.0.0").contains("TLS (--tls-cert")
        .contains("authentication (--token-file").contains("--insecure");
  }

  @Test
  void anyAddress_withTlsButNoAuthentication_refusesToStart() throws Exception {
    var ca = TestCertificates.authority(dir, "ca");
    var cert = TestCertificates.server(dir, ca, "server");
    Run r = run("--bind", "0.0.0.0", "--port", "0", "--in-memory",
        "--tls-cert", cert.certFile().toString(), "--tls-key", cert.keyFile().toString());

    assertThat(r.exit).isEqualTo(2);
    assertThat(r.err).contains("without authentication").doesNotContain("TLS (--tls-cert");
  }

  @Test
  void exposureProblem_isNoneOnLoopback_withTlsAndAuth_orWithInsecure() throws Exception {
    ProductionOptions plain = options();
    assertThat(plain.exposureProblem("127.0.0.1")).isNull();
    assertThat(plain.exposureProblem("localhost")).isNull();
    assertThat(plain.exposureProblem("::1")).isNull();
    assertThat(plain.exposureProblem("0.0.0.0")).contains("--insecure");
    assertThat(plain.exposureProblem("::")).contains("--insecure");

    assertThat(options("--insecure").exposureProblem("0.0.0.0")).isNull();
    assertThat(options("--tls-cert", "c", "--tls-key", "k", "--token-file", "t")
        .exposureProblem("0.0.0.0")).isNull();
    assertThat(options("--tls-cert", "c", "--tls-key", "k", "--tls-client-ca", "ca")
        .exposureProblem("0.0.0.0")).as("client certificates authenticate").isNull();
    assertThat(options("--token-file", "t").exposureProblem("0.0.0.0"))
        .contains("without TLS").doesNotContain("authentication (");
  }

  private static ProductionOptions options(String... args) {
    ProductionOptions o = new ProductionOptions();
    new CommandLine(o).parseArgs(args);
    return o;
  }

  @Test
  void inconsistentFlags_areParameterErrors() throws Exception {
    assertThat(options("--tls-cert", "c").problems()).contains("--tls-cert and --tls-key go together");
    assertThat(options("--tls-client-ca", "ca").problems())
        .contains("--tls-client-ca needs --tls-cert and --tls-key (mutual TLS is TLS)");
    assertThat(options("--max-items-per-call", "0").problems())
        .contains("--max-items-per-call must be ≥ 1 (got 0)");
    assertThat(options().problems()).isEmpty();

    Run r = run("--port", "0", "--in-memory", "--tls-key", "k");
    assertThat(r.exit).isEqualTo(2);
    assertThat(r.err).contains("--tls-cert and --tls-key go together");
  }

  @Test
  void aBadTokenFile_refusesToStart_namingTheLine_neverTheToken() throws Exception {
    String secret = "a-secret-token-0123456789";
    Path tokens = dir.resolve("tokens.txt");
    Files.writeString(tokens, "# ok\n" + secret + " producer,writer ingest\n");

    Run r = run("--port", "0", "--in-memory", "--token-file", tokens.toString());

    assertThat(r.exit).isEqualTo(2);
    assertThat(r.err).contains("line 2").contains("unknown role 'writer'").doesNotContain(secret);
  }

  @Test
  void aMissingTokenFile_refusesToStart() throws Exception {
    Run r = run("--port", "0", "--in-memory", "--token-file", dir.resolve("none").toString());

    assertThat(r.exit).isEqualTo(2);
    assertThat(r.err).contains("none");
  }

  @Test
  void dashboardHttpPort_onAnyAddress_isUnderTheSameRule() throws Exception {
    Run r = run("--bind", "0.0.0.0", "--port", "0", "--http-port", "0", "--in-memory");

    assertThat(r.exit).isEqualTo(2);
    assertThat(r.err).contains("refusing to listen on 0.0.0.0");
  }

  @Test
  void dashboardHttpPort_outOfRange_isRefused() throws Exception {
    Run r = run("--port", "0", "--http-port", "70000", "--in-memory");

    assertThat(r.exit).isEqualTo(2);
    assertThat(r.err).contains("--http-port must be 0-65535 (got 70000)");
  }
}
