package dev.lightspeed.orchestrator.client.history;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.client.OrchestratorClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A rolling restart of a three-node cluster under load (issue 17, docs/cluster.md "How it is
 * tested"): n1, n2 and n3 in turn are stopped gracefully (SIGTERM, as an operator's restart does)
 * and started again on the same data directory and ports; the next one goes only once the
 * restarted node has caught up (GetClusterStatus: its applied index has reached what the others
 * had committed when it came back). Meanwhile 8 recorded clients run the chaos workload, each
 * with the Java client's default retry policy and all three nodes as targets, its own first.
 *
 * <p>The demand: no failed call beyond the retries that the clients perform themselves.
 * So every call must be answered (a refusal is an answer): not one may end UNAVAILABLE,
 * DEADLINE_EXCEEDED or any other way that leaves its outcome unknown, whatever its method, the
 * non-idempotent ones the client never retries (StartAvailable, FailBatch, ApplyAction) included
 * (a graceful stop drains them). Then, as in ClusterChaosIT: nothing acknowledged lost, nothing
 * invented, every group's replicas valid with equal signatures at the same applied index.
 *
 * <p>Variants: {@code -Drolling.clientRetries=false} (the clients' retries off) and
 * {@code -Drolling.awaitCatchUp=false} (the next node stopped as soon as the previous one
 * listens; docs/cluster.md says what each showed). The history stays in {@code client-java/target/lincheck/rolling-restart.jsonl}, the
 * nodes' logs and data in {@code client-java/target/rolling-cluster/}.
 */
class RollingRestartIT {
  private static final Path OUT = Path.of("target", "lincheck");
  private static final Path WORK = Path.of("target", "rolling-cluster");

  private ProcessCluster cluster;

  @AfterEach
  void stopAll() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES) // takes about a minute
  void everyNodeRestartedInTurnUnderLoad_everyCallAnswered_nothingLost_replicasAgree()
      throws Exception {
    boolean clientRetries =
        Boolean.parseBoolean(System.getProperty("rolling.clientRetries", "true"));
    boolean awaitCatchUp =
        Boolean.parseBoolean(System.getProperty("rolling.awaitCatchUp", "true"));
    int callsPerClient = Integer.getInteger("rolling.calls", 60);
    Path history = OUT.resolve("rolling-restart.jsonl");
    cluster = ProcessCluster.start(WORK, "rolling", 2);
    List<String> targets = cluster.targets();
    cluster.createPipeline(HistoryWorkload.pipeline());

    try (HistoryRecorder recorder = new HistoryRecorder(history)) {
      HistoryWorkload workload = new HistoryWorkload(targets, recorder, 8, callsPerClient,
          40 + 10 * callsPerClient / 8, 29);
      // The client as an application builds it: default deadline and retry policy.
      workload.connectWith(mine -> clientRetries
          ? OrchestratorClient.builder().targets(mine).build()
          : OrchestratorClient.builder().targets(mine).disableRetry().build());
      List<String> restarts = new ArrayList<>(cluster.ids());
      AtomicBoolean restartsDone = new AtomicBoolean();
      AtomicReference<Throwable> restartError = new AtomicReference<>();
      List<String> done = new ArrayList<>();
      workload.keepGoingWhile(() -> !restartsDone.get());
      // Every restart under load: each begins `gap` answered calls after the previous one caught
      // up, and the clients go on for as many after the last.
      int gap = workload.total() / (restarts.size() + 1);
      Thread restarter = new Thread(() -> {
        try {
          int after = 0;
          for (String id : restarts) {
            // Without the catch-up wait, the next node goes as soon as the previous one listens.
            while (workload.answered() < after + (awaitCatchUp || after == 0 ? gap : 0)) {
              Thread.sleep(10);
            }
            String leader = cluster.leaderOf(cluster.groupOf(HistoryWorkload.PIPELINE));
            int answeredBefore = workload.answered();
            long at = System.nanoTime();
            ServerNode node = cluster.node(id);
            node.terminate();
            long down = System.nanoTime();
            node.start();
            long listening = System.nanoTime();
            String caughtUp = awaitCatchUp
                ? ", caught up " + cluster.awaitCaughtUp(id).toMillis() + " ms later"
                : " (catch-up not awaited)";
            String line = String.format("%s (%s of the workload's group) restarted after %d"
                    + " answered calls: stopped in %d ms, listening %d ms later%s", id,
                id.equals(leader) ? "leader" : "follower", answeredBefore,
                (down - at) / 1_000_000, (listening - down) / 1_000_000, caughtUp);
            done.add(line);
            System.out.println("rolling-restart: " + line);
            after = workload.answered();
          }
          while (workload.answered() < after + gap) {
            Thread.sleep(10);
          }
        } catch (Throwable t) {
          restartError.set(t);
        } finally {
          restartsDone.set(true);
        }
      }, "rolling-restart");
      long started = System.nanoTime();
      restarter.start();
      workload.run();
      restarter.join();
      System.out.printf("rolling-restart: %d answered calls in %d ms%n", workload.answered(),
          (System.nanoTime() - started) / 1_000_000);
      assertThat(restartError.get()).as("the restarts").isNull();
      assertThat(done).hasSize(restarts.size());

      assertThat(workload.unanswered())
          .as("calls that failed after the clients' own retries (history %s)",
              history.toAbsolutePath())
          .isEmpty();
      Set<String> listed = HistoryWorkload.finalRead(targets, recorder);
      List<String> problems =
          LostOrInventedBatches.find(recorder.lines(), HistoryWorkload.PIPELINE, listed);
      assertThat(problems).as("history %s", history.toAbsolutePath()).isEmpty();
    }

    cluster.assertReplicasAgree();
  }
}
