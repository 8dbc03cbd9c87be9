package dev.lightspeed.orchestrator.client.history;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.client.OrchestratorClient;
import dev.lightspeed.orchestrator.client.errors.OrchestratorException;
import dev.lightspeed.orchestrator.v1.ClusterGroupStatus;
import dev.lightspeed.orchestrator.v1.GetClusterStatusResponse;
import dev.lightspeed.orchestrator.v1.PipelineSpec;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.CRC32;

/**
 * Three server jars as processes, one cluster (n1, n2, n3) of {@code groups} Raft groups on free
 * loopback ports, each node's data and logs under {@code work/<id>/}: what the process-level
 * cluster tests share (ClusterChaosIT, RollingRestartIT). Every wait is a bounded poll of
 * GetClusterStatus, never a sleep that asserts.
 */
final class ProcessCluster implements AutoCloseable {
  /** The longest any bounded wait of these tests lasts. */
  static final Duration WAIT = Duration.ofSeconds(90);

  private final int groups;
  private final Map<String, ServerNode> nodes = new LinkedHashMap<>();
  private final Set<String> paused = new HashSet<>();

  private ProcessCluster(int groups) {
    this.groups = groups;
  }

  /** Writes a cluster file of three peers on free loopback ports into {@code work}, starts them. */
  static ProcessCluster start(Path work, String name, int groups) throws Exception {
    deleteTree(work);
    Files.createDirectories(work);
    Set<Integer> ports = new HashSet<>();
    StringBuilder peers = new StringBuilder();
    int[] api = new int[3];
    for (int i = 0; i < 3; i++) {
      api[i] = freePort(ports);
      peers.append(i == 0 ? "" : ",\n").append(String.format(
          "    {\"id\": \"n%d\", \"raftAddress\": \"127.0.0.1:%d\", \"apiAddress\":"
              + " \"127.0.0.1:%d\"}", i + 1, freePort(ports), api[i]));
    }
    Path file = work.resolve("cluster.json");
    Files.writeString(file, "{\n  \"name\": \"" + name + "\",\n  \"groups\": " + groups + ",\n"
        + "  \"replicationFactor\": 3,\n  \"peers\": [\n" + peers + "\n  ]\n}\n");
    ProcessCluster cluster = new ProcessCluster(groups);
    for (int i = 0; i < 3; i++) {
      String id = "n" + (i + 1);
      Path dir = Files.createDirectories(work.resolve(id));
      cluster.nodes.put(id, new ServerNode(dir, api[i], List.of("--cluster", file.toString(),
          "--node-id", id, "--data-dir", dir.resolve("data").toString())));
    }
    for (ServerNode n : cluster.nodes.values()) {
      n.start();
    }
    return cluster;
  }

  /** The API addresses, n1 first. */
  List<String> targets() {
    return nodes.values().stream().map(ServerNode::target).toList();
  }

  Set<String> ids() {
    return nodes.keySet();
  }

  ServerNode node(String id) {
    return nodes.get(id);
  }

  /** SIGSTOP; {@link #statusOf} does not ask a paused node. */
  void pause(String id) throws IOException, InterruptedException {
    nodes.get(id).pause();
    paused.add(id);
  }

  void resume(String id) throws IOException, InterruptedException {
    nodes.get(id).resume();
    paused.remove(id);
  }

  /** Creates {@code spec} through any node, waiting while the groups elect their first leaders. */
  void createPipeline(PipelineSpec spec) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      try (OrchestratorClient client = OrchestratorClient.builder().targets(targets())
          .deadline(Duration.ofSeconds(30)).build()) {
        client.createPipeline(spec);
        return;
      } catch (OrchestratorException e) {
        if ("PIPELINE_EXISTS".equals(e.reasonName())) {
          return; // a retried create whose first reply was lost
        }
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(200);
      }
    }
  }

  /** The group of {@code pipeline}: docs/cluster.md's CRC-32 placement. */
  int groupOf(String pipeline) {
    CRC32 crc = new CRC32();
    crc.update(pipeline.getBytes(StandardCharsets.UTF_8));
    return (int) (crc.getValue() % groups);
  }

  /** This node's GetClusterStatus, or null when it does not answer within a few seconds. */
  GetClusterStatusResponse statusOf(String node) {
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
  String leaderOf(int group) throws InterruptedException {
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
   * Waits until {@code node} (just restarted) has applied, in every group, at least the highest
   * commit index another node reported once it was back: it has caught up with what the cluster
   * committed while it was away, from its own log and its group's leader (a bounded poll).
   */
  Duration awaitCaughtUp(String node) throws InterruptedException {
    long started = System.nanoTime();
    Map<Integer, Long> committed = new HashMap<>();
    for (String other : nodes.keySet()) {
      GetClusterStatusResponse view = other.equals(node) ? null : statusOf(other);
      if (view != null) {
        for (ClusterGroupStatus g : view.getGroupsList()) {
          committed.merge(g.getGroup(), g.getCommitIndex(), Math::max);
        }
      }
    }
    long deadline = started + WAIT.toNanos();
    GetClusterStatusResponse mine = null;
    while (System.nanoTime() < deadline) {
      mine = statusOf(node);
      if (mine != null && caughtUp(mine, committed)) {
        return Duration.ofNanos(System.nanoTime() - started);
      }
      Thread.sleep(100);
    }
    throw new AssertionError(node + " did not catch up with commit indexes " + committed
        + " within " + WAIT + ": " + mine);
  }

  private static boolean caughtUp(GetClusterStatusResponse view, Map<Integer, Long> committed) {
    for (ClusterGroupStatus g : view.getGroupsList()) {
      if (g.getLeaderId().isEmpty()
          || g.getAppliedIndex() < committed.getOrDefault(g.getGroup(), 0L)) {
        return false;
      }
    }
    return view.getGroupsCount() > 0;
  }

  /**
   * Every node's view once, for every group, all three replicas answer at the same applied index
   * with a leader known, checked: every replica valid, and equal signatures per group.
   */
  void assertReplicasAgree() throws InterruptedException {
    Map<String, GetClusterStatusResponse> views = replicasAtTheSameIndex();
    GetClusterStatusResponse first = views.values().iterator().next();
    for (GetClusterStatusResponse view : views.values()) {
      for (ClusterGroupStatus g : view.getGroupsList()) {
        assertThat(g.getValid()).as("group %s on %s", g.getGroup(), view.getNodeId()).isTrue();
        assertThat(g.getSignature())
            .as("group %s on %s at index %s", g.getGroup(), view.getNodeId(), g.getAppliedIndex())
            .isEqualTo(first.getGroups(g.getGroup()).getSignature());
      }
    }
  }

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

  private static boolean sameAppliedIndex(Collection<GetClusterStatusResponse> views) {
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

  /** Continues a paused node, then stops every node (SIGTERM, SIGKILL after 15 s). */
  @Override
  public void close() throws Exception {
    for (Map.Entry<String, ServerNode> n : nodes.entrySet()) {
      if (paused.contains(n.getKey())) {
        n.getValue().resume();
      }
      n.getValue().close();
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
