package dev.lightspeed.orchestrator.boot;

import dev.lightspeed.orchestrator.cluster.ClusterConfigs;
import dev.lightspeed.orchestrator.cluster.ClusterLayout;
import dev.lightspeed.orchestrator.cluster.RaftTls;
import dev.lightspeed.orchestrator.cluster.MembershipFile;
import dev.lightspeed.orchestrator.cluster.RaftTuning;
import dev.lightspeed.orchestrator.v1.ClusterConfig;
import dev.lightspeed.orchestrator.v1.ClusterPeer;
import dev.lightspeed.orchestrator.dashboard.DashboardHttpServer;
import dev.lightspeed.orchestrator.host.PipelineStore;
import dev.lightspeed.orchestrator.security.TokenFile;
import dev.lightspeed.orchestrator.replication.ClusterHost;
import dev.lightspeed.orchestrator.server.OrchestratorServer;
import dev.lightspeed.orchestrator.server.ServerSettings;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.time.Clock;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code --cluster FILE --node-id ID}: the same jar as one node of a replicated cluster
 * (docs/cluster.md). The node serves the gRPC API on its peer's {@code apiAddress}, runs its Raft
 * groups on its {@code raftAddress}, and keeps Raft's log and snapshots under {@code --data-dir}
 * instead of the file journal.
 */
final class ClusterBoot {
  private static final Logger log = LoggerFactory.getLogger(ClusterBoot.class);

  /**
   * How long {@code --config} waits for the groups of its pipelines to have a leader before the
   * node serves without the rest of the file (docs/cluster.md, "--config on a cluster").
   */
  static final java.time.Duration CONFIG_WAIT = java.time.Duration.ofSeconds(60);

  private ClusterBoot() {}

