package dev.lightspeed.orchestrator.server;

import static org.assertj.core.api.Assertions.assertThat;
import dev.lightspeed.orchestrator.boot.ServerMain;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The server's log lines carry an ISO-8601 time with milliseconds (simplelogger.properties). */
class LogFormatTest {
  private static final String ISO_MS_TIME =
      "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d)";

  /** What runs while stderr is captured (slf4j-simple writes to the current System.err). */
  private static String stderrOf(Runnable action) {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream original = System.err;
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      action.run();
    } finally {
      System.setErr(original);
    }
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void serverLogLine_startsWithAnIsoTimeWithMilliseconds() {
    String line = stderrOf(() -> LoggerFactory.getLogger(LogFormatTest.class).info("hello"));

    assertThat(line.strip()).matches(ISO_MS_TIME
        + " \\[[^\\]]+\\] INFO dev\\.lightspeed\\.orchestrator\\.server\\.LogFormatTest - hello");
  }

  @Test
  void julRecords_ofGrpcAndNetty_areOneTimestampedLineToo() {
    java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
    java.util.logging.Handler[] before = root.getHandlers();
    try {
      ServerMain.routeJulToSlf4j();

      String line = stderrOf(() ->
          java.util.logging.Logger.getLogger("io.grpc.test").warning("transport trouble"));

      assertThat(line.strip()).matches(ISO_MS_TIME + " \\[[^\\]]+\\] WARN io\\.grpc\\.test"
          + " - transport trouble");
    } finally {
      org.slf4j.bridge.SLF4JBridgeHandler.uninstall();
      for (java.util.logging.Handler h : before) {
        root.addHandler(h);
      }
    }
  }
}
