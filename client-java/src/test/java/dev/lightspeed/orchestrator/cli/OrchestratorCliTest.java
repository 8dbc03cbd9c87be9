package dev.lightspeed.orchestrator.cli;

import static dev.lightspeed.orchestrator.client.ServerExtension.batch;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.JsonFormat;
import dev.lightspeed.orchestrator.client.OrchestratorClient;
import dev.lightspeed.orchestrator.client.ServerExtension;
import dev.lightspeed.orchestrator.v1.BatchState;
import dev.lightspeed.orchestrator.v1.Boundary;
import dev.lightspeed.orchestrator.v1.ListBatchesResponse;
import dev.lightspeed.orchestrator.v1.PipelineMode;
import dev.lightspeed.orchestrator.v1.PipelineSpec;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Runs the CLI's commands in-process against the real server and checks what they print. */
class OrchestratorCliTest {
  @RegisterExtension static final ServerExtension server = new ServerExtension();

  private final OrchestratorClient client = server.client();

  record Result(int code, String out, String err) {}

  /** {@code lightspeed --target <server> args...} with captured stdout and stderr. */
  private static Result run(String... args) {
    List<String> all = new ArrayList<>(List.of("--target", server.target()));
    all.addAll(Arrays.asList(args));
    return runRaw(all.toArray(String[]::new));
  }

  private static Result runRaw(String... args) {
    return runOn(OrchestratorCli.newCommandLine(), args);
  }

  private static Result runOn(CommandLine cli, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(args);
    return new Result(code, out.toString(), err.toString());
  }

  @Test
  void everyCommand_hasHelp() {
    CommandLine cli = OrchestratorCli.newCommandLine(); // one for all: parsing resets it
    List<String> paths = new ArrayList<>();
    collect(cli, "", paths);
    assertThat(paths).hasSize(37).contains("pipelines create", "pipelines update", "watch", "events", "runs list",
        "cluster", "cluster status", "cluster add-node", "cluster remove-node");
    for (String path : paths) {
      List<String> args = new ArrayList<>(List.of(path.split(" ")));
      args.add("--help");
      Result r = runOn(cli, args.toArray(String[]::new));
      assertThat(r.code()).as(path).isZero();
      assertThat(r.out()).as(path).startsWith("Usage: lightspeed " + path);
    }
  }

  private static void collect(CommandLine cmd, String prefix, List<String> out) {
    for (Map.Entry<String, CommandLine> e : cmd.getSubcommands().entrySet()) {
      if (e.getKey().equals("help")) {
        continue;
      }
      String path = (prefix + " " + e.getKey()).trim();
      out.add(path);
      collect(e.getValue(), path, out);
    }
  }

  @Test
  void pipelines_createFromFile_list_get_delete(@TempDir Path dir) throws Exception {
    String name = ServerExtension.uniqueName("cli-pipe");
    Path file = dir.resolve("spec.json");
    Files.writeString(
        file,
        "{\"name\": \"" + name + "\", \"stages\": [\"extract\"],"
            + " \"connectors\": [{\"name\": \"src\", \"kind\": \"CONNECTOR_KIND_SOURCE\","
            + " \"stage\": \"extract\"}], \"retry\": {\"maxAttempts\": 2}}");

    Result created = run("pipelines", "create", "--file", file.toString());
    assertThat(created.code()).as(created.err()).isZero();
    PipelineSpec.Builder effective = PipelineSpec.newBuilder();
    JsonFormat.parser().merge(created.out(), effective);
    assertThat(effective.getRetry().getMaxAttempts()).isEqualTo(2);
    assertThat(effective.getBoundary().getLeaseMs()).isEqualTo(30_000); // default filled in

    Result list = run("pipelines", "list");
    assertThat(list.out()).startsWith("NAME").containsPattern(name + " +extract +src +64 +30000 +2");
    assertThat(run("pipelines", "get", name).out()).contains("\"name\": \"" + name + "\"");

    Result again = run("pipelines", "create", "-f", file.toString());
    assertThat(again.code()).isEqualTo(1);
    assertThat(again.err()).startsWith("ERROR PIPELINE_EXISTS: ");

    client.enqueueBatch(name, batch("b1", 1).toBuilder().setStage("extract").build());
    assertThat(run("pipelines", "delete", name).err()).startsWith("ERROR PIPELINE_NOT_EMPTY: ");
    Result deleted = run("pipelines", "delete", name, "--force");
    assertThat(deleted.code()).isZero();
    assertThat(deleted.out()).isEqualTo("deleted pipeline " + name + System.lineSeparator());
  }

