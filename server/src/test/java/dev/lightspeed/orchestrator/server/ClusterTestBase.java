package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static dev.lightspeed.orchestrator.server.RpcErrors.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.cluster.ClusterLayout;
import dev.lightspeed.orchestrator.cluster.RaftTls;
import dev.lightspeed.orchestrator.cluster.RaftTuning;
import dev.lightspeed.orchestrator.grpc.Reads;
import dev.lightspeed.orchestrator.host.PipelineStore;
import dev.lightspeed.orchestrator.replication.ClusterHost;
import dev.lightspeed.orchestrator.replication.GroupState;
import dev.lightspeed.orchestrator.v1.AckBatchRequest;
import dev.lightspeed.orchestrator.security.TokenFile;
import dev.lightspeed.orchestrator.v1.ClusterConfig;
import dev.lightspeed.orchestrator.v1.ClusterGroupStatus;
import dev.lightspeed.orchestrator.v1.GetClusterStatusRequest;
import dev.lightspeed.orchestrator.v1.GetClusterStatusResponse;
import dev.lightspeed.orchestrator.v1.ClusterPeer;
import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.DeletePipelineRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchResponse;
import dev.lightspeed.orchestrator.v1.GetStatusRequest;
import dev.lightspeed.orchestrator.v1.GetStatusResponse;
import dev.lightspeed.orchestrator.v1.ListPipelinesRequest;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceBlockingStub;
import dev.lightspeed.orchestrator.v1.StartAvailableRequest;
import dev.lightspeed.orchestrator.v1.StartAvailableResponse;
import dev.lightspeed.orchestrator.v1.WatchStartedRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three cluster nodes in one JVM for a test, each a Raft node (a {@link ClusterHost}) and a gRPC
 * server on loopback ports picked free; stopped after each test.
 */
abstract class ClusterTestBase {
  /** Generous: CI is a loaded 2-core box, and an election there can take several timeouts. */
  protected static final Duration WAIT = Duration.ofSeconds(45);
  protected static final RaftTuning TUNING = new RaftTuning(100_000, 1 << 20,
      Duration.ofMillis(1_000), Duration.ofMillis(2_000), Duration.ofSeconds(3));

  @TempDir protected Path dataDirs;

  /** The nodes' Raft settings; a test may change them before it starts the cluster. */
  protected RaftTuning tuning = TUNING;
  /** Each node's Raft TLS, by node id (null: plaintext); a test may set it before starting. */
  protected java.util.function.Function<String, RaftTls> raftTls = id -> null;
  /** Each node's API server TLS, by node id (null: plaintext); set before starting. */
  protected java.util.function.Function<String, io.grpc.ServerCredentials> apiTls = id -> null;
  /** The test's own channel to each node, by node id (null: plaintext). */
  protected java.util.function.Function<String, io.grpc.ChannelCredentials> apiClientTls =
      id -> null;
  /** Each node's settings from the cluster's, by node id (e.g. its own credentials). */
  protected java.util.function.BiFunction<String, ServerSettings, ServerSettings> nodeSettings =
      (id, s) -> s;
  protected ClusterLayout layout;
  protected final Map<String, Node> nodes = new LinkedHashMap<>();

  protected record Node(ClusterHost host, OrchestratorServer server, ManagedChannel channel,
      OrchestratorServiceBlockingStub stub) {
    void stop() throws Exception {
      channel.shutdownNow();
      server.stop(0, TimeUnit.SECONDS);
      host.close();
    }
  }

  @AfterEach
  void stopAll() throws Exception {
    for (Node n : nodes.values()) {
      n.stop();
    }
  }

  protected void startCluster(int groups) throws Exception {
    startCluster(groups, ServerSettings.defaults(), null);
  }

  /** With {@code token} (when not null) on every node's stub. */
  protected void startCluster(int groups, ServerSettings settings, String token) throws Exception {
    startCluster(groups, 3, 0, settings, token);
  }

