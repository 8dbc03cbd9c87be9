package dev.lightspeed.orchestrator.boot;

import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.dashboard.DashboardHttpServer;
import dev.lightspeed.orchestrator.durability.Durability;
import dev.lightspeed.orchestrator.journal.FsyncMode;
import dev.lightspeed.orchestrator.security.CredentialSafeLogging;
import dev.lightspeed.orchestrator.security.TokenFile;
import dev.lightspeed.orchestrator.server.OrchestratorServer;
import dev.lightspeed.orchestrator.v1.ServerConfig;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/** The {@code lightspeed-orchestrator} command: starts the server on a Netty port. */
@Command(
    name = "lightspeed-orchestrator",
    mixinStandardHelpOptions = true,
    version = "lightspeed-orchestrator 0.1.0",
    description = {
      "Serves the Lightspeed Orchestrator gRPC API (lightspeed.orchestrator.v1.OrchestratorService),",
      "with the standard health service and server reflection, so grpcurl works without .proto files.",
      "",
      "Stop it with Ctrl-C or SIGTERM: it stops accepting calls, lets running calls finish",
      "(up to --shutdown-grace), then exits."
    },
    footer = {
      "",
      "Example:",
      "  java -jar lightspeed-orchestrator-server-all.jar --config examples/pipelines.json",
      "  grpcurl -plaintext 127.0.0.1:50051 list"
    })
