package dev.lightspeed.orchestrator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.client.OrchestratorClient;
import dev.lightspeed.orchestrator.client.ServerExtension;
import dev.lightspeed.orchestrator.cluster.ClusterLayout;
import dev.lightspeed.orchestrator.cluster.RaftTuning;
import dev.lightspeed.orchestrator.host.PipelineStore;
import dev.lightspeed.orchestrator.replication.ClusterHost;
import dev.lightspeed.orchestrator.server.OrchestratorServer;
import dev.lightspeed.orchestrator.server.ServerSettings;
import dev.lightspeed.orchestrator.v1.ClusterConfig;
import dev.lightspeed.orchestrator.v1.ClusterPeer;
import io.grpc.netty.NettyServerBuilder;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code lightspeed cluster add-node} and {@code remove-node} against cluster nodes in this JVM
 * (Raft and gRPC on loopback ports picked free): a node started with --join is added and shows
 * up in {@code cluster status}, then removed; refusals print their reason with exit code 1.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ClusterMembershipCliTest {
  private static final RaftTuning TUNING = new RaftTuning(100_000, 1 << 20,
      Duration.ofMillis(1_000), Duration.ofMillis(2_000), Duration.ofSeconds(3));
  private static final Set<Integer> HANDED_OUT = new HashSet<>();

  @TempDir Path dataDirs;
  private final List<AutoCloseable> running = new ArrayList<>();

  record Result(int code, String out, String err) {}

  @AfterEach
  void stopAll() throws Exception {
    for (int i = running.size() - 1; i >= 0; i--) {
      running.get(i).close();
    }
  }

  private static Result run(String... args) {
    CommandLine cli = OrchestratorCli.newCommandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(args);
    return new Result(code, out.toString(), err.toString());
  }

  private void startNode(ClusterLayout file, ClusterPeer peer, boolean join) throws Exception {
    ClusterHost host = ClusterHost.start(file, peer.getId(), dataDirs.resolve(peer.getId()),
        ServerSettings.defaults().limits(), TUNING, join);
    running.add(host);
    int port = Integer.parseInt(peer.getApiAddress().split(":")[1]);
    OrchestratorServer server = new OrchestratorServer(
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port)),
        Clock.systemUTC(), PipelineStore.inMemory(), ServerSettings.defaults(), host).start();
    running.add(() -> server.stop(0, TimeUnit.SECONDS));
  }

  private static ClusterPeer peer(String id) throws Exception {
    return ClusterPeer.newBuilder().setId(id).setRaftAddress("127.0.0.1:" + freePort())
        .setApiAddress("127.0.0.1:" + freePort()).build();
  }

  @Test
  void addNode_thenRemoveNode_printTheGroupsThatChanged() throws Exception {
    ClusterConfig.Builder config = ClusterConfig.newBuilder().setName("cli").setGroups(4);
    for (int i = 1; i <= 3; i++) {
      config.addPeers(peer("n" + i));
    }
    ClusterLayout three = new ClusterLayout(config.build());
    ClusterPeer n4 = peer("n4");
    ClusterLayout four = new ClusterLayout(config.addPeers(n4).build());
    for (ClusterPeer p : three.config().getPeersList()) {
      startNode(three, p, false);
    }
    startNode(four, n4, true);
    List<String> targets = three.config().getPeersList().stream()
        .map(ClusterPeer::getApiAddress).toList();
    try (OrchestratorClient client = OrchestratorClient.builder().targets(targets)
        .deadline(Duration.ofSeconds(45)).build()) {
      client.createPipeline(ServerExtension.spec("orders", 3, 60_000).build());
      client.enqueueBatch("orders", ServerExtension.batch("b1", 1));
    }

    Result added = run("--target", targets.get(0), "cluster", "add-node", "--id", "n4",
        "--raft-address", n4.getRaftAddress(), "--api-address", n4.getApiAddress());
    assertThat(added.code()).as(added.out() + added.err()).isZero();
    int moved = four.placement().groupsOf("n4").size();
    assertThat(added.out()).startsWith("added n4: " + moved + " group(s) changed")
        .containsPattern("(?m)^GROUP +OLD MEMBERS +NEW MEMBERS +JOINED +LEFT")
        .containsPattern("(?m)^\\d +n\\d,n\\d,n\\d +n\\d,n\\d,n\\d +n4 +n\\d")
        .contains("nodes now: n1 (raft ", "n4 (raft " + n4.getRaftAddress() + ", api "
            + n4.getApiAddress() + ")");

    List<String> all = new ArrayList<>(targets);
    all.add(n4.getApiAddress());
    Result status = run("--target", String.join(",", all), "cluster", "status", "--wait", "60s");
    assertThat(status.code()).as(status.out() + status.err()).isZero();
    assertThat(status.out()).containsPattern("(?m)^  n4 +(LEADER|FOLLOWER) ");

    Result again = run("--target", targets.get(0), "cluster", "add-node", "--id", "n4",
        "--raft-address", n4.getRaftAddress(), "--api-address", n4.getApiAddress());
    assertThat(again.code()).isEqualTo(OrchestratorCli.REFUSED);
    assertThat(again.err()).startsWith("ERROR CLUSTER_NODE_EXISTS: ");

    Result unknown = run("--target", targets.get(0), "cluster", "remove-node", "n9");
    assertThat(unknown.code()).isEqualTo(OrchestratorCli.REFUSED);
    assertThat(unknown.err()).startsWith("ERROR CLUSTER_NODE_NOT_FOUND: ")
        .contains("n1, n2, n3, n4");

    Result removed = run("--target", n4.getApiAddress(), "cluster", "remove-node", "n4");
    assertThat(removed.code()).as(removed.out() + removed.err()).isZero();
    assertThat(removed.out()).startsWith("removed n4: " + moved + " group(s) changed")
        .doesNotContain("n4 (raft");

    Result refused = run("--target", n4.getApiAddress(), "cluster", "remove-node", "n3");
    assertThat(refused.code()).isEqualTo(OrchestratorCli.REFUSED);
    assertThat(refused.err()).startsWith("ERROR NOT_A_MEMBER: ").contains("was removed");
  }

  @Test
  void usageErrors_exit2_andASingleServerIsRefused() throws Exception {
    Result missing = run("--target", "127.0.0.1:1", "cluster", "add-node", "--id", "n4");
    assertThat(missing.code()).isEqualTo(OrchestratorCli.USAGE);
    assertThat(missing.err()).contains("--raft-address");

    ServerExtension single = new ServerExtension();
    single.beforeAll(null);
    running.add(() -> single.afterAll(null));
    Result r = run("--target", single.target(), "cluster", "remove-node", "n4");
    assertThat(r.code()).isEqualTo(OrchestratorCli.REFUSED);
    assertThat(r.err()).startsWith("ERROR NOT_A_CLUSTER: ");
  }

  @Test
  void help_explainsJoinAndTheExitCodes() {
    Result add = run("cluster", "add-node", "--help");
    assertThat(add.code()).isZero();
    assertThat(add.out()).contains("--join", "--raft-address", "--api-address",
        "Exit codes: 0 added");
    Result remove = run("cluster", "remove-node", "--help");
    assertThat(remove.code()).isZero();
    assertThat(remove.out()).contains("NODE_ID", "NOT_A_MEMBER", "Exit codes: 0 removed");
  }

  private static synchronized int freePort() throws Exception {
    while (true) {
      try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        if (HANDED_OUT.add(s.getLocalPort())) {
          return s.getLocalPort();
        }
      }
    }
  }
}