  /**
   * {@code count} nodes n1..n{count}; {@code replicationFactor} 0 is the cluster file's default
   * (3): with more nodes than that, a group leaves some nodes out.
   */
  protected void startCluster(int groups, int count, int replicationFactor,
      ServerSettings settings, String token) throws Exception {
    ClusterConfig.Builder config = ClusterConfig.newBuilder().setName("test").setGroups(groups)
        .setReplicationFactor(replicationFactor);
    for (int i = 1; i <= count; i++) {
      config.addPeers(ClusterPeer.newBuilder().setId("n" + i)
          .setRaftAddress("127.0.0.1:" + freePort()).setApiAddress("127.0.0.1:" + freePort()));
    }
    layout = new ClusterLayout(config.build());
    for (ClusterPeer peer : layout.config().getPeersList()) {
      startNode(peer.getId(), settings, token);
    }
  }

  /** Starts (or restarts, on its data directory and ports) one node of {@link #layout}. */
  protected void startNode(String id, ServerSettings settings, String token) throws Exception {
    startNode(layout, id, settings, token, false);
  }

  /**
   * Starts node {@code id} of {@code file} (its cluster file); with {@code join}, as a new node
   * that waits to be added (--join).
   */
  protected void startNode(ClusterLayout file, String id, ServerSettings settings, String token,
      boolean join) throws Exception {
    // The node's own entry: from the file, or (a node added at run time, restarted with an
    // outdated file) from the membership it committed.
    ClusterPeer peer = file.peer(id) != null ? file.peer(id)
        : dev.lightspeed.orchestrator.cluster.MembershipFile.effective(
            file.config(), dataDirs.resolve(id), false).getPeersList().stream()
            .filter(p -> p.getId().equals(id)).findFirst().orElseThrow();
    ClusterHost host = ClusterHost.start(file, peer.getId(), dataDirs.resolve(peer.getId()),
        ServerSettings.defaults().limits(), tuning, raftTls.apply(peer.getId()), join);
    int port = Integer.parseInt(peer.getApiAddress().split(":")[1]);
    InetSocketAddress api = new InetSocketAddress("127.0.0.1", port);
    io.grpc.ServerCredentials serverTls = apiTls.apply(id);
    OrchestratorServer server = new OrchestratorServer(
        serverTls == null ? NettyServerBuilder.forAddress(api)
            : NettyServerBuilder.forAddress(api, serverTls),
        Clock.systemUTC(), PipelineStore.inMemory(), nodeSettings.apply(id, settings), host)
        .start();
    io.grpc.ChannelCredentials clientTls = apiClientTls.apply(id);
    ManagedChannel channel = clientTls == null
        ? NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build()
        : NettyChannelBuilder.forAddress("127.0.0.1", server.port(), clientTls).build();
    io.grpc.Channel authed = token == null ? channel
        : AuthTest.withHeader(channel, "Bearer " + token);
    nodes.put(peer.getId(), new Node(host, server, channel,
        OrchestratorServiceGrpc.newBlockingStub(authed)));
  }

  protected OrchestratorServiceBlockingStub stub(String node) {
    return nodes.get(node).stub().withDeadlineAfter(WAIT.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Repeats {@code call} until it is accepted (a bounded poll, for a group electing a leader);
   * the last refusal is in the failure's message.
   */
  protected static void untilAccepted(String what, Runnable call) throws InterruptedException {
    java.util.concurrent.atomic.AtomicReference<StatusRuntimeException> last =
        new java.util.concurrent.atomic.AtomicReference<>();
    try {
      awaitTrue(what, () -> {
        try {
          call.run();
          return true;
        } catch (StatusRuntimeException e) {
          last.set(e);
          return false;
        }
      });
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; the last refusal: " + last.get(), e);
    }
  }

  /** A bounded poll: a replica applies a committed entry shortly after the leader. */
  protected static void awaitTrue(String what, BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + WAIT + ": " + what);
      }
      Thread.sleep(20);
    }
  }

  protected static final java.util.Set<Integer> HANDED_OUT =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** A free port never handed out before in this JVM (the kernel soon reuses a released one). */
  protected static int freePort() throws IOException {
    while (true) {
      try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        if (HANDED_OUT.add(socket.getLocalPort())) {
          return socket.getLocalPort();
        }
      }
    }
  }
}
