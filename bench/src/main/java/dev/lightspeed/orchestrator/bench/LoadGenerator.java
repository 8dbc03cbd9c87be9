package dev.lightspeed.orchestrator.bench;

import com.google.gson.GsonBuilder;
import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.DeletePipelineRequest;
import dev.lightspeed.orchestrator.v1.GetStatusRequest;
import dev.lightspeed.orchestrator.v1.GetStatusResponse;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceBlockingStub;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceStub;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Load generator for the server: starts the real server jar in its own JVM, drives it over
 * loopback with N concurrent clients doing whole batch life cycles, and reports life cycles/s and
 * per-RPC latency; then measures recovery from a 1,000,000-record journal and from a snapshot.
 */
@Command(
    name = "load-generator",
    mixinStandardHelpOptions = true,
    version = "lightspeed-orchestrator load generator 0.1.0",
    sortOptions = false,
    description = {
      "Drives the real server jar (a separate JVM) over loopback and measures it.",
      "",
      "Per server mode (durable = default fsync, in-memory), with 1 and 64 clients:",
      "  health   the empty-RPC baseline grpc.health.v1.Health/Check",
      "  unary    life cycles of EnqueueBatch, StartAvailable (max 1), AckBatch",
      "  bulk     EnqueueBatches of --bulk-size, StartAvailable, AckBatches",
      "On the durable server also: unary paced at half the measured 64-client",
      "unary rate (latency), and unary with --watchers WatchStarted streams open.",
      "Then recovery: --recovery-records journal records are written with the real",
      "FileCommandLog and command encoding; the real server is timed until it",
      "listens on them, then again from the snapshot its clean stop wrote.",
      "",
      "Each client owns one stage of the case's pipeline (its own sequence",
      "counter) and one channel; channels use directExecutor(). Every case warms",
      "up on its own pipeline first. Results: a table on stdout, --out/load.json",
      "and --out/load.md."
    })
public final class LoadGenerator implements Callable<Integer> {

  @Option(names = "--server-jar", paramLabel = "JAR",
      defaultValue = "server/target/lightspeed-orchestrator-server-0.1.0-SNAPSHOT-all.jar",
      description = "The shaded server jar (default: ${DEFAULT-VALUE}).")
  Path serverJar;

  @Option(names = "--server-jvm", paramLabel = "FLAGS",
      defaultValue = "-Xms2g -Xmx2g -XX:+UseG1GC",
      description = "JVM flags of the server process (default: ${DEFAULT-VALUE}).")
  String serverJvm;

  @Option(names = "--server-main", paramLabel = "CLASS",
      description = "Experiments only: run this main class from the benchmarks jar instead of the"
          + " server jar (a main that builds the server another way; the class needs"
          + " the server's classes, which the benchmarks jar has).")
  String serverMain;

  @Option(names = "--server-jfr",
      description = "Record a JFR profile of each server process into --out (for finding limits).")
  boolean serverJfr;

  @Option(names = "--out", paramLabel = "DIR", defaultValue = "bench/results",
      description = "Where results, server logs and data directories go (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--modes", split = ",", defaultValue = "durable,in-memory",
      description = "Server modes to run: durable (--fsync always, the default), in-memory,"
          + " cluster (3 nodes of the jar with --cluster on loopback, each durable in its Raft"
          + " log; the clients' channels spread over the nodes); none runs only the recovery"
          + " case (default: ${DEFAULT-VALUE}).")
  List<String> modes;

  @Option(names = "--cluster-groups", defaultValue = "3",
      description = "Raft groups of the cluster mode (default: ${DEFAULT-VALUE}).")
  int clusterGroups;

