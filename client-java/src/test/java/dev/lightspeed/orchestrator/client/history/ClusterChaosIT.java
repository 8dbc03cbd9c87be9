package dev.lightspeed.orchestrator.client.history;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.client.OrchestratorClient;
import dev.lightspeed.orchestrator.client.errors.OrchestratorException;
import dev.lightspeed.orchestrator.v1.ClusterGroupStatus;
import dev.lightspeed.orchestrator.v1.GetClusterStatusResponse;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Three server jars as separate processes, one cluster (issue 17, docs/cluster.md "How it is
 * tested"): concurrent recorded clients (enqueue with idempotency keys, start, ack, fail,
 * redrive, cancel, list) while the leader of the workload's group, found with GetClusterStatus,
 * is killed with SIGKILL and restarted (3 times by default), and stopped with SIGSTOP for longer
 * than the election timeout, then continued (once). Afterwards: no acknowledged enqueue, ack or
 * cancel lost, no batch that no client sent, every group's replicas at the same applied index
 * with equal signatures and valid, and the recorded history linearizable (tools/lincheck).
 *
 * <p>Longer: {@code -Dchaos.kills=10 -Dchaos.stops=5} (and {@code -Dchaos.calls=N} answered
 * calls per client). The history stays in {@code client-java/target/lincheck/cluster-chaos.jsonl},
 * the nodes' logs and data in {@code client-java/target/chaos-cluster/}.
 */
class ClusterChaosIT {
  private static final Path OUT = Path.of("target", "lincheck");
  private static final Path WORK = Path.of("target", "chaos-cluster");
  /** RaftTuning.defaults' electionTimeoutMax is 2 s: a pause well beyond it. */
  private static final Duration PAUSE = Duration.ofSeconds(5);
  private static final Duration WAIT = Duration.ofSeconds(90);

  private final Map<String, ServerNode> nodes = new LinkedHashMap<>();
  private final Set<String> paused = new HashSet<>();

  @AfterEach
  void stopAll() throws Exception {
    for (Map.Entry<String, ServerNode> n : nodes.entrySet()) {
      if (paused.contains(n.getKey())) {
        n.getValue().resume();
      }
      n.getValue().close();
    }
  }

  @Test
  @Timeout(value = 20, unit = TimeUnit.MINUTES) // the long variant; the default takes ~2 min
  void leaderKilledAndStoppedUnderLoad_nothingLost_replicasAgree_historyLinearizable()
      throws Exception {
    int kills = Integer.getInteger("chaos.kills", 3);
    int stops = Integer.getInteger("chaos.stops", 1);
    List<String> faults = schedule(kills, stops);
    int callsPerClient = Integer.getInteger("chaos.calls", Math.max(80, 25 * faults.size()));
    Path history = OUT.resolve("cluster-chaos.jsonl");
    Files.createDirectories(OUT);
    Files.deleteIfExists(Path.of(history + ".html"));
    startCluster();
    List<String> targets = nodes.values().stream().map(ServerNode::target).toList();
    createPipeline(targets);
    String group = Integer.toString(groupOfPipeline());

    try (HistoryRecorder recorder = new HistoryRecorder(history)) {
      HistoryWorkload workload = new HistoryWorkload(targets, recorder, 8, callsPerClient,
          40 + 10 * callsPerClient / 8, 23);
      AtomicReference<Throwable> faultError = new AtomicReference<>();
      List<String> done = new ArrayList<>();
      // Every fault under load: at even steps of the answered calls, each at least `gap` answered
      // calls after the previous one came back, and the clients go on until `gap` calls after
      // the last (a fault stalls the load for seconds; a slow machine must not end it first).
      java.util.concurrent.atomic.AtomicBoolean faultsDone =
          new java.util.concurrent.atomic.AtomicBoolean();
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
            String leader = leaderOf(Integer.parseInt(group));
            long at = System.nanoTime();
            int answeredBefore = workload.answered();
            ServerNode node = nodes.get(leader);
            if (faults.get(i).equals("kill")) {
              node.kill();
              node.start();
            } else {
              node.pause();
              paused.add(leader);
              Thread.sleep(PAUSE.toMillis());
              node.resume();
              paused.remove(leader);
            }
            String line = String.format("%s of leader %s of group %s after %d answered calls,"
                + " back in %d ms", faults.get(i), leader, group, answeredBefore,
                (System.nanoTime() - at) / 1_000_000);
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

      Set<String> listed = finalRead(targets, recorder);
      List<String> problems =
          LostOrInventedBatches.find(recorder.lines(), HistoryWorkload.PIPELINE, listed);
      assertThat(problems).as("history %s", history.toAbsolutePath()).isEmpty();
    }

    Map<String, GetClusterStatusResponse> views = replicasAtTheSameIndex();
    for (GetClusterStatusResponse view : views.values()) {
      for (ClusterGroupStatus g : view.getGroupsList()) {
        ClusterGroupStatus first = views.values().iterator().next().getGroups(g.getGroup());
        assertThat(g.getValid()).as("group %s on %s", g.getGroup(), view.getNodeId()).isTrue();
        assertThat(g.getSignature())
            .as("group %s on %s at index %s", g.getGroup(), view.getNodeId(), g.getAppliedIndex())
            .isEqualTo(first.getSignature());
      }
    }

    Lincheck.Result verdict = Lincheck.check(history);
    System.out.print(verdict.output());
    assertThat(verdict.linearizable())
        .as("history %s is not linearizable; visualization %s:%n%s", history.toAbsolutePath(),
            Lincheck.describe(Path.of(history + ".html")), verdict.output())
        .isTrue();
  }

