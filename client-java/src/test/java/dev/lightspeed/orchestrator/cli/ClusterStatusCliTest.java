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
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code lightspeed cluster status} against three cluster nodes in this JVM (Raft and gRPC on
 * loopback ports picked free): every group's replicas agree after writes; a node left out of
 * --target is named and the exit code is 1; a single server is refused NOT_A_CLUSTER.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClusterStatusCliTest {
  private static final RaftTuning TUNING = new RaftTuning(100_000, 1 << 20,
      Duration.ofMillis(1_000), Duration.ofMillis(2_000), Duration.ofSeconds(3));

  @TempDir Path dataDirs;
  private final List<AutoCloseable> running = new ArrayList<>();
  private final List<String> targets = new ArrayList<>();

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

  private void startCluster() throws Exception {
    ClusterConfig.Builder config = ClusterConfig.newBuilder().setName("cli").setGroups(2);
    for (int i = 1; i <= 3; i++) {
      config.addPeers(ClusterPeer.newBuilder().setId("n" + i)
          .setRaftAddress("127.0.0.1:" + freePort()).setApiAddress("127.0.0.1:" + freePort()));
    }
    ClusterLayout layout = new ClusterLayout(config.build());
    for (ClusterPeer peer : layout.config().getPeersList()) {
      ClusterHost host = ClusterHost.start(layout, peer.getId(), dataDirs.resolve(peer.getId()),
          ServerSettings.defaults().limits(), TUNING);
      running.add(host);
      int port = Integer.parseInt(peer.getApiAddress().split(":")[1]);
      OrchestratorServer server = new OrchestratorServer(
          NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port)),
          Clock.systemUTC(), PipelineStore.inMemory(), ServerSettings.defaults(), host).start();
      running.add(() -> server.stop(0, TimeUnit.SECONDS));
      targets.add(peer.getApiAddress());
    }
  }

  @Test
  void afterWrites_everyGroupsReplicasAgree_exit0() throws Exception {
    startCluster();
    try (OrchestratorClient client = OrchestratorClient.builder().targets(targets)
        .deadline(Duration.ofSeconds(45)).build()) {
      for (String name : List.of("orders", "invoices", "emails")) {
        client.createPipeline(ServerExtension.spec(name, 3, 60_000).build());
        client.enqueueBatch(name, ServerExtension.batch("b1", 1));
      }
    }
    Result r = run("--target", String.join(",", targets), "cluster", "status", "--wait", "45s");
    assertThat(r.code()).as(r.out() + r.err()).isZero();
    assertThat(r.out()).contains("group 0: leader n", "group 1: leader n", "all groups agree")
        .containsPattern("(?m)^group 0: leader n., term \\d+, members n.,n.,n.: signatures agree$")
        .containsPattern("(?m)^group 1: leader n., term \\d+, members n.,n.,n.: signatures agree$")
        .containsPattern("(?m)^  n1 +(LEADER|FOLLOWER) ")
        .containsPattern("(?m)^  n3 +(LEADER|FOLLOWER) ");

    // A node left out: its replicas cannot be compared, and the exit code says so.
    Result two = run("--target", targets.get(0) + "," + targets.get(1), "cluster", "status");
    assertThat(two.code()).as(two.out() + two.err()).isEqualTo(OrchestratorCli.REFUSED);
    assertThat(two.out()).contains("not compared: n3 did not answer or was not in --target")
        .contains("NOT all groups agree");
  }

  @Test
  void aSingleServer_isRefusedNotACluster_exit1() throws Exception {
    ServerExtension single = new ServerExtension();
    single.beforeAll(null);
    running.add(() -> single.afterAll(null));
    Result r = run("--target", single.target(), "cluster", "status");
    assertThat(r.code()).isEqualTo(OrchestratorCli.REFUSED);
    assertThat(r.err()).startsWith("ERROR NOT_A_CLUSTER: " + single.target() + ": ")
        .contains("not a cluster node");
  }

  @Test
  void theVerdict_tellsDivergedReplicasFromOnesStillCatchingUp() {
    var n1 = view("n1", 40, "aaaa", true);
    assertThat(ClusterCommand.Report.verdict(views(n1, view("n2", 40, "aaaa", true),
        view("n3", 40, "aaaa", true)))).isNull();
    assertThat(ClusterCommand.Report.verdict(views(n1, view("n2", 40, "aaaa", true),
        view("n3", 40, "bbbb", true)))).startsWith("SIGNATURES DIFFER at the same applied index");
    assertThat(ClusterCommand.Report.verdict(views(n1, view("n2", 40, "aaaa", true),
        view("n3", 38, "bbbb", true)))).startsWith("not comparable yet");
    assertThat(ClusterCommand.Report.verdict(views(n1, view("n2", 40, "aaaa", true),
        view("n3", 40, "aaaa", false)))).startsWith("a replica fails its invariant check");
    assertThat(ClusterCommand.Report.verdict(views(n1, view("n2", 40, "aaaa", true))))
        .isEqualTo("not compared: n3 did not answer or was not in --target");
  }

  private static java.util.Map.Entry<String, dev.lightspeed.orchestrator.v1.ClusterGroupStatus>
      view(String node, long applied, String signature, boolean valid) {
    return java.util.Map.entry(node, dev.lightspeed.orchestrator.v1.ClusterGroupStatus.newBuilder()
        .addAllMembers(List.of("n1", "n2", "n3")).setAppliedIndex(applied).setCommitIndex(applied)
        .setSignature(signature).setValid(valid).setLeaderId("n1").build());
  }

  @SafeVarargs
  private static java.util.Map<String, dev.lightspeed.orchestrator.v1.ClusterGroupStatus> views(
      java.util.Map.Entry<String, dev.lightspeed.orchestrator.v1.ClusterGroupStatus>... rows) {
    java.util.Map<String, dev.lightspeed.orchestrator.v1.ClusterGroupStatus> m =
        new java.util.TreeMap<>();
    for (var r : rows) {
      m.put(r.getKey(), r.getValue());
    }
    return m;
  }

  @Test
  void help_namesTheExitCodes() {
    Result r = run("cluster", "status", "--help");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("--wait").contains("Exit codes: 0 every group's replicas");
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
