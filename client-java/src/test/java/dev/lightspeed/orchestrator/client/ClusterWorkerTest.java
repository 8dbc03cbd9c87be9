package dev.lightspeed.orchestrator.client;

import static dev.lightspeed.orchestrator.client.ServerExtension.await;
import static dev.lightspeed.orchestrator.client.ServerExtension.batch;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.cluster.ClusterLayout;
import dev.lightspeed.orchestrator.cluster.RaftTuning;
import dev.lightspeed.orchestrator.host.PipelineStore;
import dev.lightspeed.orchestrator.replication.ClusterHost;
import dev.lightspeed.orchestrator.server.OrchestratorServer;
import dev.lightspeed.orchestrator.server.ServerSettings;
import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.ClusterConfig;
import dev.lightspeed.orchestrator.v1.ClusterPeer;
import dev.lightspeed.orchestrator.v1.GetStatusResponse;
import io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The continuous {@link Worker} against a cluster node (three nodes in this JVM, Raft and gRPC on
 * loopback ports picked free): its Work stream is served by the node, each of its starts and
 * reports replicated through the pipeline's group (docs/cluster.md).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClusterWorkerTest {
  private static final RaftTuning TUNING = new RaftTuning(100_000, 1 << 20,
      Duration.ofMillis(1_000), Duration.ofMillis(2_000), Duration.ofSeconds(3));

  @TempDir Path dataDirs;
  private final List<AutoCloseable> running = new ArrayList<>();
  private final List<String> targets = new ArrayList<>();

  @AfterEach
  void stopAll() throws Exception {
    for (int i = running.size() - 1; i >= 0; i--) {
      running.get(i).close();
    }
  }

  private void startCluster() throws Exception {
    ClusterConfig.Builder config = ClusterConfig.newBuilder().setName("workers").setGroups(1);
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
  void aWorkerOnOneNode_processesEveryBatch_retryingTheOnesThatFail() throws Exception {
    startCluster();
    int total = 120;
    OrchestratorClient producer = OrchestratorClient.builder().targets(List.of(targets.get(0)))
        .deadline(Duration.ofSeconds(45)).build();
    OrchestratorClient workerClient = OrchestratorClient.builder()
        .targets(List.of(targets.get(2))).deadline(Duration.ofSeconds(45)).build();
    running.add(producer::close);
    running.add(workerClient::close);
    String p = "orders";
    producer.createPipeline(ServerExtension.spec(p, 3, 60_000).build());
    List<Batch> all = new ArrayList<>();
    for (int i = 0; i < total; i++) {
      all.add(batch("k" + i, i + 1));
    }
    assertThat(producer.enqueueBatches(p, all))
        .allSatisfy(r -> assertThat(r.hasError()).as(r.getError().getMessage()).isFalse());

    // Every tenth batch fails its first attempt (retried at once: initial backoff 0).
    Map<String, Integer> attempts = new ConcurrentHashMap<>();
    Worker worker = Worker.start(workerClient, WorkerOptions.builder(p).concurrency(8).build(),
        started -> {
          String key = started.getBatch().getKey();
          attempts.merge(key, 1, Integer::sum);
          if (Integer.parseInt(key.substring(1)) % 10 == 0 && started.getAttempt() == 1) {
            throw new IllegalStateException("flaky first attempt of " + key);
          }
        });
    try {
      await(Duration.ofSeconds(60), "every batch acked", () -> worker.stats().acked() == total);
    } finally {
      worker.close();
    }
    assertThat(worker.stats().retriesScheduled()).isEqualTo(total / 10);
    assertThat(attempts).hasSize(total);
    GetStatusResponse status = producer.getStatus(p);
    assertThat(status.getQueuedCount()).isZero();
    assertThat(status.getInFlightCount()).isZero();
  }

  private static final java.util.Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

  /** A free port never handed out before in this JVM (the kernel soon reuses a released one). */
  private static int freePort() throws java.io.IOException {
    while (true) {
      try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
        if (HANDED_OUT.add(socket.getLocalPort())) {
          return socket.getLocalPort();
        }
      }
    }
  }
}