  @Test
  void pipelinesUpdate_withSet_andFromFile_changesOnlyWhatIsNamed(@TempDir Path dir)
      throws Exception {
    String name = server.createPipeline("cli-update", 3, 1_000);

    Result set = run("pipelines", "update", name, "--set", "boundary.max_queued=50000",
        "--set", "retry.multiplier=1.5");
    assertThat(set.code()).as(set.err()).isZero();
    PipelineSpec.Builder effective = PipelineSpec.newBuilder();
    JsonFormat.parser().merge(set.out(), effective);
    assertThat(effective.getBoundary().getMaxQueued()).isEqualTo(50_000);
    assertThat(effective.getRetry().getMultiplier()).isEqualTo(1.5);
    assertThat(effective.getBoundary().getLeaseMs()).as("not named").isEqualTo(1_000);

    Path file = dir.resolve("grow.json");
    Files.writeString(file, "{\"stages\": [\"work\", \"publish\"], \"connectors\": ["
        + "{\"name\": \"src\", \"kind\": \"CONNECTOR_KIND_SOURCE\", \"stage\": \"work\"},"
        + "{\"name\": \"pub\", \"kind\": \"CONNECTOR_KIND_SINK\", \"stage\": \"publish\"}],"
        + " \"boundary\": {\"maxInFlight\": 8}}");
    Result grown = run("pipelines", "update", name, "--from-file", file.toString());
    assertThat(grown.code()).as(grown.err()).isZero();
    PipelineSpec now = client.getPipeline(name);
    assertThat(now.getStagesList()).containsExactly("work", "publish");
    assertThat(now.getBoundary().getMaxInFlight()).isEqualTo(8);
    assertThat(now.getBoundary().getMaxQueued()).as("absent from the file").isEqualTo(50_000);

    Result refused = run("pipelines", "update", name, "--set", "boundary.max_in_flight=0");
    assertThat(refused.code()).isEqualTo(1);
    assertThat(refused.err()).startsWith("ERROR INVALID_PIPELINE_SPEC: ");
    Result badPath = run("pipelines", "update", name, "--set", "boundary.nope=1");
    assertThat(badPath.code()).isEqualTo(2);
    Result nothing = run("pipelines", "update", name);
    assertThat(nothing.code()).isEqualTo(2);
  }

  @Test
  void events_printsTheEventsAfterAnId_thenFollows_untilCount() {
    String name = server.createPipeline("cli-events", 3, 30_000);
    client.enqueueBatch(name, batch("e1", 0));
    client.applyAction(name, dev.lightspeed.orchestrator.v1.OperatorAction.newBuilder()
        .setPause(dev.lightspeed.orchestrator.v1.OperatorAction.Pause.getDefaultInstance()).build());
    Result r = run("events", name, "--after", "0", "--count", "2");
    assertThat(r.code()).as(r.err()).isZero();
    String[] lines = r.out().split(System.lineSeparator());
    assertThat(lines).hasSize(2);
    assertThat(lines[0]).startsWith("1  ").contains("ENQUEUED").contains("\"key\":\"e1\"");
    assertThat(lines[1]).startsWith("2  ").contains("ACTION_APPLIED");
    Result filtered = run("events", name, "--after", "0", "--type", "action_applied", "--count", "1",
        "--json");
    assertThat(filtered.out()).contains("\"eventId\":\"2\"").contains("actionApplied");
    assertThat(run("events", name, "--type", "nope").code()).isEqualTo(2);
  }

  @Test
  void createFromAnInvalidFile_isAUsageError(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("bad.json");
    Files.writeString(file, "{\"name\": \"x\", \"stagez\": []}");
    Result r = run("pipelines", "create", "--file", file.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).startsWith("ERROR INVALID_FILE: ");
    Result missing = run("pipelines", "create", "--file", dir.resolve("none.json").toString());
    assertThat(missing.code()).isEqualTo(2);
  }

  @Test
  void batchLifeCycle_enqueueStartFailAck() {
    String p = server.createPipeline("cli-life", 2, 30_000);
    Result enq = run("enqueue", p, "--key", "b1", "--stage", "work", "--records", "7", "--sequence", "1");
    assertThat(enq.out()).isEqualTo("enqueued b1" + System.lineSeparator());
    assertThat(run("enqueue", p, "--key", "b1", "--stage", "work", "--records", "7", "--sequence", "1").out())
        .startsWith("already enqueued b1");

    Result start = run("start", p);
    assertThat(start.out()).startsWith("KEY").containsPattern("b1 +work +7 +1 ");
    assertThat(run("extend-lease", p, "b1", "--attempt", "1").out()).startsWith("lease of b1 extended to 20");

    Result fail = run("fail", p, "b1", "--attempt", "1", "--reason", "sink down");
    assertThat(fail.out()).startsWith("retry scheduled: b1 attempt 2").contains("(sink down)");
    Result stale = run("fail", p, "b1", "--attempt", "1", "--reason", "again");
    assertThat(stale.code()).isEqualTo(1);
    assertThat(stale.err()).startsWith("ERROR FAILURE_REJECTED: ");
    assertThat(run("retries", p).out()).containsPattern("b1 +2 +20\\S+ +sink down");

    Result restart = run("start", p, "--json");
    assertThat(restart.out()).contains("\"attempt\":2");
    Result staleAck = run("ack", p, "b1", "--attempt", "1");
    assertThat(staleAck.code()).isEqualTo(1);
    assertThat(staleAck.err()).startsWith("ERROR STALE_ATTEMPT: ");
    Result ack = run("ack", p, "b1", "--attempt", "2");
    assertThat(ack.out()).startsWith("processed b1 (stage work, attempt 2, 7 records, run 0)");
  }

