package dev.lightspeed.orchestrator.client.history;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import dev.lightspeed.orchestrator.client.OrchestratorClient;
import dev.lightspeed.orchestrator.client.errors.OrchestratorException;
import dev.lightspeed.orchestrator.v1.GetStatusResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Recorded histories of concurrent clients against the real server jar, killed with SIGKILL and
 * restarted during the run, checked by the Porcupine checker tools/lincheck (issue 17; SPEC 4:
 * "a restart (also after kill -9) restores every pipeline"). The histories and, on a failure,
 * their visualization stay in {@code client-java/target/lincheck/}.
 *
 * <p>The second test runs the same workload against a server that keeps nothing
 * ({@code --in-memory}): there the checker must find the lost writes, which shows that the
 * first test can fail.
 */
class LinearizabilityIT {
  private static final Path OUT = Path.of("target", "lincheck");

  @TempDir Path dir;

  @Test
  void durableServer_killedThreeTimes_historyIsLinearizable() throws Exception {
    Path history = OUT.resolve("durable-kill9.jsonl");
    Run run = run(history, 8, 200, 150, new double[] {0.2, 0.45, 0.7},
        "--data-dir", dir.resolve("data").toString(), "--snapshot-every", "200");

    Lincheck.Result verdict = Lincheck.check(history);
    System.out.print(verdict.output());
    assertThat(verdict.linearizable())
        .as("history %s is not linearizable; visualization %s:%n%s", history.toAbsolutePath(),
            Lincheck.describe(Path.of(history + ".html")), verdict.output())
        .isTrue();
    assertThat(run.problems).as("history %s", history.toAbsolutePath()).isEmpty();
    assertThat(run.status.getValid()).as(run.status.getInvalidReason()).isTrue();
    assertThat(run.kills).isEqualTo(3);

    // The same recorded run plus one invented call, an acknowledged enqueue before everything
    // that no later read sees: the checker must refuse it.
    Path forged = OUT.resolve("durable-kill9-plus-a-lost-enqueue.jsonl");
    long first = run.recorder.lines().stream().filter(l -> l.has("call"))
        .mapToLong(l -> l.get("call").getAsLong()).min().orElseThrow();
    JsonObject lost = new JsonObject();
    lost.addProperty("client", 99);
    lost.addProperty("op", "enqueue");
    lost.addProperty("pipeline", HistoryWorkload.PIPELINE);
    JsonObject input = new JsonObject();
    input.addProperty("key", "forged-lost");
    lost.add("input", input);
    lost.addProperty("call", first - 2);
    lost.addProperty("return", first - 1);
    JsonObject output = new JsonObject();
    output.addProperty("deduplicated", false);
    lost.add("output", output);
    Files.copy(history, forged, StandardCopyOption.REPLACE_EXISTING);
    Files.writeString(forged, lost + "\n", StandardCharsets.UTF_8,
        StandardOpenOption.APPEND);
    Lincheck.Result forgedVerdict = Lincheck.check(forged);
    assertThat(forgedVerdict.exitCode()).as(forgedVerdict.output()).isEqualTo(1);
    assertThat(forgedVerdict.output()).contains("lin/forged-lost");
    assertThat(Path.of(forged + ".html")).exists();
  }

  @Test
  void inMemoryServer_killedOnce_theCheckerFindsTheLostWrites() throws Exception {
    Path history = OUT.resolve("in-memory-kill9.jsonl");
    Run run = run(history, 4, 100, 40, new double[] {0.8}, "--in-memory");

    Lincheck.Result verdict = Lincheck.check(history);
    System.out.print(verdict.output());
    assertThat(verdict.exitCode()).as(verdict.output()).isEqualTo(1);
    assertThat(verdict.output()).contains("NOT LINEARIZABLE");
    assertThat(Path.of(history + ".html")).exists();
    // The restarted in-memory server starts empty. Which acknowledged writes show as lost depends
    // on what the clients sent after the restart: a key enqueued again is present (its earlier
    // ack is then the loss), a key not sent again is missing (its enqueue is the loss).
    assertThat(run.problems).anyMatch(p -> p.contains("acknowledged enqueues lost")
        || p.contains("acknowledged acks or cancels lost"));
  }

  /** What one recorded run left to check. */
  private record Run(HistoryRecorder recorder, List<String> problems, GetStatusResponse status,
      int kills) {}

  /**
   * Runs the workload against one server node, killing it (SIGKILL) and restarting it when the
   * answered calls pass each fraction of the total, then reads the batches once more.
   */
  private Run run(Path history, int clients, int answeredPerClient, int maxKeys,
      double[] killAt, String... serverArgs) throws Exception {
    Files.createDirectories(OUT);
    Files.deleteIfExists(Path.of(history + ".html"));
    try (ServerNode server = new ServerNode(dir, serverArgs);
        HistoryRecorder recorder = new HistoryRecorder(history)) {
      server.start();
      createPipeline(server.target());
      HistoryWorkload workload = new HistoryWorkload(List.of(server.target()), recorder, clients,
          answeredPerClient, maxKeys, 17);
      AtomicReference<Throwable> faultError = new AtomicReference<>();
      int[] kills = {0};
      Thread faults = new Thread(() -> {
        try {
          for (double at : killAt) {
            while (workload.answered() < at * workload.total()) {
              Thread.sleep(10);
            }
            long killed = System.nanoTime();
            server.kill();
            kills[0]++;
            server.start();
            createPipeline(server.target()); // an in-memory server comes back empty
            System.out.printf("%s: kill -9 #%d after %d answered calls, serving again in %d ms%n",
                history.getFileName(), kills[0], workload.answered(),
                (System.nanoTime() - killed) / 1_000_000);
          }
        } catch (Throwable t) {
          faultError.set(t);
        }
      }, "kill-9");
      long started = System.nanoTime();
      faults.start();
      workload.run();
      faults.join();
      System.out.printf("%s: %d answered calls in %d ms%n", history.getFileName(),
          workload.answered(), (System.nanoTime() - started) / 1_000_000);
      assertThat(faultError.get()).isNull();

      Set<String> listed = finalRead(server.target(), recorder);
      List<String> problems =
          LostOrInventedBatches.find(recorder.lines(), HistoryWorkload.PIPELINE, listed);
      GetStatusResponse status;
      try (OrchestratorClient client = OrchestratorClient.builder().target(server.target())
          .build()) {
        status = client.getStatus(HistoryWorkload.PIPELINE);
      }
      return new Run(recorder, problems, status, kills[0]);
    }
  }

  private static void createPipeline(String target) {
    try (OrchestratorClient client = OrchestratorClient.builder().target(target).build()) {
      client.createPipeline(HistoryWorkload.pipeline());
    } catch (OrchestratorException e) {
      if (!"PIPELINE_EXISTS".equals(e.reasonName())) {
        throw e;
      }
    }
  }

  /** One recorded ListBatches after every client call ended (retried until it answers). */
  private static Set<String> finalRead(String target, HistoryRecorder recorder)
      throws InterruptedException {
    try (RecordingClient client =
        new RecordingClient(1000, HistoryWorkload.unretried(target), recorder)) {
      for (int tries = 0; ; tries++) {
        try {
          return client.list(HistoryWorkload.PIPELINE).stream()
              .map(v -> v.getBatch().getKey()).collect(Collectors.toSet());
        } catch (OrchestratorException e) {
          if (tries > 100) {
            throw e;
          }
          Thread.sleep(100);
        }
      }
    }
  }
}
