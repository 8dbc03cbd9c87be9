package dev.lightspeed.orchestrator.cluster;

import dev.lightspeed.orchestrator.v1.ClusterConfig;
import dev.lightspeed.orchestrator.v1.ClusterPeer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** Nodes of one cluster in this JVM, on loopback ports picked free, each with its own data dir. */
final class LocalCluster implements AutoCloseable {
  /** Generous: CI is a loaded 2-core box, and an election there can take several timeouts. */
  static final Duration WAIT = Duration.ofSeconds(45);

  final ClusterLayout layout;
  final RaftTuning tuning;
  private final Path root;
  private final Map<String, ClusterNode> running = new LinkedHashMap<>();
  private final List<GroupClient> clients = new ArrayList<>();

  private LocalCluster(ClusterLayout layout, RaftTuning tuning, Path root) {
    this.layout = layout;
    this.tuning = tuning;
    this.root = root;
  }

  /** Starts {@code nodes} nodes n1..nN of a cluster with {@code groups} groups. */
  static LocalCluster start(int nodes, int groups, RaftTuning tuning, Path root)
      throws IOException {
    ClusterConfig.Builder config = ClusterConfig.newBuilder().setName("test").setGroups(groups);
    for (int i = 1; i <= nodes; i++) {
      config.addPeers(ClusterPeer.newBuilder()
          .setId("n" + i)
          .setRaftAddress("127.0.0.1:" + freePort())
          .setApiAddress("127.0.0.1:" + freePort()));
    }
    LocalCluster cluster = new LocalCluster(new ClusterLayout(config.build()), tuning, root);
    try {
      for (int i = 1; i <= nodes; i++) {
        cluster.startNode("n" + i);
      }
    } catch (IOException | RuntimeException e) {
      cluster.close();
      throw e;
    }
    return cluster;
  }

  /** Every port {@link #freePort} handed out in this JVM. */
  private static final java.util.Set<Integer> HANDED_OUT =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * A port free now, and never one handed out before in this JVM: the kernel gives a port it just
   * released again soon, so two calls in a row could name the same port for two addresses (a
   * cluster file that is refused). Another process could still take it before the node binds it
   * (the peers must know every address before any node starts); on loopback that is rare.
   */
  static int freePort() throws IOException {
    while (true) {
      try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        if (HANDED_OUT.add(socket.getLocalPort())) {
          return socket.getLocalPort();
        }
      }
    }
  }

  void startNode(String nodeId) throws IOException {
    running.put(nodeId, ClusterNode.start(
        layout, nodeId, root.resolve(nodeId), g -> new AppendOnlyTestState(), tuning));
  }

  /** Closes the node's Raft server, as a crash would look to the others; its data dir stays. */
  void stopNode(String nodeId) throws IOException {
    running.remove(nodeId).close();
  }

  ClusterNode node(String nodeId) {
    return running.get(nodeId);
  }

  List<String> runningNodes() {
    return List.copyOf(running.keySet());
  }

  GroupClient client(int group) {
    GroupClient client = new GroupClient(layout, group, tuning);
    clients.add(client);
    return client;
  }

  AppendOnlyTestState state(String nodeId, int group) {
    try {
      return (AppendOnlyTestState) node(nodeId).stateMachine(group).state();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  GroupStatus status(String nodeId, int group) {
    try {
      return node(nodeId).status().stream()
          .filter(s -> s.group() == group).findFirst().orElseThrow();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The running node that leads the group, once one does. */
  String awaitLeader(int group) {
    String[] leader = new String[1];
    await("a leader of group " + group, () -> {
      for (String id : running.keySet()) {
        if (status(id, group).role().equals("LEADER")) {
          leader[0] = id;
          return true;
        }
      }
      return false;
    }, () -> running.keySet().stream().map(id -> status(id, group).toString()).toList().toString());
    return leader[0];
  }

  /** Waits until every running node's state of the group has {@code size} lines. */
  void awaitApplied(int group, int size) {
    await("every running node to apply " + size + " commands of group " + group,
        () -> running.keySet().stream().allMatch(id -> state(id, group).lines().size() >= size),
        () -> running.keySet().stream()
            .map(id -> id + " has " + state(id, group).lines().size() + " " + status(id, group))
            .toList().toString());
  }

  /** Polls the condition until it holds or {@link #WAIT} passes; then fails, saying why. */
  static void await(String what, Supplier<Boolean> condition, Supplier<String> state) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.get()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("waited " + WAIT.toSeconds() + " s for " + what
            + "; state: " + state.get());
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while waiting for " + what, e);
      }
    }
  }

  @Override
  public void close() throws IOException {
    for (GroupClient client : clients) {
      client.close();
    }
    for (ClusterNode node : running.values()) {
      node.close();
    }
    running.clear();
  }
}
