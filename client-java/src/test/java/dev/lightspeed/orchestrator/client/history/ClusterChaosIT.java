package dev.lightspeed.orchestrator.client.history;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
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
 * Three server jars as separate processes, one cluster (issue 17, docs/cluster.md "How it is
 * tested"): concurrent recorded clients (enqueue with idempotency keys, start, ack, fail,
 * redrive, cancel, list) while the leader of the workload's group, found with GetClusterStatus,
 * is killed with SIGKILL and restarted (3 times by default), and stopped with SIGSTOP for longer
 * than the election timeout, then continued (once); and a follower of that group is killed with
 * SIGKILL and restarted (once). Afterwards: no acknowledged enqueue, ack or
 * cancel lost, no batch that no client sent, every group's replicas at the same applied index
 * with equal signatures and valid, and the recorded history linearizable (tools/lincheck).
 *
 * <p>Longer: {@code -Dchaos.kills=10 -Dchaos.stops=5 -Dchaos.followerKills=3} (and
 * {@code -Dchaos.calls=N} answered calls per client). The history stays in {@code client-java/target/lincheck/cluster-chaos.jsonl},
 * the nodes' logs and data in {@code client-java/target/chaos-cluster/}.
 */
class ClusterChaosIT {
  private static final Path OUT = Path.of("target", "lincheck");
  private static final Path WORK = Path.of("target", "chaos-cluster");
  /** RaftTuning.defaults' electionTimeoutMax is 2 s: a pause well beyond it. */
  private static final Duration PAUSE = Duration.ofSeconds(5);

  private ProcessCluster cluster;

  @AfterEach
  void stopAll() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  @Timeout(value = 20, unit = TimeUnit.MINUTES) // the long variant; the default takes ~2 min
  void leaderKilledAndStoppedUnderLoad_nothingLost_replicasAgree_historyLinearizable()
      throws Exception {
    int kills = Integer.getInteger("chaos.kills", 3);
    int stops = Integer.getInteger("chaos.stops", 1);
    int followerKills = Integer.getInteger("chaos.followerKills", 1);
    List<String> faults = schedule(kills, stops, followerKills);
    // 100 per client for the default 5 faults, as for the 4 before follower kills were added.
    int callsPerClient = Integer.getInteger("chaos.calls", Math.max(100, 20 * faults.size()));
    Path history = OUT.resolve("cluster-chaos.jsonl");
    Files.createDirectories(OUT);
    Files.deleteIfExists(Path.of(history + ".html"));
    cluster = ProcessCluster.start(WORK, "chaos", 2);
    List<String> targets = cluster.targets();
    cluster.createPipeline(HistoryWorkload.pipeline());
    int group = cluster.groupOf(HistoryWorkload.PIPELINE);

    try (HistoryRecorder recorder = new HistoryRecorder(history)) {
      HistoryWorkload workload = new HistoryWorkload(targets, recorder, 8, callsPerClient,
          40 + 10 * callsPerClient / 8, 23);
      AtomicReference<Throwable> faultError = new AtomicReference<>();
      List<String> done = new ArrayList<>();
      // Every fault under load: at even steps of the answered calls, each at least `gap` answered
      // calls after the previous one came back, and the clients go on until `gap` calls after
      // the last (a fault stalls the load for seconds; a slow machine must not end it first).
      AtomicBoolean faultsDone = new AtomicBoolean();
      workload.keepGoingWhile(() -> !faultsDone.get());
      int gap = workload.total() / (2 * (faults.size() + 1));
      Thread injector = new Thread(() -> {
        try {
          int after = 0;
          for (int i = 0; i < faults.size(); i++) {
            int step = (i + 1) * workload.total() / (faults.size() + 1);
            while (workload.answered() < Math.max(step, after + gap)) {
              Thread.sleep(10);
            }
            String leader = cluster.leaderOf(group);
            String fault = faults.get(i);
            // A follower: the next member after the leader in n1, n2, n3 order (3 nodes, factor
            // 3: every node is a member of every group).
            String target = fault.equals("followerKill") ? follower(leader) : leader;
            long at = System.nanoTime();
            int answeredBefore = workload.answered();
            ServerNode node = cluster.node(target);
            if (fault.equals("stop")) {
              cluster.pause(target);
              Thread.sleep(PAUSE.toMillis());
              cluster.resume(target);
            } else {
              node.kill();
              node.start();
            }
            String line = String.format("%s of %s %s of group %s after %d answered calls,"
                + " back in %d ms", fault, target.equals(leader) ? "leader" : "follower", target,
                group, answeredBefore, (System.nanoTime() - at) / 1_000_000);
            done.add(line);
            System.out.println("cluster-chaos: " + line);
            after = workload.answered();
          }
          while (workload.answered() < after + gap) {
            Thread.sleep(10);
          }
        } catch (Throwable t) {
          faultError.set(t);
        } finally {
          faultsDone.set(true);
        }
      }, "chaos");
      long started = System.nanoTime();
      injector.start();
      workload.run();
      injector.join();
      System.out.printf("cluster-chaos: %d answered calls in %d ms%n", workload.answered(),
          (System.nanoTime() - started) / 1_000_000);
      assertThat(faultError.get()).as("the fault injector").isNull();
      assertThat(done).hasSize(faults.size());

      Set<String> listed = HistoryWorkload.finalRead(targets, recorder);
      List<String> problems =
          LostOrInventedBatches.find(recorder.lines(), HistoryWorkload.PIPELINE, listed);
      assertThat(problems).as("history %s", history.toAbsolutePath()).isEmpty();
    }

    cluster.assertReplicasAgree();

    Lincheck.Result verdict = Lincheck.check(history);
    System.out.print(verdict.output());
    assertThat(verdict.linearizable())
        .as("history %s is not linearizable; visualization %s:%n%s", history.toAbsolutePath(),
            Lincheck.describe(Path.of(history + ".html")), verdict.output())
        .isTrue();
  }

  /** The node after {@code leader} in id order (n1, n2, n3, n1, ...): one of its followers. */
  private String follower(String leader) {
    List<String> ids = new ArrayList<>(cluster.ids());
    return ids.get((ids.indexOf(leader) + 1) % ids.size());
  }

  /**
   * Leader kills, with the stops and then the follower kills spread among them (3, 1, 1: kill,
   * stop, kill, followerKill, kill).
   */
  static List<String> schedule(int kills, int stops, int followerKills) {
    List<String> faults = new ArrayList<>();
    for (int i = 0; i < kills; i++) {
      faults.add("kill");
    }
    for (int i = 0; i < stops; i++) {
      faults.add((int) ((i + 1L) * kills / (stops + 1) + i), "stop");
    }
    int others = faults.size();
    for (int i = 0; i < followerKills; i++) {
      int at = (int) ((i + 1L) * others / (followerKills + 1) + i) + 1;
      faults.add(Math.min(at, faults.size()), "followerKill");
    }
    return faults;
  }
}