  @Test
  void listings_printATable_orProtobufJson() throws Exception {
    String p = server.createPipeline("cli-list", 1, 30_000);
    client.enqueueBatches(p, List.of(batch("a", 1), batch("b", 2), batch("c", 3)));
    client.startAvailable(p, 1);
    client.failBatch(p, "a", 1, "poison", true);

    Result table = run("batches", p);
    assertThat(table.out().lines().toList())
        .hasSize(4)
        .first()
        .asString()
        .startsWith("KEY  STAGE  STATE");
    assertThat(table.out()).containsPattern("a +work +DEAD_LETTERED +1 ").containsPattern("b +work +QUEUED +0 ");
    assertThat(run("batches", p, "--state", "QUEUED").out().lines()).hasSize(3);

    Result json = run("batches", p, "--json");
    ListBatchesResponse.Builder parsed = ListBatchesResponse.newBuilder();
    JsonFormat.parser().merge(json.out(), parsed);
    assertThat(parsed.getBatchesList()).extracting(v -> v.getBatch().getKey()).containsExactly("a", "b", "c");
    assertThat(parsed.getBatches(0).getState()).isEqualTo(BatchState.BATCH_STATE_DEAD_LETTERED);

    assertThat(run("dead-letters", p).out()).containsPattern("a +" + p + ".work.dlq +20\\S+ +poison");
    assertThat(run("dead-letters", p, "--json").out()).contains("\"reason\": \"poison\"");
    assertThat(run("retries", p).out()).isEqualTo("(none)" + System.lineSeparator());
    assertThat(run("status", p).out())
        .containsPattern("queued +2")
        .containsPattern("dead_letters +1")
        .containsPattern("valid +true");
    assertThat(run("status", p, "--json").out()).contains("\"queuedCount\": \"2\"");

    // --stale-ok: a single server ignores it (a cluster node answers from its own replica).
    assertThat(run("batches", p, "--stale-ok").out()).isEqualTo(table.out());
    assertThat(run("status", p, "--stale-ok").out()).isEqualTo(run("status", p).out());
    assertThat(run("dead-letters", p, "--stale-ok").out()).contains("poison");
    assertThat(run("retries", p, "--stale-ok").out()).isEqualTo("(none)" + System.lineSeparator());
    assertThat(run("audit", p, "--stale-ok").out()).isEqualTo(run("audit", p).out());
    assertThat(run("runs", "list", p, "--stale-ok").out()).isEqualTo(run("runs", "list", p).out());
  }

  @Test
  void operatorActions_areApplied_andAudited() {
    String p = server.createPipeline("cli-ops", 1, 30_000);
    client.enqueueBatches(p, List.of(batch("dead1", 1), batch("dead2", 2), batch("queued", 3)));
    client.startAvailable(p, 2);
    client.failBatch(p, "dead1", 1, "x", false);
    client.failBatch(p, "dead2", 1, "x", false);

    String[][] actions = {
      {"pause", p},
      {"resume", p},
      {"drain", p},
      {"resume", p},
      {"pause-stage", p, "work"},
      {"resume-stage", p, "work"},
      {"disable-connector", p, "src"},
      {"enable-connector", p, "src"},
      {"set-max-in-flight", p, "5"},
      {"redrive", p, "dead1"},
      {"discard", p, "dead2"},
      {"cancel", p, "queued"},
    };
    for (String[] action : actions) {
      Result r = run(action);
      assertThat(r.code()).as(String.join(" ", action) + ": " + r.err()).isZero();
      assertThat(r.out()).startsWith("applied " + action[0] + " to " + p + ": {");
    }
    var status = client.getStatus(p);
    assertThat(status.getEffectiveMaxInFlight()).isEqualTo(5);
    assertThat(status.getMode()).isEqualTo(PipelineMode.PIPELINE_MODE_RUNNING);
    assertThat(status.getDeadLetterCount()).isZero();
    assertThat(status.getQueuedCount()).isEqualTo(1); // dead1 redriven; queued cancelled

    Result audit = run("audit", p);
    assertThat(audit.out().lines()).hasSize(1 + actions.length);
    assertThat(audit.out()).contains("{\"redriveDeadLetter\":{\"key\":\"dead1\"}}");

    Result refused = run("cancel", p, "no-such-batch");
    assertThat(refused.code()).isEqualTo(1);
    assertThat(refused.err()).startsWith("ERROR BATCH_NOT_FOUND: ");
    Result invalid = run("set-max-in-flight", p, "0");
    assertThat(invalid.err()).startsWith("ERROR INVALID_ACTION: ");
  }