  /** kills and stops, the stops spread among the kills (3, 1: kill, stop, kill, kill). */
  static List<String> schedule(int kills, int stops) {
    List<String> faults = new ArrayList<>();
    for (int i = 0; i < kills; i++) {
      faults.add("kill");
    }
    for (int i = 0; i < stops; i++) {
      faults.add((int) ((i + 1L) * kills / (stops + 1) + i), "stop");
    }
    return faults;
  }

  /** A cluster file of three peers on free loopback ports, and a process per node. */
  private void startCluster() throws Exception {
    deleteTree(WORK);
    Files.createDirectories(WORK);
    Set<Integer> ports = new HashSet<>();
    StringBuilder peers = new StringBuilder();
    int[] api = new int[3];
    for (int i = 0; i < 3; i++) {
      api[i] = freePort(ports);
      peers.append(i == 0 ? "" : ",\n").append(String.format(
          "    {\"id\": \"n%d\", \"raftAddress\": \"127.0.0.1:%d\", \"apiAddress\":"
              + " \"127.0.0.1:%d\"}", i + 1, freePort(ports), api[i]));
    }
    Path file = WORK.resolve("cluster.json");
    Files.writeString(file, "{\n  \"name\": \"chaos\",\n  \"groups\": 2,\n"
        + "  \"replicationFactor\": 3,\n  \"peers\": [\n" + peers + "\n  ]\n}\n");
    for (int i = 0; i < 3; i++) {
      String id = "n" + (i + 1);
      Path dir = Files.createDirectories(WORK.resolve(id));
      nodes.put(id, new ServerNode(dir, api[i], List.of("--cluster", file.toString(),
          "--node-id", id, "--data-dir", dir.resolve("data").toString())));
    }
    for (ServerNode n : nodes.values()) {
      n.start();
    }
  }

  private static void createPipeline(List<String> targets) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      try (OrchestratorClient client = OrchestratorClient.builder().targets(targets)
          .deadline(Duration.ofSeconds(30)).build()) {
        client.createPipeline(HistoryWorkload.pipeline());
        return;
      } catch (OrchestratorException e) {
        if ("PIPELINE_EXISTS".equals(e.reasonName())) {
          return; // a retried create whose first reply was lost
        }
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(200); // the groups are still electing their first leaders
      }
    }
  }

  /** The group of the workload's pipeline: docs/cluster.md's CRC-32 placement. */
  private static int groupOfPipeline() {
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(HistoryWorkload.PIPELINE.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    return (int) (crc.getValue() % 2);
  }

  /** This node's GetClusterStatus, or null when it does not answer within a few seconds. */
  private GetClusterStatusResponse statusOf(String node) {
    if (paused.contains(node)) {
      return null;
    }
    try (OrchestratorClient client = OrchestratorClient.builder()
        .target(nodes.get(node).target()).deadline(Duration.ofSeconds(3)).build()) {
      return client.getClusterStatus();
    } catch (OrchestratorException e) {
      return null;
    }
  }

  /** The leader of {@code group} at the highest term any node reports (a bounded poll). */
  private String leaderOf(int group) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      String leader = nodes.keySet().stream().map(this::statusOf)
          .filter(v -> v != null)
          .flatMap(v -> v.getGroupsList().stream())
          .filter(g -> g.getGroup() == group && !g.getLeaderId().isEmpty())
          .max(Comparator.comparingLong(ClusterGroupStatus::getTerm))
          .map(ClusterGroupStatus::getLeaderId).orElse(null);
      if (leader != null && nodes.containsKey(leader)) {
        return leader;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("group " + group + " has no leader any node knows of within " + WAIT);
  }

  /**
   * Every node's view once, for every group, all three replicas answer at the same applied index
   * with a leader known: only then are signatures comparable (a bounded poll).
   */
  private Map<String, GetClusterStatusResponse> replicasAtTheSameIndex()
      throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    Map<String, GetClusterStatusResponse> views = new LinkedHashMap<>();
    while (true) {
      views.clear();
      for (String node : nodes.keySet()) {
        views.put(node, statusOf(node));
      }
      if (!views.containsValue(null) && sameAppliedIndex(views.values())) {
        return views;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the replicas did not reach the same applied index within "
            + WAIT + ": " + views);
      }
      Thread.sleep(200);
    }
  }

  private static boolean sameAppliedIndex(java.util.Collection<GetClusterStatusResponse> views) {
    Map<Integer, Set<Long>> applied = new LinkedHashMap<>();
    for (GetClusterStatusResponse v : views) {
      for (ClusterGroupStatus g : v.getGroupsList()) {
        if (g.getLeaderId().isEmpty() || g.getAppliedIndex() < g.getCommitIndex()) {
          return false;
        }
        applied.computeIfAbsent(g.getGroup(), k -> new HashSet<>()).add(g.getAppliedIndex());
      }
    }
    return applied.values().stream().allMatch(s -> s.size() == 1);
  }

  /** One recorded ListBatches after every client call ended (retried until it answers). */
  private static Set<String> finalRead(List<String> targets, HistoryRecorder recorder)
      throws InterruptedException {
    try (RecordingClient client =
        new RecordingClient(1000, HistoryWorkload.unretried(targets), recorder)) {
      for (int tries = 0; ; tries++) {
        try {
          return client.list(HistoryWorkload.PIPELINE).stream()
              .map(v -> v.getBatch().getKey()).collect(Collectors.toSet());
        } catch (OrchestratorException e) {
          if (tries > 300) {
            throw e;
          }
          Thread.sleep(100);
        }
      }
    }
  }

  /** A loopback port free now and not yet given to another address of this cluster. */
  private static int freePort(Set<Integer> taken) throws IOException {
    while (true) {
      try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        if (taken.add(s.getLocalPort())) {
          return s.getLocalPort();
        }
      }
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
