package dev.lightspeed.orchestrator.bench;

import dev.lightspeed.orchestrator.v1.ClusterGroupStatus;
import dev.lightspeed.orchestrator.v1.GetClusterStatusRequest;
import dev.lightspeed.orchestrator.v1.GetClusterStatusResponse;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A cluster of real server jars on loopback, one JVM per node ({@code --cluster FILE --node-id}),
 * with free ports written into the cluster file: the cluster side of the load and fail-over
 * benchmarks. Nodes can be killed (SIGKILL), stopped (SIGSTOP), continued and restarted on the
 * same data directory and ports, and asked for their GetClusterStatus.
 */
final class ClusterProcesses implements ServerUnderTest, AutoCloseable {
  /** One node: its id, ports, data directory and the current process. */
  static final class Node {
    final String id;
    final int apiPort;
    final Path dataDir;
    Process process;
    ManagedChannel channel;
    boolean stopped;
    private int starts;

    Node(String id, int apiPort, Path dataDir) {
      this.id = id;
      this.apiPort = apiPort;
      this.dataDir = dataDir;
    }

    String target() {
      return "127.0.0.1:" + apiPort;
    }

    long cpuMillis() {
      return process == null ? 0 : ProcStat.cpuMillis(process.pid());
    }
  }

  private final Path jar;
  private final List<String> jvmFlags;
  private final Path dir;
  private final Path clusterFile;
  private final Map<String, Node> nodes = new LinkedHashMap<>();
  private final List<String> nodeArgs;

  /**
   * Writes the cluster file for {@code size} nodes and {@code groups} Raft groups under
   * {@code dir} (emptied first); {@link #startAll()} starts the nodes.
   */
  ClusterProcesses(Path jar, List<String> jvmFlags, Path dir, int size, int groups)
      throws IOException {
    this(jar, jvmFlags, dir, size, groups, List.of());
  }

  /** The same, with {@code nodeArgs} added to every node's command line. */
  ClusterProcesses(Path jar, List<String> jvmFlags, Path dir, int size, int groups,
      List<String> nodeArgs) throws IOException {
    this.jar = jar;
    this.nodeArgs = List.copyOf(nodeArgs);
    this.jvmFlags = List.copyOf(jvmFlags);
    this.dir = dir;
    LoadGenerator.deleteTree(dir);
    Files.createDirectories(dir);
    Set<Integer> taken = new HashSet<>();
    StringBuilder peers = new StringBuilder();
    for (int i = 1; i <= size; i++) {
      String id = "n" + i;
      int raft = freePort(taken);
      int api = freePort(taken);
      nodes.put(id, new Node(id, api, dir.resolve(id)));
      peers.append(i == 1 ? "" : ",\n").append(String.format(
          "    {\"id\": \"%s\", \"raftAddress\": \"127.0.0.1:%d\", \"apiAddress\": \"127.0.0.1:%d\"}",
          id, raft, api));
    }
    clusterFile = dir.resolve("cluster.json");
    Files.writeString(clusterFile, "{\n  \"name\": \"bench\",\n  \"groups\": " + groups
        + ",\n  \"replicationFactor\": 3,\n  \"peers\": [\n" + peers + "\n  ]\n}\n");
  }

  Iterable<Node> nodes() {
    return nodes.values();
  }

  Node node(String id) {
    return nodes.get(id);
  }

  List<String> targets() {
    return nodes.values().stream().map(Node::target).toList();
  }

  void startAll() throws IOException, InterruptedException {
    for (Node n : nodes.values()) {
      spawn(n);
    }
    for (Node n : nodes.values()) {
      awaitListening(n);
    }
  }

  /** Starts (or restarts, on the same data directory and ports) one node and waits until it serves. */
  void start(Node n) throws IOException, InterruptedException {
    spawn(n);
    awaitListening(n);
  }