  @Option(names = "--cases", split = ",",
      defaultValue = "health,unary,bulk,stream,stream-bulk,half-load,watch",
      description = "Load cases to run (default: ${DEFAULT-VALUE}); half-load and watch run on the"
          + " durable server only. bulk-groups: the bulk case with the clients spread over"
          + " --cluster-groups pipelines, one in each Raft group of the cluster mode (the same"
          + " pipelines on one server). stream: EnqueueBatch + the Work stream (pushed start, ack on"
          + " the stream); stream-bulk: EnqueueBatches of --bulk-size + the Work stream with"
          + " capacity --bulk-size.")
  List<String> cases;

  @Option(names = "--clients", split = ",", defaultValue = "1,64",
      description = "Client counts of the health, unary and bulk cases (default: ${DEFAULT-VALUE}).")
  List<Integer> clientCounts;

  @Option(names = "--channels", defaultValue = "0",
      description = "Channels (TCP connections) the clients share round-robin; 0 = one per client,"
          + " as separate worker processes would have (default: ${DEFAULT-VALUE}).")
  int channelCount;

  @Option(names = "--bulk-size", defaultValue = "100",
      description = "Batches per EnqueueBatches / AckBatches call (default: ${DEFAULT-VALUE}).")
  int bulkSize;

  @Option(names = "--watchers", defaultValue = "100",
      description = "WatchStarted streams of the fan-out case (default: ${DEFAULT-VALUE}).")
  int watchers;

  @Option(names = "--scale", defaultValue = "1.0",
      description = "Multiplies every case's fixed count of operations (default: ${DEFAULT-VALUE}).")
  double scale;

  @Option(names = "--max-case-seconds", defaultValue = "40",
      description = "A case still running after this long stops early; its row says so "
          + "(default: ${DEFAULT-VALUE}).")
  int maxCaseSeconds;

  @Option(names = "--half-load-seconds", defaultValue = "60",
      description = "How long the paced half-load case runs: long enough that a server with the"
          + " default --snapshot-every takes a snapshot inside it, as one at that load does about"
          + " every 45 s (default: ${DEFAULT-VALUE}).")
  int halfLoadSeconds;

  @Option(names = "--recovery-records", defaultValue = "1000000",
      description = "Journal records of the recovery case; 0 skips it (default: ${DEFAULT-VALUE}).")
  long recoveryRecords;

  @Option(names = "--server-args", split = " ", defaultValue = "",
      description = "Experiments: extra server flags for the load cases, e.g."
          + " --server-args='--snapshot-every=100000000'.")
  List<String> serverArgs;

  @Option(names = "--quick",
      description = "A smoke run: --scale 0.05, --recovery-records 100000, short warm-ups.")
  boolean quick;

