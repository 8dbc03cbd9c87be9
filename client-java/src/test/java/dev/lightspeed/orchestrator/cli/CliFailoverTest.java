package dev.lightspeed.orchestrator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.client.ServerExtension;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code --target A,B}: the CLI against two real, independent servers on loopback, before and
 * after A stops; a list of dead addresses; a malformed list.
 */
class CliFailoverTest {
  private final ServerExtension a = new ServerExtension();
  private final ServerExtension b = new ServerExtension();
  private boolean aStopped;

  record Result(int code, String out, String err) {}

  @BeforeEach
  void startBoth() throws Exception {
    a.beforeAll(null);
    b.beforeAll(null);
  }

  @AfterEach
  void stopBoth() throws Exception {
    if (!aStopped) {
      a.afterAll(null);
    }
    b.afterAll(null);
  }

  private static Result run(String... args) {
    CommandLine cli = OrchestratorCli.newCommandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(args);
    return new Result(code, out.toString(), err.toString());
  }

  @Test
  void severalTargets_theCliUsesTheFirst_thenTheNextWhenItStops() throws Exception {
    String onA = ServerExtension.uniqueName("only-on-a");
    String onB = ServerExtension.uniqueName("only-on-b");
    a.client().createPipeline(ServerExtension.spec(onA, 3, 60_000).build());
    b.client().createPipeline(ServerExtension.spec(onB, 3, 60_000).build());
    String targets = a.target() + "," + b.target();

    Result before = run("--target", targets, "pipelines", "list");
    assertThat(before.code()).as(before.err()).isZero();
    assertThat(before.out()).contains(onA).doesNotContain(onB);

    a.afterAll(null);
    aStopped = true;

    Result after = run("--target", targets, "pipelines", "list");
    assertThat(after.code()).as(after.err()).isZero();
    assertThat(after.out()).contains(onB).doesNotContain(onA);
  }

  @Test
  void onlyDeadTargets_exit1_errorUnavailable() throws Exception {
    Result r =
        run("--target", "127.0.0.1:" + deadPort() + ",127.0.0.1:" + deadPort(), "--deadline",
            "20s", "pipelines", "list");
    assertThat(r.code()).isEqualTo(OrchestratorCli.REFUSED);
    assertThat(r.err()).startsWith("ERROR UNAVAILABLE: ").containsIgnoringCase("connection refused");
  }

  @Test
  void anEmptyAddressInTheList_isAUsageError() {
    Result r = run("--target", a.target() + ",", "pipelines", "list");
    assertThat(r.code()).isEqualTo(OrchestratorCli.USAGE);
    assertThat(r.err()).startsWith("ERROR USAGE: ").contains("empty address");
  }

  @Test
  void help_explainsSeveralTargets() {
    Result r = run("--help");
    assertThat(r.out()).contains("HOST:PORT[,HOST:PORT...]").contains("comma-separated");
  }

  private static int deadPort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
