package dev.lightspeed.orchestrator.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * What ServerMain prints when it cannot start: the cause in plain words, the flag, the fix; never
 * a bare path, never a page of usage. Each case runs ServerMain in this JVM with stderr captured.
 * None starts a server when ServerMain behaves; one that wrongly does is caught by the time limit.
 */
class StartupMessagesTest {
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

  private record Run(int exit, String err) {}

  private Run run(String... args) throws Exception {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream original = System.err;
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      CommandLine cli = ServerMain.commandLine();
      cli.setErr(new PrintWriter(System.err, true));
      Future<Integer> exit = runner.submit(() -> cli.execute(args));
      return new Run(exit.get(30, TimeUnit.SECONDS), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setErr(original);
    }
  }

  @Test
  void dataDirThatIsAFile_saysItIsAFileNotADirectory() throws Exception {
    Path file = Files.writeString(dir.resolve("afile"), "x");

    Run r = run("--port", "0", "--data-dir", file.toString());

    assertThat(r.exit).isEqualTo(3);
    assertThat(r.err).contains("cannot open --data-dir " + file + ": it is a file, not a"
        + " directory. Pass a directory");
  }

  @Test
  void dataDirNotWritable_saysPermissionDeniedAndHowToFixIt() throws Exception {
    // Root may write anywhere, so the real case needs another user; the message itself is
    // checked below for every user.
    assumeFalse("root".equals(System.getProperty("user.name")), "root can write a 0500 dir");
    Path ro = Files.createDirectory(dir.resolve("ro"));
    Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("r-x------"));

    Run r = run("--port", "0", "--data-dir", ro.toString());