  private final List<CaseResult> results = new ArrayList<>();
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "load-timer");
        t.setDaemon(true);
        return t;
      });
  private int pipelineCounter;

  public static void main(String[] args) {
    System.exit(new CommandLine(new LoadGenerator()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    if (quick) {
      scale = Math.min(scale, 0.05);
      recoveryRecords = Math.min(recoveryRecords, 100_000);
    }
    Files.createDirectories(out);
    long began = System.nanoTime();
    say("load generator: server jar %s, server JVM flags [%s], client JVM %s, %d cores",
        serverJar, serverJvm, System.getProperty("java.vm.version"),
        Runtime.getRuntime().availableProcessors());
    say("executors: server = %s; client channels = directExecutor(); %s",
        serverMain == null ? "the Netty event loops (ServerMain's default, --handler-threads 0)"
            : "as " + serverMain + " sets it (an experiment, not the server jar)",
        channelCount > 0 ? channelCount + " channels shared by the clients"
        : "one channel per client");
    for (String mode : modes) {
      if (mode.isBlank() || mode.equals("none")) {
        continue;
      }
      runMode(mode);
    }
    if (recoveryRecords > 0) {
      results.addAll(new Recovery(serverJar, jvmFlags("recovery"), out, recoveryRecords).run());
    }
    writeResults();
    say("done in %.0f s", (System.nanoTime() - began) / 1e9);
    return 0;
  }

  // ---- one server ----------------------------------------------------------------------------

  private void runMode(String mode) throws Exception {
    if (mode.equals("cluster")) {
      runCluster();
      return;
    }
    boolean durable = switch (mode) {
      case "durable" -> true;
      case "in-memory" -> false;
      default -> throw new CommandLine.ParameterException(
          new CommandLine(this), "--modes takes durable and in-memory, not " + mode);
    };
    Path data = out.resolve("data-" + mode);
    deleteTree(data);
    List<String> args = new ArrayList<>(durable
        ? List.of("--data-dir", data.toString())
        : List.of("--in-memory"));
    serverArgs.stream().filter(a -> !a.isBlank()).forEach(args::add);
    int maxClients = Math.max(64, clientCounts.stream().mapToInt(i -> i).max().orElse(1));
    say("");
    say("== %s server ==", mode);
    try (ServerProcess server =
            ServerProcess.start(serverJar, serverMain, jvmFlags(mode),
                out.resolve("server-" + mode + ".log"), args);
        Channels channels =
            new Channels(List.of(server.port), channelCount > 0 ? channelCount : maxClients)) {
      say("server pid %d on 127.0.0.1:%d, up in %d ms (log %s)", server.pid(), server.port,
          server.startMillis, server.log);
      recordServerCommand(mode, String.join(" ", server.command));
      runCases(mode, durable, server, channels);
    }
  }

  /**
   * The cluster mode: three nodes of the server jar with {@code --cluster} (each node's Raft log
   * is its durable journal), the clients' channels spread round-robin over the nodes' API
   * addresses, as a client with the three targets behind a load balancer would be. A node that is
   * not the leader of a pipeline's group forwards the call to it.
   */
  private void runCluster() throws Exception {
    int maxClients = Math.max(64, clientCounts.stream().mapToInt(i -> i).max().orElse(1));
    say("");
    say("== cluster: 3 nodes, %d Raft groups ==", clusterGroups);
    try (ClusterProcesses cluster = new ClusterProcesses(serverJar, jvmFlags("cluster"),
            out.resolve("data-cluster"), 3, clusterGroups)) {
      cluster.startAll();
      cluster.awaitHealed();
      try (Channels channels =
          new Channels(cluster.apiPorts(), channelCount > 0 ? channelCount : maxClients)) {
        say("cluster nodes on %s; group leaders %s", cluster.targets(), cluster.leaders());
        recordServerCommand("cluster", "3 x java " + serverJvm + " -jar " + serverJar
            + " --cluster FILE --node-id nI --data-dir DIR (" + clusterGroups + " groups)");
        runCases("cluster", true, cluster, channels);
        say("group leaders at the end: %s", cluster.leaders());
      }
    }
  }

  private void runCases(String mode, boolean durable, ServerUnderTest server, Channels channels)
      throws Exception {
    boolean single = !mode.equals("cluster");
    warmUp(mode, server, channels);
    for (String kind : cases) {
      switch (kind) {
        case "health" -> {
          for (int n : clientCounts) {
            runCase(mode, server, channels, "health", n, count(n == 1 ? 50_000 : 300_000), 0, 0);
          }
        }
        case "unary" -> {
          for (int n : clientCounts) {
            // 64 clients: about 10 s either way, so a snapshot or a JIT pause inside the case
            // moves the rate less (60,000 durable life cycles took about 5 s).
            long count = n == 1 ? (durable ? 5_000 : 30_000) : 150_000;
            runCase(mode, server, channels, "unary", n, count(count), 0, 0);
          }
        }
        case "bulk" -> {
          for (int n : clientCounts) {
            long count = n == 1 ? (durable ? 200_000 : 600_000) : 1_280_000;
            runCase(mode, server, channels, "bulk", n, count(count), 0, 0);
          }
        }
        case "stream" -> {
          for (int n : clientCounts) {
            long count = n == 1 ? (durable ? 5_000 : 30_000) : 150_000;
            runCase(mode, server, channels, "stream", n, count(count), 0, 0);
          }
        }
        case "stream-bulk" -> {
          for (int n : clientCounts) {
            long count = n == 1 ? (durable ? 200_000 : 600_000) : 1_280_000;
            runCase(mode, server, channels, "stream-bulk", n, count(count), 0, 0);
          }
        }
        case "bulk-groups" -> {
          long count = 1_280_000;
          runCase(mode, server, channels, "bulk-groups", 64, count(count), 0, 0);
        }
        case "half-load" -> {
          if (durable && single) {
            CaseResult max = find(mode, "unary", 64);
            if (max == null) {
              say("half-load needs the unary case with 64 clients first; skipped");
            } else {
              double rate = max.rate / 2;
              runCase(mode, server, channels, "unary-half-load", 64,
                  Math.max(640, (long) (rate * halfLoadSeconds * Math.min(1.0, scale * 4))),
                  rate, 0);
            }
          }
        }
        case "watch" -> {
          if (durable && single) {
            runCase(mode, server, channels, "watch-fanout", 64, count(30_000), 0, watchers);
          }
        }
        default -> throw new CommandLine.ParameterException(
            new CommandLine(this), "unknown case " + kind);
      }
    }
  }

  /** Both JITs and every channel: a few seconds of mixed load on a scratch pipeline. */
  private void warmUp(String mode, ServerUnderTest server, Channels channels) throws Exception {
    say("warm-up (not measured) ...");
    long count = quick ? 6_400 : 64_000;
    runLoad(mode + "/warm-up", "health", 64, count(300_000) / 3, 0, 0, channels, server, false);
    runLoad(mode + "/warm-up", "bulk", 64, count, 0, 0, channels, server, false);
    runLoad(mode + "/warm-up", "unary", 64, count / 4, 0, 0, channels, server, false);
  }

  private void runCase(String mode, ServerUnderTest server, Channels channels, String kind,
      int clients, long count, double rate, int watch) throws Exception {
    CaseResult r = runLoad(mode + "/" + kind + "/" + clients, kind, clients, count, rate, watch,
        channels, server, true);
    r.server = mode;
    results.add(r);
  }

  /**
   * Runs one case: a fresh pipeline, a warm-up on it (a fifth of the count), then the measured
   * part; checks the pipeline is empty and valid afterwards, then deletes it.
   */
  private CaseResult runLoad(String id, String kind, int clients, long count, double rate,
      int watch, Channels channels, ServerUnderTest server, boolean measured) throws Exception {
    String pipeline = "bench-" + (++pipelineCounter);
    boolean health = kind.equals("health");
    boolean groups = kind.equals("bulk-groups");
    boolean bulk = kind.equals("bulk") || groups;
    // bulk-groups: one pipeline per Raft group (names chosen by the cluster's placement), client
    // i on pipeline i mod groups; every other case: one pipeline.
    List<String> pipelines = groups ? pipelinesInEveryGroup(pipeline) : List.of(pipeline);
    boolean stream = kind.equals("stream") || kind.equals("stream-bulk");
    int unit = bulk || kind.equals("stream-bulk") ? bulkSize : 1;
    long perClient = Math.max(unit, (count / clients) / unit * unit);
    OrchestratorServiceBlockingStub admin = OrchestratorServiceGrpc.newBlockingStub(channels.get(0));
    if (!health) {
      for (String p : pipelines) {
        admin.createPipeline(CreatePipelineRequest.newBuilder()
            .setSpec(Pipelines.spec(p, clients)).build());
      }
    }
    AtomicLong progress = new AtomicLong();
    List<Worker> workers = new ArrayList<>();
    List<OrchestratorServiceStub> stubs = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      ManagedChannel ch = channels.get(i);
      OrchestratorServiceStub stub = OrchestratorServiceGrpc.newStub(ch);
      stubs.add(stub);
      String prefix = pipeline + "-c" + i + "-";
      String clientPipeline = pipelines.get(i % pipelines.size());
      workers.add(health
          ? new Workers.HealthCheck(progress, HealthGrpc.newStub(ch))
          : stream
              ? new StreamWorkers.Stream(progress, stub, pipeline, Pipelines.stage(i), prefix, unit)
          : bulk
              ? new Workers.Bulk(progress, stub, clientPipeline, Pipelines.stage(i), prefix,
                  bulkSize)
              : new Workers.Unary(progress, stub, pipeline, Pipelines.stage(i), prefix));
    }
    FanOut fanOut = watch > 0 ? new FanOut(stubs, pipeline, watch) : null;
    // A paced case lasts as long as its count says; the cap is for cases that run flat out.
    long capSeconds = rate > 0
        ? Math.max(maxCaseSeconds, (long) (1.5 * clients * perClient / rate) + 10)
        : maxCaseSeconds;
    try {
      if (measured) {
        long warm = Math.max(unit, perClient / 5 / unit * unit);
        say("%s: warm-up %,d per client ...", id, warm);
        runAll(id + " warm-up", workers, warm, rate, progress, clients * warm, false, capSeconds);
        for (Worker w : workers) {
          w.stats.reset();
        }
        if (fanOut != null) {
          say("%s: %d of %d watchers receive", id, fanOut.receiving(), watch);
          fanOut.resetStats();
        }
      }
      progress.set(0);
      long fanOutBefore = fanOut == null ? 0 : fanOut.received.get();
      long serverCpu0 = server.cpuMillis();
      long jit0 = server.jitMillis();
      Map<String, Long> nodeCpu0 = server.cpuMillisByProcess();
      long clientCpu0 = ProcStat.self();
      long snapshots0 = server.snapshotsLogged();
      long t0 = System.nanoTime();
      boolean complete = runAll(
          id, workers, perClient, rate, progress, clients * perClient, measured, capSeconds);
      double seconds = (System.nanoTime() - t0) / 1e9;
      long serverCpu = server.cpuMillis() - serverCpu0;
      long jit = server.jitMillis() - jit0;
      Map<String, Long> nodeCpu = server.cpuMillisByProcess();
      long clientCpu = ProcStat.self() - clientCpu0;
      long snapshots = server.snapshotsLogged() - snapshots0;

      CaseResult r = new CaseResult();
      r.id = id;
      r.kind = kind;
      r.clients = clients;
      r.operations = workers.stream().mapToLong(Worker::done).sum();
      r.seconds = seconds;
      r.rate = r.operations / seconds;
      r.serverCpuMicrosPerOp = serverCpu * 1000.0 / Math.max(1, r.operations);
      r.clientCpuMicrosPerOp = clientCpu * 1000.0 / Math.max(1, r.operations);
      RpcStats all = new RpcStats();
      workers.forEach(w -> all.add(w.stats));
      List<String> notes = new ArrayList<>();
      if (fanOut != null) {
        long delivered = fanOut.received.get() - fanOutBefore;
        all.add(fanOut.mergedStats());
        notes.add(String.format(Locale.ROOT,
            "%d watchers: %,d started batches delivered (%.0f/s, %.0f%% of %d x started)",
            watch, delivered, delivered / seconds,
            100.0 * delivered / Math.max(1, (double) watch * r.operations), watch));
        Map<String, Integer> ended = fanOut.endedEarly();
        if (!ended.isEmpty()) {
          notes.add("streams ended early: " + ended);
        }
      }
      all.byRpc.forEach((rpc, h) -> {
        if (h.getTotalCount() > 0) {
          r.latencies.add(CaseResult.Latency.of(rpc, h));
        }
      });
      if (serverCpu > 0 && jit >= 0) {
        notes.add(String.format(Locale.ROOT, "JIT compiling: %.1f µs of the server CPU per op"
            + " (%.0f%%)", jit * 1000.0 / Math.max(1, r.operations), 100.0 * jit / serverCpu));
      }
      nodeCpu.forEach((node, ms) -> r.nodeCpuMicrosPerOp.put(node,
          (ms - nodeCpu0.getOrDefault(node, 0L)) * 1000.0 / Math.max(1, r.operations)));
      if (!nodeCpu.isEmpty()) {
        notes.add("server CPU per op by node: " + nodeCpu.entrySet().stream()
            .map(e -> String.format(Locale.ROOT, "%s %.0f µs", e.getKey(),
                (e.getValue() - nodeCpu0.getOrDefault(e.getKey(), 0L)) * 1000.0
                    / Math.max(1, r.operations)))
            .collect(java.util.stream.Collectors.joining(", ")));
      }
      if (groups) {
        notes.add(pipelines.size() + " pipelines, one per Raft group");
      }
      if (rate > 0) {
        notes.add(String.format(Locale.ROOT, "paced at %,.0f life cycles/s", rate));
      }
      if (!complete) {
        notes.add("stopped at the " + capSeconds + " s cap");
      }
      if (id.startsWith("durable/")) {
        notes.add(snapshots == 0 ? "no snapshot during it"
            : snapshots == 1 ? "1 snapshot during it" : snapshots + " snapshots during it");
      }
      r.note = String.join("; ", notes);
      if (!health) {
        for (String p : pipelines) {
          GetStatusResponse status =
              admin.getStatus(GetStatusRequest.newBuilder().setPipeline(p).build());
          if (status.getInFlightCount() != 0 || status.getQueuedCount() != 0
              || !status.getValid()) {
            throw new IllegalStateException(id + ": pipeline " + p
                + " not empty and valid after the case: " + status);
          }
        }
      }
      if (measured) {
        say("%s: %,d in %.1f s = %,.0f %s/s; server CPU %.1f µs/op, client CPU %.1f µs/op",
            id, r.operations, seconds, r.rate, health ? "calls" : "life cycles",
            r.serverCpuMicrosPerOp, r.clientCpuMicrosPerOp);
        say("    latency p50/p99/p99.9 ms: %s", r.latencies);
        if (!r.note.isEmpty()) {
          say("    %s", r.note);
        }
      }
      return r;
    } finally {
      if (fanOut != null) {
        fanOut.close();
      }
      for (Worker w : workers) {
        if (w instanceof StreamWorkers.Stream s) {
          s.close();
        }
      }
      if (!health) {
        for (String p : pipelines) {
          admin.deletePipeline(DeletePipelineRequest.newBuilder()
              .setName(p).setForce(true).build());
        }
      }
    }
  }

  /** Runs every worker to {@code perClient}; false if the time cap stopped them. */
  private boolean runAll(String id, List<Worker> workers, long perClient, double rate,
      AtomicLong progress, long total, boolean report, long capSeconds) throws Exception {
    List<CompletableFuture<Void>> futures = new ArrayList<>();
    int clients = workers.size();
    long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(5);
    int unit = workers.get(0).unitSize();
    for (int i = 0; i < clients; i++) {
      Worker w = workers.get(i);
      if (rate > 0) {
        long interval = (long) (1e9 * clients * unit / rate);
        futures.add(w.run(perClient, timer, interval, start + interval * i / clients));
      } else {
        futures.add(w.run(perClient));
      }
    }
    long t0 = System.nanoTime();
    long[] last = {0, t0};
    ScheduledFuture<?> ticker = report
        ? timer.scheduleAtFixedRate(() -> {
            long now = System.nanoTime();
            long p = progress.get();
            say("  %s: %,d / %,d (%,.0f/s)", id, p, total, (p - last[0]) * 1e9 / (now - last[1]));
            last[0] = p;
            last[1] = now;
          }, 2, 2, TimeUnit.SECONDS)
        : null;
    CompletableFuture<Void> all = CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new));
    boolean complete = true;
    try {
      all.get(capSeconds, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      complete = false;
      workers.forEach(Worker::stop);
      all.get(30, TimeUnit.SECONDS);
    } finally {
      if (ticker != null) {
        ticker.cancel(false);
      }
    }
    return complete;
  }

  // ---- results -------------------------------------------------------------------------------

  private void writeResults() throws IOException {
    String json = new GsonBuilder().setPrettyPrinting().create().toJson(results);
    Files.writeString(out.resolve("load.json"), json);
    String table = Tables.loadTable(results);
    Files.writeString(out.resolve("load.md"), table);
    say("");
    System.out.println(table);
    say("results: %s, %s", out.resolve("load.json"), out.resolve("load.md"));
  }

  /**
   * One pipeline name per Raft group of the cluster mode ({@code <base>-g<k>-<n>}, the first
   * {@code n} whose CRC-32 placement lands in group k: docs/cluster.md).
   */
  private List<String> pipelinesInEveryGroup(String base) {
    List<String> names = new ArrayList<>();
    for (int g = 0; g < clusterGroups; g++) {
      for (int n = 0; ; n++) {
        String name = base + "-g" + g + "-" + n;
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(name.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        if (crc.getValue() % clusterGroups == g) {
          names.add(name);
          break;
        }
      }
    }
    return names;
  }

  /** The exact server command of each mode, for BENCHMARKS.md. */
  private void recordServerCommand(String mode, String command) throws IOException {
    Path file = out.resolve("server-commands.txt");
    String line = mode + ": " + command + System.lineSeparator();
    if (modes.indexOf(mode) == 0 || !Files.exists(file)) {
      Files.writeString(file, line);
    } else {
      Files.writeString(file, line, java.nio.file.StandardOpenOption.APPEND);
    }
  }

  private CaseResult find(String mode, String kind, int clients) {
    for (CaseResult r : results) {
      if (r.server.equals(mode) && r.kind.equals(kind) && r.clients == clients) {
        return r;
      }
    }
    return null;
  }

  private long count(long base) {
    return Math.max(1, (long) (base * scale));
  }

  private List<String> jvmFlags(String mode) {
    List<String> flags = new ArrayList<>(Arrays.asList(serverJvm.trim().split("\\s+")));
    if (serverJfr) {
      // %n (the node's id, ClusterProcesses): three nodes would otherwise write one file at once.
      flags.add("-XX:StartFlightRecording=filename="
          + out.resolve("server-" + mode + (mode.equals("cluster") ? "-%n" : "") + ".jfr")
          + ",settings=profile,dumponexit=true");
    }
    return flags;
  }

  private static final java.time.format.DateTimeFormatter CLOCK =
      java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss").withZone(java.time.ZoneOffset.UTC);

  /** A progress line, stamped with the UTC time (JFR recordings use it too). */
  static void say(String format, Object... args) {
    System.out.println(CLOCK.format(java.time.Instant.now()) + " "
        + String.format(Locale.ROOT, format, args));
    System.out.flush();
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /** One plaintext loopback channel per client index, each with directExecutor(). */
  static final class Channels implements AutoCloseable {
    private final List<ManagedChannel> channels = new ArrayList<>();

    /** {@code n} channels, channel i to {@code ports[i mod ports]}. */
    Channels(List<Integer> ports, int n) {
      IntFunction<ManagedChannel> open = i -> NettyChannelBuilder
          .forAddress("127.0.0.1", ports.get(i % ports.size()))
          .usePlaintext()
          .directExecutor()
          .build();
      for (int i = 0; i < n; i++) {
        channels.add(open.apply(i));
      }
    }

    ManagedChannel get(int i) {
      return channels.get(i % channels.size());
    }

    @Override
    public void close() throws InterruptedException {
      for (ManagedChannel c : channels) {
        c.shutdownNow();
      }
      for (ManagedChannel c : channels) {
        c.awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }
}