public final class ServerMain implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(ServerMain.class);

  @Option(
      names = "--port",
      defaultValue = "50051",
      description = "TCP port to listen on; 0 picks a free one (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(
      names = "--bind",
      defaultValue = "127.0.0.1",
      description = "Address to bind; 0.0.0.0 for every interface (default: ${DEFAULT-VALUE}).")
  String bind;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description =
          "JSON ServerConfig ({\"pipelines\": [PipelineSpec, ...]}) whose pipelines are created at"
              + " start-up; see examples/pipelines.json. An invalid pipeline stops start-up."
              + " A cluster node applies it through the pipelines' Raft groups.")
  Path config;

  @Option(
      names = "--data-dir",
      defaultValue = "data",
      paramLabel = "DIR",
      description =
          "Where the journal and snapshots live (default: ${DEFAULT-VALUE}, relative to the working"
              + " directory). Every accepted change is on disk here before its reply; a restart,"
              + " also after kill -9, recovers every pipeline. Delete the directory to start empty.")
  Path dataDir;

  @Option(
      names = "--cluster",
      paramLabel = "FILE",
      description =
          "Run as one node of a replicated cluster (JSON ClusterConfig, see"
              + " examples/cluster-local.json and docs/cluster.md); needs --node-id. The node"
              + " serves on its apiAddress and keeps its Raft log in --data-dir.")
  Path cluster;

  @Option(
      names = "--node-id",
      paramLabel = "ID",
      description = "With --cluster: which of the cluster file's peers this node is.")
  String nodeId;

  @Option(
      names = "--raft-tls-ca",
      paramLabel = "FILE",
      description = "With --cluster and --tls-cert/--tls-key: PEM CA certificates that sign the"
          + " nodes' certificates, for the Raft traffic between the nodes (mutual TLS) instead of"
          + " --tls-client-ca. The API then needs no client certificates: it can take TLS clients"
          + " with tokens (--token-file) alone.")
  Path raftTlsCa;

  @Option(
      names = "--raft-snapshot-every",
      paramLabel = "ENTRIES",
      defaultValue = "100000",
      description =
          "With --cluster: each Raft group takes a snapshot after this many log entries"
              + " (default ${DEFAULT-VALUE}) and purges its log up to it. Smaller: less disk and"
              + " a shorter replay on restart, more snapshot writing; a follower that needs a"
              + " purged entry is sent the snapshot.")
  long raftSnapshotEvery;

  @Option(
      names = "--join",
      description = "With --cluster: start as a new node of a running cluster, holding no group"
          + " until a member adds it (`lightspeed cluster add-node`); it refuses calls until"
          + " then. Its entry in the cluster file gives its addresses (docs/cluster.md,"
          + " Membership).")
  boolean join;

  @Option(
      names = "--in-memory",
      description = "Keep pipelines in memory only: nothing is written, a restart starts empty.")
  boolean inMemory;

  @Option(
      names = "--fsync",
      defaultValue = "always",
      paramLabel = "always|never",
      description =
          "always (default): fsync every group of changes before replying, so an acknowledged"
              + " change survives a power loss. never: UNSAFE, changes survive a crash of the"
              + " server process but not of the machine; faster.")
  String fsync;

  @Option(
      names = "--repair",
      description =
          "If the journal has a corrupt record (anything but a torn last write), truncate the"
              + " journal at that record, deleting it, every later record and every later segment,"
              + " instead of refusing to start; the log says which records (indexes and count)"
              + " were dropped. Acknowledged changes in them are lost. Snapshots are not affected"
              + " (a bad snapshot is replaced by the one before it when the journal allows).")
  boolean repair;

  @Option(
      names = "--journal-preallocate",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      description =
          "Write journal segments into zero-filled files prepared in the background, so that"
              + " each fsync commits no file-size change: lower latency and CPU per durable call."
              + " Costs one spare segment file (64 MiB) of disk. --no-journal-preallocate appends"
              + " instead (default: on).")
  boolean journalPreallocate;

  @Option(
      names = "--snapshot-every",
      defaultValue = "1000000",
      paramLabel = "RECORDS",
      description =
          "Take a snapshot after this many journal records (or 256 MiB of journal), once the"
              + " journal since the last snapshot is also at least as large as that snapshot, so"
              + " that large states are not re-written too often (default: ${DEFAULT-VALUE})."
              + " Snapshots are built from the journal in the background; calls do not wait.")
  long snapshotEvery;

  @Option(
      names = "--snapshot-follow",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      description =
          "Keep the snapshotter's copy of the state in memory between snapshots, applying the"
              + " journal to it as it is written, so that a snapshot only writes that copy out:"
              + " no burst of seconds of CPU to rebuild it, which would slow calls on a busy"
              + " machine. Costs a second copy of the state in memory all the time (a snapshot"
              + " needs one anyway while it is built). --no-snapshot-follow rebuilds the copy for"
              + " each snapshot from the files and frees it after (default: on).")
  boolean snapshotFollow;

  @Option(
      names = "--snapshot-cpu",
      defaultValue = "1",
      paramLabel = "SHARE",
      description =
          "The most of one CPU core a background snapshot may use, in (0, 1]: below 1 it sleeps"
              + " between journal records to stay under it, to leave CPU to other work on a"
              + " shared machine; snapshots then take longer (default: ${DEFAULT-VALUE}, no"
              + " limit).")
  double snapshotCpu;

  @Option(
      names = "--snapshot-nice",
      defaultValue = "10",
      paramLabel = "NICE",
      description =
          "On Linux, the nice value (0-19) of the snapshot thread, set with renice at start-up:"
              + " it then uses idle CPU and yields to the threads serving calls"
              + " (default: ${DEFAULT-VALUE}; 0 = the server's own priority).")
  int snapshotNice;

  @Option(
      names = "--watch-buffer",
      defaultValue = "4096",
      description =
          "Started batches buffered per WatchStarted stream before a slow watcher is cut off with"
              + " RESOURCE_EXHAUSTED (default: ${DEFAULT-VALUE}).")
  int watchBuffer;

  @Option(
      names = "--shutdown-grace",
      defaultValue = "10",
      paramLabel = "SECONDS",
      description = "How long running calls may take to finish at shutdown (default: ${DEFAULT-VALUE}).")
  long shutdownGraceSeconds;

  /** TLS, tokens, limits, keepalive, metrics. */
  @Mixin ProductionOptions production = new ProductionOptions();

  /** --http-port: the web dashboard. */
  @Mixin DashboardOptions dashboard = new DashboardOptions();

  public static void main(String[] args) {
    CredentialSafeLogging.install(); // before any Netty class makes its loggers
    routeJulToSlf4j();
    System.exit(commandLine().execute(args));
  }

  /**
   * gRPC and Netty log through java.util.logging, whose default format is two lines per record
   * with a US-style local time; routed to slf4j, their lines look like the server's own (one line,
   * ISO-8601 time; see simplelogger.properties).
   */
  public static void routeJulToSlf4j() {
    org.slf4j.bridge.SLF4JBridgeHandler.removeHandlersForRootLogger();
    org.slf4j.bridge.SLF4JBridgeHandler.install();
  }

  /** The command line with short usage errors: the problem, a did-you-mean, where help is. */
  static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new ServerMain());
    cli.setParameterExceptionHandler(UsageErrors::handle);
    return cli;
  }

  /** The data directory's settings from the command line (its values checked already). */
  Durability.Options durabilityOptions(FsyncMode fsyncMode) {
    return Durability.Options.defaults(dataDir)
        .withFsync(fsyncMode)
        .withRepair(repair)
        .withSnapshotEveryRecords(snapshotEvery)
        .withSnapshotCpuShare(snapshotCpu)
        .withSnapshotNice(snapshotNice)
        .withPreallocate(journalPreallocate)
        .withSnapshotFollow(snapshotFollow);
  }

  @Override
  public Integer call() throws Exception {
    if (watchBuffer < 1) {
      throw new CommandLine.ParameterException(
          new CommandLine(this), "--watch-buffer must be ≥ 1 (got " + watchBuffer + ")");
    }
    FsyncMode fsyncMode = switch (fsync) {
      case "always" -> FsyncMode.ALWAYS;
      case "never" -> FsyncMode.NEVER;
      default -> throw new CommandLine.ParameterException(
          new CommandLine(this), "--fsync takes always or never (got '" + fsync + "')");
    };
    if (snapshotNice < 0 || snapshotNice > 19) {
      throw new CommandLine.ParameterException(
          new CommandLine(this), "--snapshot-nice must be 0-19 (got " + snapshotNice + ")");
    }
    if (!(snapshotCpu > 0 && snapshotCpu <= 1)) {
      throw new CommandLine.ParameterException(
          new CommandLine(this), "--snapshot-cpu must be in (0, 1] (got " + snapshotCpu + ")");
    }
    if (snapshotEvery < 1) {
      throw new CommandLine.ParameterException(
          new CommandLine(this), "--snapshot-every must be ≥ 1 (got " + snapshotEvery + ")");
    }
    if (dashboard.problem() != null) {
      throw new CommandLine.ParameterException(new CommandLine(this), dashboard.problem());
    }
    for (String problem : production.problems()) {
      throw new CommandLine.ParameterException(new CommandLine(this), problem);
    }
    String exposure;
    try {
      exposure = production.exposureProblem(bind);
    } catch (java.net.UnknownHostException e) {
      System.err.println("cannot resolve --bind " + bind + ": unknown host. Pass an address of"
          + " this machine, e.g. --bind 127.0.0.1 or --bind 0.0.0.0.");
      return 2;
    }
    if (exposure != null) {
      System.err.println(exposure);
      return 2;
    }
    // Everything that can fail without writing comes first: a mistake then changes nothing on
    // disk (no data directory created, no lock taken).
    TokenFile tokens;
    try {
      tokens = production.tokens();
    } catch (IOException e) {
      System.err.println(StartupErrors.unreadable("--token-file", production.tokenFile, e,
          "The file lists 'TOKEN ROLE[,ROLE...] [NAME]' lines; see README \"Tokens and roles\"."));
      return 2;
    } catch (IllegalArgumentException e) {
      System.err.println("invalid --token-file: " + e.getMessage());
      return 2;
    }
    ServerConfig parsed = null;
    if (config != null) {
      try {
        parsed = readConfig(config);
      } catch (ConfigJson.InvalidConfig e) {
        System.err.println("--config " + config + " is not a valid ServerConfig JSON: "
            + e.getMessage());
        return 2;
      } catch (IOException e) {
        System.err.println(StartupErrors.unreadable("--config", config, e,
            "Check the path; examples/pipelines.json is an example."));
        return 2;
      }
    }
    if (raftTlsCa != null && cluster == null) {
      System.err.println("--raft-tls-ca needs --cluster FILE: it is the CA of the cluster nodes'"
          + " certificates for their Raft traffic; a single server has none (for the API's client"
          + " certificates use --tls-client-ca)");
      return 2;
    }
    if (cluster != null || nodeId != null || join) {
      return ClusterBoot.run(this, tokens, parsed);
    }
    NettyServerBuilder builder;
    try {
      builder = production.nettyServerBuilder(bind, port);
    } catch (IOException | IllegalArgumentException e) {
      System.err.println("cannot start: " + (e instanceof IOException io
          ? StartupErrors.describe(io) : e.getMessage()));
      return 2;
    }
    try {
      StartupErrors.checkPortFree(bind, port, "--port");
      if (production.metricsPort != null) {
        StartupErrors.checkPortFree(production.metricsBind, production.metricsPort,
            "--metrics-port");
      }
    } catch (IOException e) {
      System.err.println(e.getMessage());
      return 2;
    }
    SecurityStartupLog.log(production, bind, tokens);
    Durability durability;
    try {
      durability = inMemory
          ? Durability.inMemory()
          : Durability.open(durabilityOptions(fsyncMode));
    } catch (IOException e) {
      System.err.println(StartupErrors.dataDir(dataDir, e));
      return 3;
    }
    if (fsyncMode == FsyncMode.NEVER && !inMemory) {
      log.warn("--fsync=never: acknowledged changes may be lost if the machine crashes");
    }
    OrchestratorServer server =
        new OrchestratorServer(
            builder, Clock.systemUTC(), durability, production.settings(watchBuffer, tokens));
    if (parsed != null) {
      try {
        server.createPipelines(parsed.getPipelinesList());
      } catch (Rejection r) {
        System.err.println("--config " + config + ": " + OrchestratorServer.describe(r));
        durability.close();
        return 2;
      }
      log.info("config {} lists {} pipelines", config, parsed.getPipelinesCount());
    }
    try {
      server.start();
    } catch (IOException e) {
      // The port was free a moment ago (checked above); something took it since.
      java.net.BindException bindFailure = StartupErrors.bindCause(e);
      System.err.println(bindFailure != null
          ? StartupErrors.portTaken(bind, port, "--port", bindFailure)
          : "cannot start: " + e.getMessage());
      durability.close();
      return 2;
    }
    if (server.metricsPort() >= 0) {
      log.atInfo().addKeyValue("event", "metrics_listening")
          .addKeyValue("address", production.metricsBind + ":" + server.metricsPort())
          .log("metrics on http://{}:{}/metrics", production.metricsBind, server.metricsPort());
    }
    DashboardHttpServer http = null;
    if (dashboard.enabled()) {
      try {
        http = production.dashboardServer(
            server.httpService(), tokens, bind, dashboard.httpPort).start();
      } catch (IllegalStateException e) {
        System.err.println("cannot serve the dashboard on " + bind + ":" + dashboard.httpPort
            + ": " + e.getMessage());
        server.stop(0, TimeUnit.SECONDS);
        return 2;
      }
      log.atInfo().addKeyValue("event", "http_listening")
          .addKeyValue("address", bind + ":" + http.port())
          .log("dashboard on {}://{}:{}/", production.tls() ? "https" : "http",
              bind.contains(":") ? "[" + bind + "]" : bind, http.port());
    }
    DashboardHttpServer httpServer = http;
    log.info("lightspeed-orchestrator listening on {}:{} ({})", bind, server.port(),
        inMemory ? "in memory, nothing is kept" : "data in " + dataDir.toAbsolutePath());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  log.info("shutting down");
                  if (httpServer != null) {
                    httpServer.close();
                  }
                  try {
                    server.stop(shutdownGraceSeconds, TimeUnit.SECONDS);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                  stopped.countDown();
                },
                "shutdown"));
    server.awaitTermination();
    stopped.await();
    return 0;
  }

  /** Reads a ServerConfig; {@link ConfigJson.InvalidConfig} when the text is not one. */
  static ServerConfig readConfig(Path file) throws IOException {
    return ConfigJson.parse(Files.readString(file));
  }
}