    assertThat(r.exit).isEqualTo(3);
    assertThat(r.err).contains("cannot open --data-dir " + ro + ": permission denied on")
        .contains("make it writable by this user");
  }

  @Test
  void dataDirMessage_forAccessDenied_namesTheFileAndTheFix() {
    Path ro = Path.of("/srv/ro");

    String message =
        StartupErrors.dataDir(ro, new AccessDeniedException("/srv/ro/LOCK"));

    assertThat(message).isEqualTo("cannot open --data-dir /srv/ro: permission denied on"
        + " /srv/ro/LOCK. The server needs to create and write files there: make it writable by"
        + " this user (" + System.getProperty("user.name") + "), or pass another --data-dir.");
  }

  @Test
  void missingTokenFile_saysNoSuchFileAndNamesTheFlag() throws Exception {
    Path nope = dir.resolve("nope.txt");

    Run r = run("--port", "0", "--in-memory", "--token-file", nope.toString());

    assertThat(r.exit).isEqualTo(2);
    assertThat(r.err).contains("cannot read --token-file " + nope + ": no such file or"
        + " directory: " + nope + ". The file lists 'TOKEN ROLE[,ROLE...] [NAME]' lines");
  }

  @Test
  void missingConfig_saysNoSuchFile_andCreatesNoDataDirectory() throws Exception {
    Path data = dir.resolve("data");

    Run r = run("--port", "0", "--data-dir", data.toString(), "--config", "nonexistent.json");

    assertThat(r.exit).isEqualTo(2);
    assertThat(r.err).contains("cannot read --config nonexistent.json: no such file or"
        + " directory: nonexistent.json. Check the path; examples/pipelines.json is an example.");
    assertThat(data).doesNotExist();
  }

  @Test
  void takenPort_saysAddressInUse_namesPort_andCreatesNoDataDirectory() throws Exception {
    Path data = dir.resolve("data");
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      int port = taken.getLocalPort();

      Run r = run("--port", Integer.toString(port), "--data-dir", data.toString());

      assertThat(r.exit).isEqualTo(2);
      assertThat(r.err).contains("cannot listen on 127.0.0.1:" + port + " (--port " + port
          + "): address already in use, by another program or another"
          + " lightspeed-orchestrator. Stop it, or pass another --port (0 picks a free one).");
      assertThat(data).as("nothing is written when the port is taken").doesNotExist();
    }
  }

  @Test
  void takenMetricsPort_isReportedBeforeTheDataDirectoryIsCreated() throws Exception {
    Path data = dir.resolve("data");
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      int port = taken.getLocalPort();

      Run r = run("--port", "0", "--data-dir", data.toString(),
          "--metrics-port", Integer.toString(port));

      assertThat(r.exit).isEqualTo(2);
      assertThat(r.err).contains("(--metrics-port " + port + "): address already in use");
      assertThat(data).doesNotExist();
    }
  }

  @Test
  void portMessage_forAPrivilegedPort_saysWhy() {
    assertThat(StartupErrors.portTaken("127.0.0.1", 80, "--port",
            new BindException("Permission denied")))
        .contains("permission denied (ports below 1024 need privileges)");
  }

  @Test
  void mistypedFlag_isOneLineWithADidYouMean_andAUsageHint_notTheWholeHelp() throws Exception {
    Run r = run("--prot", "50071");

    assertThat(r.exit).isEqualTo(2);
    assertThat(r.err.strip().lines().toList()).containsExactly(
        "unknown option '--prot'; did you mean --port?",
        UsageErrors.HINT);
  }

  @Test
  void otherTypos_findTheirOption() throws Exception {
    assertThat(run("--data-dri", "x").err).startsWith(
        "unknown option '--data-dri'; did you mean --data-dir?");
    assertThat(run("--tokenfile=t.txt").err).startsWith(
        "unknown option '--tokenfile'; did you mean --token-file?");
    assertThat(run("--frobnicate").err).startsWith("unknown option '--frobnicate'.\n");
  }

  @Test
  void badFlagValue_isTheProblemAndTheHint() throws Exception {
    Run r = run("--fsync", "sometimes", "--in-memory");

    assertThat(r.exit).isEqualTo(2);
    assertThat(r.err.strip().lines().toList()).containsExactly(
        "--fsync takes always or never (got 'sometimes')", UsageErrors.HINT);
  }

  @Test
  void unknownEnumValueInConfig_listsTheValidValues() throws Exception {
    Path config = Files.writeString(dir.resolve("config.json"), """
        {"pipelines": [{"name": "p", "stages": ["s"],
          "connectors": [{"name": "c", "kind": "SOURCE", "stage": "s"}]}]}
        """);

    Run r = run("--port", "0", "--in-memory", "--config", config.toString());

    assertThat(r.exit).isEqualTo(2);
    assertThat(r.err).contains("--config " + config + " is not a valid ServerConfig JSON:"
        + " \"SOURCE\" is not a ConnectorKind; valid values: CONNECTOR_KIND_SOURCE,"
        + " CONNECTOR_KIND_SINK");
  }

  @Test
  void readConfig_ofAnUnreadablePath_throwsTheFileException() {
    // The caller turns the exception's type into words; the path alone is not the message.
    assertThat(StartupErrors.describe(new java.nio.file.NoSuchFileException("x.json")))
        .isEqualTo("no such file or directory: x.json");
    assertThat(StartupErrors.describe(new IOException("plain words")))
        .isEqualTo("plain words");
  }

  @Test
  void raftSnapshotIntervalBelowOne_isRefusedBeforeAnythingStarts() throws Exception {
    Path data = dir.resolve("data");

    Run r = run("--cluster", "examples/cluster-local.json", "--node-id", "n1",
        "--data-dir", data.toString(), "--raft-snapshot-every", "0");

    assertThat(r.exit).isEqualTo(2);
    assertThat(r.err).contains("--raft-snapshot-every must be at least 1 (entries between a"
        + " group's snapshots), was 0");
    assertThat(data).doesNotExist();
  }

  @Test
  void clusterNodeWithAConfigThatFailsItsOwnChecks_isRefusedBeforeAnythingStarts()
      throws Exception {
    // --config is applied by a cluster node through its groups (docs/cluster.md); the file's own
    // mistakes are found first, before the node writes or joins anything.
    Path data = dir.resolve("data");
    Path config = Files.writeString(dir.resolve("config.json"), """
        {"pipelines": [
          {"name": "p", "stages": ["s"],
           "connectors": [{"name": "c", "kind": "CONNECTOR_KIND_SOURCE", "stage": "s"}]},
          {"name": "p", "stages": ["s"],
           "connectors": [{"name": "c", "kind": "CONNECTOR_KIND_SOURCE", "stage": "s"}]}]}
        """);

    Run r = run("--cluster", "examples/cluster-local.json", "--node-id", "n1",
        "--data-dir", data.toString(), "--config", config.toString());

    assertThat(r.exit).isEqualTo(2);
    assertThat(r.err).contains("--config " + config + ": PIPELINE_EXISTS: pipeline 'p'"
        + " (pipelines[1]): the config lists pipeline 'p' more than once");
    assertThat(data).doesNotExist();
  }
}