  /** Runs the node until it is stopped; returns the process's exit code. */
  static int run(ServerMain main, TokenFile tokens,
      dev.lightspeed.orchestrator.v1.ServerConfig config) throws Exception {
    String unsupported = unsupported(main);
    if (unsupported != null) {
      System.err.println(unsupported);
      return 2;
    }
    if (config != null) {
      // The file's own mistakes stop the start before anything is written or joined.
      try {
        OrchestratorServer.checkConfig(config.getPipelinesList());
      } catch (dev.lightspeed.orchestrator.core.Rejection r) {
        System.err.println("--config " + main.config + ": " + OrchestratorServer.describe(r));
        return 2;
      }
    }
    ClusterLayout layout;
    ClusterLayout peerCheckLayout;
    ClusterPeer peer;
    try {
      // The committed membership (changed by add-node / remove-node) wins over the file: it
      // gives this node's addresses here, and ClusterNode.start warns when the file is out of
      // date.
      ClusterConfig file = ClusterConfigs.load(main.cluster);
      ClusterConfig committed = MembershipFile.effective(file, main.dataDir, false);
      peer = ClusterConfigs.requireNode(committed, main.nodeId);
      layout = new ClusterLayout(file);
      // Raft's peer check knows the nodes of the file and of the committed membership: a node
      // added at run time stays known after a restart with the old file, and a node listed in
      // the file before it is added (the way to add one under mutual TLS, docs/cluster.md) is
      // accepted once the others know it.
      java.util.Map<String, ClusterPeer> known = new java.util.LinkedHashMap<>();
      file.getPeersList().forEach(p -> known.put(p.getId(), p));
      committed.getPeersList().forEach(p -> known.putIfAbsent(p.getId(), p));
      peerCheckLayout = new ClusterLayout(file.toBuilder().clearPeers()
          .addAllPeers(known.values()).build());
    } catch (IOException e) {
      System.err.println("--cluster " + main.cluster + ": " + e.getMessage());
      return 2;
    }
    String api = peer.getApiAddress();
    int colon = api.lastIndexOf(':');
    String host = api.substring(0, colon).replace("[", "").replace("]", "");
    int port = Integer.parseInt(api.substring(colon + 1));
    String exposure = main.production.exposureProblem(host);
    if (exposure != null) {
      System.err.println(exposure);
      return 2;
    }
    String raft = peer.getRaftAddress();
    String raftHost = raft.substring(0, raft.lastIndexOf(':')).replace("[", "").replace("]", "");
    String raftProblem =
        RaftSecurity.problem(main.production, main.raftTlsCa, main.nodeId, raftHost, raft);
    if (raftProblem != null) {
      System.err.println(raftProblem);
      return 2;
    }
    RaftTls raftTls;
    try {
      raftTls = RaftSecurity.tls(main.production, main.raftTlsCa, peerCheckLayout, main.nodeId);
    } catch (IOException e) {
      System.err.println("cannot start: Raft's mutual TLS (--tls-cert, --tls-key, "
          + (main.raftTlsCa != null ? "--raft-tls-ca" : "--tls-client-ca") + "): "
          + e.getMessage());
      return 2;
    }
    NettyServerBuilder builder;
    try {
      StartupErrors.checkPortFree(host, port, "the apiAddress of " + main.nodeId);
      builder = main.production.nettyServerBuilder(host, port);
    } catch (IOException | IllegalArgumentException e) {
      System.err.println("cannot start: " + e.getMessage());
      return 2;
    }
    SecurityStartupLog.log(main.production, host, tokens);
    RaftSecurity.log(raftTls, main.raftTlsCa != null, raftHost, raft);
    ServerSettings settings;
    try {
      settings = main.production.settings(main.watchBuffer, tokens)
          .withMemberCredentials(main.production.memberCredentials(main.raftTlsCa));
    } catch (IOException e) {
      System.err.println("cannot start: the TLS certificate, key or CA cannot be used to reach"
          + " the other nodes' API: " + e.getMessage());
      return 2;
    }
    ClusterHost node;
    try {
      node = ClusterHost.start(layout, main.nodeId, main.dataDir, settings.limits(),
          RaftTuning.defaults().withSnapshotEveryEntries(main.raftSnapshotEvery), raftTls,
          main.join);
    } catch (IOException e) {
      System.err.println("cannot start cluster node " + main.nodeId + " (data in "
          + main.dataDir.toAbsolutePath() + "): " + e.getMessage());
      return 3;
    }
    OrchestratorServer server = new OrchestratorServer(
        builder, Clock.systemUTC(), PipelineStore.inMemory(), settings, node);
    if (config != null) {
      // Through the groups' leaders, before the node serves (as one server applies its file
      // first); a group without a leader is waited for CONFIG_WAIT, then the node serves anyway.
      try {
        server.applyClusterConfig(config.getPipelinesList(), main.nodeId, CONFIG_WAIT);
      } catch (dev.lightspeed.orchestrator.core.Rejection r) {
        System.err.println("--config " + main.config + ": " + OrchestratorServer.describe(r));
        server.stop(0, TimeUnit.SECONDS);
        node.close();
        return 2;
      }
      log.info("config {} lists {} pipelines", main.config, config.getPipelinesCount());
    }
    try {
      server.start();
    } catch (IOException e) {
      System.err.println("cannot serve on " + api + ": " + e.getMessage());
      node.close();
      return 2;
    }
    if (server.metricsPort() >= 0) {
      log.atInfo().addKeyValue("event", "metrics_listening")
          .addKeyValue("address", main.production.metricsBind + ":" + server.metricsPort())
          .log("metrics on http://{}:{}/metrics", main.production.metricsBind,
              server.metricsPort());
    }
    DashboardHttpServer http = null;
    if (main.dashboard.enabled()) {
      // The same service as the API port (ClusterGrpcService behind the same interceptors), so
      // the page's reads are routed and its event feeds served as a client's calls are.
      try {
        http = main.production.dashboardServer(
            server.httpService(), tokens, host, main.dashboard.httpPort).start();
      } catch (IllegalStateException e) {
        System.err.println("cannot serve the dashboard on " + host + ":"
            + main.dashboard.httpPort + ": " + e.getMessage());
        server.stop(0, TimeUnit.SECONDS);
        node.close();
        return 2;
      }
      log.atInfo().addKeyValue("event", "http_listening")
          .addKeyValue("address", host + ":" + http.port())
          .log("dashboard on {}://{}:{}/", main.production.tls() ? "https" : "http",
              host.contains(":") ? "[" + host + "]" : host, http.port());
    }
    DashboardHttpServer httpServer = http;
    log.atInfo().addKeyValue("event", "cluster_node_listening")
        .addKeyValue("node", main.nodeId).addKeyValue("address", api)
        .log("lightspeed-orchestrator node {} of cluster '{}' listening on {} (Raft on {},"
                + " groups {} of {}, data in {})", main.nodeId, layout.config().getName(), api,
            peer.getRaftAddress(), node.node().groups(), layout.groups(),
            main.dataDir.toAbsolutePath());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      log.info("shutting down");
      if (httpServer != null) {
        httpServer.close();
      }
      try {
        server.stop(main.shutdownGraceSeconds, TimeUnit.SECONDS);
        node.close();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (IOException e) {
        log.error("stopping the Raft node failed; the next start recovers from its log", e);
      }
      stopped.countDown();
    }, "shutdown"));
    server.awaitTermination();
    stopped.await();
    return 0;
  }

  /** What a cluster node does not do yet: refused at start, saying so (docs/cluster.md). */
  private static String unsupported(ServerMain main) {
    if (main.join && main.cluster == null) {
      return "--join needs --cluster FILE and --node-id ID (the new node's entry in the file)";
    }
    if (main.nodeId == null) {
      return "--cluster needs --node-id: the id of this node in the cluster file's peers";
    }
    if (main.cluster == null) {
      return "--node-id needs --cluster FILE (the cluster file that lists this node)";
    }
    if (main.inMemory) {
      return "--in-memory is not supported with --cluster: a cluster node keeps its Raft log"
          + " in --data-dir";
    }
    if (main.raftSnapshotEvery < 1) {
      return "--raft-snapshot-every must be at least 1 (entries between a group's snapshots),"
          + " was " + main.raftSnapshotEvery;
    }
    return null;
  }
}
