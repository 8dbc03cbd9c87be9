package dev.lightspeed.orchestrator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.client.MutualTlsServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --cert-file}/{@code --key-file} against a server that requires client certificates. */
class CliMutualTlsTest {
  @TempDir static Path dir;
  private static MutualTlsServer server;

  @BeforeAll
  static void start() throws Exception {
    server = new MutualTlsServer(dir);
  }

  @AfterAll
  static void stop() throws InterruptedException {
    if (server != null) {
      server.close();
    }
  }

  record Result(int code, String out, String err) {}

  private static Result run(String... args) {
    List<String> all =
        new ArrayList<>(
            List.of("--target", server.target(), "--ca-file", server.ca.certFile().toString(),
                "--deadline", "30s"));
    all.addAll(List.of(args));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    picocli.CommandLine cli = OrchestratorCli.newCommandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(all.toArray(String[]::new));
    return new Result(code, out.toString(), err.toString());
  }

  @Test
  void withTheClientCertificate_pipelinesAreListed() {
    Result r =
        run("--cert-file", server.client.certFile().toString(),
            "--key-file", server.client.keyFile().toString(), "pipelines", "list");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("mtls");
  }

  @Test
  void withoutIt_theCallFailsAsUnavailable() {
    Result r = run("pipelines", "list");
    assertThat(r.code()).isEqualTo(OrchestratorCli.REFUSED);
    // The failed handshake is UNAVAILABLE, which the CLI retries for reads: on a slow machine
    // the deadline may run out first.
    assertThat(r.err()).containsPattern("^ERROR (UNAVAILABLE|DEADLINE_EXCEEDED)");
  }

  @Test
  void aCertificateWithoutItsKey_isAUsageError() {
    Result r = run("--cert-file", server.client.certFile().toString(), "pipelines", "list");
    assertThat(r.code()).isEqualTo(OrchestratorCli.USAGE);
    assertThat(r.err()).contains("--cert-file and --key-file go together");
  }

  @Test
  void anUnreadableKeyFile_isAUsageErrorNamingIt() {
    Result r =
        run("--cert-file", server.client.certFile().toString(),
            "--key-file", dir.resolve("absent.key").toString(), "pipelines", "list");
    assertThat(r.code()).isEqualTo(OrchestratorCli.USAGE);
    assertThat(r.err()).contains("absent.key").doesNotContain("\tat ");
  }
}
