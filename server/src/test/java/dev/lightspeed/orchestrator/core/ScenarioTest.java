package dev.lightspeed.orchestrator.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Golden multi-step scenarios: each {@code scenarios/*.input} is run line by line and its printed
 * results must equal {@code scenarios/*.expected} exactly. The expected files were written from
 * SPEC, not copied from the output.
 *
 * <p>The language, one command per line ({@code #} comments and blank lines are copied as they
 * are; every command line is echoed as {@code > line}, its results follow indented):
 *
 * <pre>
 * pipeline name=N stages=a,b [max_in_flight= max_queued= max_lag_ms= max_in_flight_records=
 *          lease_ms= max_attempts= initial_backoff_ms= max_backoff_ms= multiplier=
 *          dedup_window_ms=] [allow_unbound_stages]
 * connector NAME SOURCE|SINK STAGE [ordered] [disabled] [max_batch_records=N] [dlq=DEST]
 * enqueue KEY stage=S records=N seq=N [idem=I (default KEY)] [lag=N] @NOW
 * start [max=N] [stages=a,b] @NOW
 * ack KEY [attempt=N] @NOW
 * fail KEY attempt=N reason=TEXT|"TEXT" [non_retryable] @NOW
 * extend KEY [attempt=N] @NOW
 * action NAME [ARG] @NOW
 * run start|complete @NOW
 * show batches|retries|dead_letters|status|runs|audit|counters
 * </pre>
 *
 * A refused call prints {@code error CATEGORY REASON}; after every command the invariants are
 * checked and a broken one is printed, so it shows up as a difference.
 */
class ScenarioTest {

  @TestFactory
  Stream<DynamicTest> scenarios() throws IOException, URISyntaxException {
    Path dir = Path.of(ScenarioTest.class.getResource("/scenarios").toURI());
    List<Path> inputs;
    try (Stream<Path> files = Files.list(dir)) {
      inputs = files.filter(p -> p.toString().endsWith(".input")).sorted().toList();
    }
    assertThat(inputs).isNotEmpty();
    return inputs.stream()
        .map(
            input ->
                DynamicTest.dynamicTest(
                    input.getFileName().toString(),
                    () -> {
                      String name = input.getFileName().toString().replace(".input", "");
                      Path expectedFile = input.resolveSibling(name + ".expected");
                      List<String> actual =
                          run(Files.readAllLines(input, StandardCharsets.UTF_8));
                      List<String> expected =
                          Files.readAllLines(expectedFile, StandardCharsets.UTF_8);
                      assertThat(String.join("\n", actual))
                          .as("output of %s", input.getFileName())
                          .isEqualTo(String.join("\n", expected));
                    }));
  }

  /** Runs one scenario and returns its printed lines. */
  static List<String> run(List<String> lines) {
    return new Runner().run(lines);
  }

  private static final class Runner {
    private final List<String> out = new ArrayList<>();
    private PipelineSpec.Builder spec;
    private final List<Connector> connectors = new ArrayList<>();
    private PipelineRuntime rt;

    List<String> run(List<String> lines) {
      for (String line : lines) {
        String trimmed = line.strip();
        if (trimmed.isEmpty() || trimmed.startsWith("#")) {
          out.add(line);
          continue;
        }
        out.add("> " + trimmed);
        Command c = Command.parse(trimmed);
        try {
          execute(c);
        } catch (Rejection r) {
          print("error " + r.reason().category() + " " + r.reason());
        }
        if (rt != null && !rt.queries().valid()) {
          print("INVALID: " + rt.queries().brokenInvariant());
        }
      }
      return out;
    }

    private void print(String s) {
      out.add("  " + s);
    }

    private PipelineRuntime rt() {
      if (rt == null) {
        rt = PipelineRuntime.create(spec.connectors(connectors).build());
      }
      return rt;
    }

    private void execute(Command c) {
      switch (c.verb) {
        case "pipeline" -> pipeline(c);
        case "connector" -> connector(c);
        case "enqueue" -> {
          String key = c.arg(0);
          Batch b =
              new Batch(
                  key,
                  c.get("stage"),
                  c.num("records", 0),
                  c.num("lag", 0),
                  c.opt("idem").orElse(key),
                  c.num("seq", 0));
          print(rt().enqueueBatch(b, c.now) ? "deduplicated" : "enqueued");
        }
        case "start" -> {
          Set<String> stages =
              c.opt("stages").map(s -> Set.of(s.split(","))).orElse(Set.of());
          StartResult r = rt().startAvailable(c.now, (int) c.num("max", 0), stages);
          r.expired().forEach(o -> print("expired " + outcome(o)));
          if (r.started().isEmpty()) {
            print("started nothing");
          }
          for (StartedBatch s : r.started()) {
            print(
                "started " + s.batch().key() + " attempt=" + s.attempt() + " at=" + s.startedAtMs()
                    + " lease=" + s.leaseDeadlineMs() + " run=" + s.runId());
          }
        }
        case "ack" -> print(outcome(rt().ackBatch(c.arg(0), (int) c.num("attempt", 0), c.now)));
        case "fail" ->
            print(
                outcome(
                    rt().failBatch(
                            c.arg(0),
                            (int) c.num("attempt", 0),
                            c.get("reason"),
                            c.flag("non_retryable"),
                            c.now)));
        case "extend" ->
            print(
                "lease_deadline="
                    + rt().extendLease(c.arg(0), (int) c.num("attempt", 0), c.now));
        case "action" -> {
          rt().applyAction(action(c), c.now);
          print("applied");
        }
        case "run" -> {
          if (c.arg(0).equals("start")) {
            RunSummary r = rt().startRun(c.now);
            print("run " + r.runId() + " started=" + r.startedAtMs());
          } else {
            Optional<RunSummary> r = rt().completeRun(c.now);
            print(r.map(Runner::run).orElse("no active run"));
          }
        }
        case "show" -> show(c.arg(0));
        default -> throw new IllegalArgumentException("unknown command " + c.verb);
      }
    }

    private void pipeline(Command c) {
      Boundary b =
          new Boundary(
              (int) c.num("max_in_flight", Boundary.DEFAULT_MAX_IN_FLIGHT),
              c.num("max_queued", Boundary.DEFAULT_MAX_QUEUED),
              c.num("max_lag_ms", 0),
              c.num("max_in_flight_records", 0),
              c.num("lease_ms", Boundary.DEFAULT_LEASE_MS));
      RetryPolicy d = RetryPolicy.DEFAULT;
      RetryPolicy r =
          new RetryPolicy(
              (int) c.num("max_attempts", d.maxAttempts()),
              c.num("initial_backoff_ms", d.initialBackoffMs()),
              c.num("max_backoff_ms", d.maxBackoffMs()),
              c.opt("multiplier").map(Double::parseDouble).orElse(d.multiplier()));
      spec =
          PipelineSpec.builder(c.get("name"))
              .stages(List.of(c.get("stages").split(",")))
              .boundary(b)
              .retry(r)
              .dedupWindowMs(c.num("dedup_window_ms", PipelineSpec.DEFAULT_DEDUP_WINDOW_MS))
              .allowUnboundStages(c.flag("allow_unbound_stages"));
      print("ok");
    }

    private void connector(Command c) {
      connectors.add(
          new Connector(
              c.arg(0),
              ConnectorKind.valueOf(c.arg(1)),
              c.arg(2),
              c.flag("disabled"),
              c.num("max_batch_records", 0),
              c.opt("dlq").orElse(""),
              c.flag("ordered")));
      print("ok");
    }

    private static OperatorAction action(Command c) {
      String arg = c.args.size() > 1 ? c.arg(1) : null;
      return switch (c.arg(0)) {
        case "PAUSE" -> new OperatorAction.Pause();
        case "RESUME" -> new OperatorAction.Resume();
        case "DRAIN" -> new OperatorAction.Drain();
        case "PAUSE_STAGE" -> new OperatorAction.PauseStage(arg);
        case "RESUME_STAGE" -> new OperatorAction.ResumeStage(arg);
        case "DISABLE_CONNECTOR" -> new OperatorAction.DisableConnector(arg);
        case "ENABLE_CONNECTOR" -> new OperatorAction.EnableConnector(arg);
        case "SET_MAX_IN_FLIGHT" -> new OperatorAction.SetMaxInFlight(Integer.parseInt(arg));
        case "REDRIVE_DEAD_LETTER" -> new OperatorAction.RedriveDeadLetter(arg);
        case "DISCARD_DEAD_LETTER" -> new OperatorAction.DiscardDeadLetter(arg);
        case "CANCEL_BATCH" -> new OperatorAction.CancelBatch(arg);
        default -> throw new IllegalArgumentException("unknown action " + c.arg(0));
      };
    }

    private void show(String what) {
      PipelineQueries q = rt().queries();
      List<String> lines = new ArrayList<>();
      switch (what) {
        case "batches" ->
            q.batches()
                .forEach(
                    v ->
                        lines.add(
                            v.batch().key() + " " + v.batch().stage() + " " + v.state()
                                + " attempt=" + v.attempt() + " ready=" + v.readyAtMs()
                                + " lease=" + v.leaseDeadlineMs()));
        case "retries" ->
            q.retries()
                .forEach(
                    r ->
                        lines.add(
                            r.batchKey() + " next_attempt=" + r.nextAttempt() + " retry_at="
                                + r.retryAtMs() + " reason=\"" + r.reason() + "\""));
        case "dead_letters" ->
            q.deadLetters()
                .forEach(
                    d ->
                        lines.add(
                            d.batchKey() + " destination=" + d.destination() + " at=" + d.atMs()
                                + " reason=\"" + d.reason() + "\""));
        case "status" -> {
          PipelineStatus s = q.status();
          lines.add(
              "mode=" + s.mode() + " queued=" + s.queuedCount() + " retry_wait="
                  + s.retryWaitCount() + " in_flight=" + s.inFlightCount() + " dead_letters="
                  + s.deadLetterCount() + " max_in_flight=" + s.effectiveMaxInFlight() + " run="
                  + s.activeRunId());
        }
        case "runs" -> q.runs().forEach(r -> lines.add(run(r)));
        case "audit" ->
            q.auditLog()
                .forEach(
                    e -> {
                      String arg = ActionArgument.of(e.action());
                      lines.add(
                          e.action().actionName() + (arg.isEmpty() ? "" : " " + arg) + " at="
                              + e.atMs());
                    });
        case "counters" ->
            q.stageCounters()
                .forEach(
                    s ->
                        lines.add(
                            s.stage() + " batches=" + s.batchesProcessed() + " records="
                                + s.recordsProcessed() + (s.paused() ? " paused" : "")));
        default -> throw new IllegalArgumentException("unknown show " + what);
      }
      if (lines.isEmpty()) {
        print("(none)");
      }
      lines.forEach(this::print);
    }

    private static String run(RunSummary r) {
      return "run " + r.runId() + " started=" + r.startedAtMs() + " completed="
          + r.completedAtMs() + " batches=" + r.batchesProcessed() + " records="
          + r.recordsProcessed() + " retries=" + r.retriesScheduled() + " dead_lettered="
          + r.deadLettered();
    }

    private static String outcome(ProcessOutcome o) {
      if (o instanceof ProcessOutcome.Processed p) {
        ProcessResult r = p.result();
        return "processed " + r.batchKey() + " stage=" + r.stage() + " records=" + r.records()
            + " attempt=" + r.attempt() + " run=" + r.runId() + " started=" + r.startedAtMs()
            + " completed=" + r.completedAtMs();
      } else if (o instanceof ProcessOutcome.RetryScheduled rs) {
        RetryRecord r = rs.record();
        return "retry_scheduled " + r.batchKey() + " next_attempt=" + r.nextAttempt()
            + " retry_at=" + r.retryAtMs() + " reason=\"" + r.reason() + "\"";
      } else if (o instanceof ProcessOutcome.DeadLettered dl) {
        DeadLetterRecord r = dl.record();
        return "dead_lettered " + r.batchKey() + " destination=" + r.destination() + " at="
            + r.atMs() + " reason=\"" + r.reason() + "\"";
      }
      return "failure_rejected \"" + ((ProcessOutcome.FailureRejected) o).reason() + "\"";
    }
  }

  /** One parsed line: a verb, positional arguments, {@code name=value} options, flags, {@code @now}. */
  private static final class Command {
    private static final Set<String> FLAGS =
        Set.of("ordered", "disabled", "non_retryable", "allow_unbound_stages");

    final String verb;
    final List<String> args = new ArrayList<>();
    final Map<String, String> options = new LinkedHashMap<>();
    final Set<String> flags = new LinkedHashSet<>();
    long now;

    private Command(String verb) {
      this.verb = verb;
    }

    static Command parse(String line) {
      List<String> tokens = tokenize(line);
      Command c = new Command(tokens.get(0));
      for (String t : tokens.subList(1, tokens.size())) {
        int eq = t.indexOf('=');
        if (t.startsWith("@")) {
          c.now = Long.parseLong(t.substring(1));
        } else if (eq > 0) {
          c.options.put(t.substring(0, eq), t.substring(eq + 1));
        } else if (FLAGS.contains(t)) {
          c.flags.add(t);
        } else {
          c.args.add(t);
        }
      }
      return c;
    }

    /** Splits on spaces, keeping {@code "quoted text"} (also after {@code name=}) as one token. */
    private static List<String> tokenize(String line) {
      List<String> tokens = new ArrayList<>();
      StringBuilder cur = new StringBuilder();
      boolean quoted = false;
      for (char ch : line.toCharArray()) {
        if (ch == '"') {
          quoted = !quoted;
        } else if (ch == ' ' && !quoted) {
          if (cur.length() > 0) {
            tokens.add(cur.toString());
            cur.setLength(0);
          }
        } else {
          cur.append(ch);
        }
      }
      if (cur.length() > 0) {
        tokens.add(cur.toString());
      }
      return tokens;
    }

    String arg(int i) {
      return args.get(i);
    }

    String get(String name) {
      return opt(name).orElseThrow(() -> new IllegalArgumentException("missing " + name + "="));
    }

    Optional<String> opt(String name) {
      return Optional.ofNullable(options.get(name));
    }

    long num(String name, long dflt) {
      return opt(name).map(Long::parseLong).orElse(dflt);
    }

    boolean flag(String name) {
      return flags.contains(name);
    }
  }
}