  @Test
  void runs_startCompleteList() {
    String p = server.createPipeline("cli-runs", 1, 30_000);
    assertThat(run("runs", "start", p).out()).startsWith("run 1 active since 20");
    client.enqueueBatch(p, batch("b1", 1));
    client.startAvailable(p, 0);
    client.ackBatch(p, "b1", 1);
    Result complete = run("runs", "complete", p);
    assertThat(complete.out()).startsWith("RUN").containsPattern("\n1 +20\\S+ +20\\S+ +1 +10 +0 +0");
    assertThat(run("runs", "complete", p).out()).startsWith("no run was active");
    assertThat(run("runs", "list", p).out().lines()).hasSize(2);
    assertThat(run("runs", "list", p, "--json").out()).contains("\"batchesProcessed\": \"1\"");
  }

  @Test
  void watch_printsStartedBatchesAsTheyCome_untilCount() throws Exception {
    String p = server.createPipeline("cli-watch", 1, 30_000);
    CompletableFuture<Result> watching =
        CompletableFuture.supplyAsync(() -> run("watch", p, "--count", "2", "--json"));
    // WatchStarted replays nothing: keep starting batches until the watch has printed two.
    List<String> startedKeys = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    for (int i = 1; !watching.isDone(); i++) {
      assertThat(System.nanoTime()).as("watch finished in time").isLessThan(deadline);
      client.enqueueBatch(p, batch("w" + i, i));
      client.startAvailable(p, 0).forEach(s -> startedKeys.add(s.getBatch().getKey()));
      Thread.sleep(30);
    }
    Result r = watching.get();
    assertThat(r.code()).as(r.err()).isZero();
    List<String> lines = r.out().lines().toList();
    assertThat(lines).hasSize(2);
    List<String> printed = new ArrayList<>();
    for (String line : lines) {
      StartedBatch.Builder s = StartedBatch.newBuilder();
      JsonFormat.parser().merge(line, s);
      assertThat(s.getAttempt()).isEqualTo(1);
      printed.add(s.getBatch().getKey());
    }
    // two consecutive started batches, in start order
    int first = startedKeys.indexOf(printed.get(0));
    assertThat(first).isNotNegative();
    assertThat(startedKeys.get(first + 1)).isEqualTo(printed.get(1));
  }

  @Test
  void refusedCall_printsTheReason_andExits1() {
    String p = ServerExtension.uniqueName("cli-full");
    client.createPipeline(
        ServerExtension.spec(p, 1, 30_000).setBoundary(Boundary.newBuilder().setMaxQueued(1)).build());
    run("enqueue", p, "--key", "b1", "--stage", "work", "--records", "1", "--sequence", "1");
    Result full = run("enqueue", p, "--key", "b2", "--stage", "work", "--records", "1", "--sequence", "2");
    assertThat(full.code()).isEqualTo(1);
    assertThat(full.err()).startsWith("ERROR QUEUE_FULL: ");
    assertThat(full.out()).isEmpty();

    Result missing = run("status", "no-such-pipeline");
    assertThat(missing.code()).isEqualTo(1);
    assertThat(missing.err()).startsWith("ERROR PIPELINE_NOT_FOUND: no pipeline named 'no-such-pipeline'");
  }

  @Test
  void unreachableServer_printsUnavailable_andExits1() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    Result r = runRaw("status", "orders", "--target", "127.0.0.1:" + closedPort, "--deadline", "2s");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).startsWith("ERROR UNAVAILABLE: ");
  }

  @Test
  void usageErrors_exit2() {
    Result unknown = runRaw("statuz");
    assertThat(unknown.code()).isEqualTo(2);
    assertThat(unknown.err()).startsWith("ERROR USAGE: ").contains("Did you mean");
    Result missing = runRaw("ack", "orders");
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err()).startsWith("ERROR USAGE: Missing required parameter: 'KEY'");
    Result badDeadline = runRaw("status", "orders", "--deadline", "soon");
    assertThat(badDeadline.code()).isEqualTo(2);
    assertThat(badDeadline.err()).contains("'soon' is not a duration");
  }

  @Test
  void target_defaultsToTheEnvironment_elseLoopback() {
    OrchestratorCli cli = new OrchestratorCli();
    new CommandLine(cli).parseArgs();
    assertThat(cli.target)
        .isEqualTo(System.getenv().getOrDefault("LIGHTSPEED_TARGET", "127.0.0.1:50051"));
  }
}