  private void spawn(Node n) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // "%n" in a flag is the node's id (e.g. one JFR file per node; JDK 17's JFR has no %p).
    jvmFlags.forEach(f -> command.add(f.replace("%n", n.id)));
    command.addAll(List.of("-jar", jar.toString(), "--cluster", clusterFile.toString(),
        "--node-id", n.id, "--data-dir", n.dataDir.toString()));
    command.addAll(nodeArgs);
    Path log = log(n, ++n.starts);
    n.process = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(log.toFile()).start();
    n.stopped = false;
    if (n.channel == null) {
      n.channel = NettyChannelBuilder.forAddress("127.0.0.1", n.apiPort).usePlaintext().build();
    }
  }

  private Path log(Node n, int start) {
    return dir.resolve(n.id + "-" + start + ".log");
  }

  private void awaitListening(Node n) throws IOException, InterruptedException {
    Path log = log(n, n.starts);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (!Files.readString(log).contains("listening on")) {
      if (!n.process.isAlive() || System.nanoTime() > deadline) {
        n.process.destroyForcibly();
        throw new IOException("node " + n.id + " did not start (see " + log + "):\n"
            + Files.readString(log));
      }
      Thread.sleep(10);
    }
  }

  /** SIGKILL: no shutdown hook, no final snapshot. */
  void kill(Node n) throws InterruptedException {
    n.process.destroyForcibly();
    n.process.waitFor(10, TimeUnit.SECONDS);
  }

  /** SIGSTOP: the node keeps its sockets and answers nothing (a partition, as the others see it). */
  void stop(Node n) throws IOException, InterruptedException {
    signal(n, "STOP");
    n.stopped = true;
  }

  /** SIGCONT after {@link #stop}. */
  void resume(Node n) throws IOException, InterruptedException {
    signal(n, "CONT");
    n.stopped = false;
  }

  private static void signal(Node n, String name) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(n.process.pid()))
        .inheritIO().start();
    if (kill.waitFor() != 0) {
      throw new IOException("kill -" + name + " " + n.process.pid() + " failed");
    }
  }

  /** The node's GetClusterStatus, or null when it does not answer within 3 s. */
  GetClusterStatusResponse status(Node n) {
    if (n.stopped || n.process == null || !n.process.isAlive()) {
      return null;
    }
    try {
      return OrchestratorServiceGrpc.newBlockingStub(n.channel)
          .withDeadlineAfter(3, TimeUnit.SECONDS)
          .getClusterStatus(GetClusterStatusRequest.getDefaultInstance());
    } catch (StatusRuntimeException e) {
      return null;
    }
  }

  /** The leader of {@code group} at the highest term any node reports (polls up to 90 s). */
  Node leaderOf(int group) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (System.nanoTime() < deadline) {
      String leader = nodes.values().stream().map(this::status)
          .filter(s -> s != null)
          .flatMap(s -> s.getGroupsList().stream())
          .filter(g -> g.getGroup() == group && !g.getLeaderId().isEmpty())
          .max(Comparator.comparingLong(ClusterGroupStatus::getTerm))
          .map(ClusterGroupStatus::getLeaderId).orElse(null);
      if (leader != null && nodes.containsKey(leader)) {
        return nodes.get(leader);
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException("group " + group + " has no leader within 90 s");
  }

  /**
   * Waits (up to 120 s) until every node answers, every group's replicas agree on a leader, and
   * every replica has applied what its group had committed when they first did: the cluster has
   * healed and caught up (under load the replicas' indexes never meet, so "equal" cannot be the
   * test).
   */
  void awaitHealed() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    Map<Integer, Long> target = null;
    List<GetClusterStatusResponse> views = List.of();
    while (System.nanoTime() < deadline) {
      views = nodes.values().stream().map(this::status).toList();
      if (!views.contains(null) && leadersAgree(views)) {
        if (target == null) {
          target = new LinkedHashMap<>();
          for (GetClusterStatusResponse v : views) {
            for (ClusterGroupStatus g : v.getGroupsList()) {
              target.merge(g.getGroup(), g.getCommitIndex(), Math::max);
            }
          }
        }
        if (appliedAtLeast(views, target)) {
          return;
        }
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("the cluster did not heal within 120 s: " + views);
  }

  private static boolean leadersAgree(List<GetClusterStatusResponse> views) {
    Map<Integer, Set<String>> leaders = new LinkedHashMap<>();
    for (GetClusterStatusResponse v : views) {
      for (ClusterGroupStatus g : v.getGroupsList()) {
        leaders.computeIfAbsent(g.getGroup(), k -> new HashSet<>()).add(g.getLeaderId());
      }
    }
    return leaders.values().stream().allMatch(s -> s.size() == 1 && !s.contains(""));
  }

  private static boolean appliedAtLeast(
      List<GetClusterStatusResponse> views, Map<Integer, Long> target) {
    return views.stream().flatMap(v -> v.getGroupsList().stream())
        .allMatch(g -> g.getAppliedIndex() >= target.getOrDefault(g.getGroup(), 0L));
  }

  @Override
  public long cpuMillis() {
    return nodes.values().stream().mapToLong(Node::cpuMillis).sum();
  }

  @Override
  public long jitMillis() {
    return nodes.values().stream()
        .mapToLong(n -> n.process == null ? 0 : Math.max(0, ProcStat.jitMillis(n.process.pid())))
        .sum();
  }

  /** Ratis takes the snapshots of a cluster; they are not counted here. */
  @Override
  public long snapshotsLogged() {
    return 0;
  }

  @Override
  public Map<String, Long> cpuMillisByProcess() {
    Map<String, Long> cpu = new LinkedHashMap<>();
    nodes.values().forEach(n -> cpu.put(n.id, n.cpuMillis()));
    return cpu;
  }

  /** The API ports of the nodes, in node order. */
  List<Integer> apiPorts() {
    return nodes.values().stream().map(n -> n.apiPort).toList();
  }

  /** Each group's leader (group → node id), as the nodes report it now. */
  Map<Integer, String> leaders() {
    Map<Integer, String> leaders = new java.util.TreeMap<>();
    for (Node n : nodes.values()) {
      GetClusterStatusResponse s = status(n);
      if (s != null) {
        s.getGroupsList().forEach(g -> leaders.putIfAbsent(g.getGroup(), g.getLeaderId()));
      }
    }
    return leaders;
  }

  @Override
  public void close() throws InterruptedException {
    for (Node n : nodes.values()) {
      if (n.process != null && n.process.isAlive()) {
        if (n.stopped) {
          try {
            resume(n);
          } catch (IOException e) {
            n.process.destroyForcibly();
          }
        }
        n.process.destroy();
      }
    }
    for (Node n : nodes.values()) {
      if (n.process != null && !n.process.waitFor(30, TimeUnit.SECONDS)) {
        n.process.destroyForcibly();
      }
      if (n.channel != null) {
        n.channel.shutdownNow();
      }
    }
  }

  private static int freePort(Set<Integer> taken) throws IOException {
    while (true) {
      try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        if (taken.add(s.getLocalPort())) {
          return s.getLocalPort();
        }
      }
    }
  }
}
