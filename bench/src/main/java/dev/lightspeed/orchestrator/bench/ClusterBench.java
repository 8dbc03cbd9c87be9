package dev.lightspeed.orchestrator.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The cluster benchmarks of issue 17 (docs/cluster.md): three real server jars with
 * {@code --cluster}, on loopback, each in its own JVM. Writes {@code cluster.md} into --out,
 * which {@link Report} puts into BENCHMARKS.md.
 */
@Command(
    name = "cluster-bench",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Benchmarks a 3-node cluster of the real server jar on loopback.",
      "",
      "failover: under a steady write load, SIGKILL the leader of the pipeline's",
      "  group --kills times (restarting it each time) and SIGSTOP it --stops times",
      "  (continued after the fail-over); each time, the time from the fault to the",
      "  first accepted write sent after it (probes every 10 ms over all three nodes).",
      "",
      "catch-up: a follower is killed, the group is filled with --catch-up-records queued",
      "  batches and its log purged to a snapshot; the follower is started again: the time",
      "  until it has applied the group's commit index (from the snapshot, then the log).",
    })
public final class ClusterBench implements Callable<Integer> {
  @Option(names = "--server-jar", paramLabel = "JAR",
      defaultValue = "server/target/lightspeed-orchestrator-server-0.1.0-SNAPSHOT-all.jar",
      description = "The shaded server jar (default: ${DEFAULT-VALUE}).")
  Path serverJar;

  // -Xmx2g: the catch-up case holds 1M queued batches per node; with 1g that is near the heap
  // guard's 80 % (--max-heap-percent), which would refuse the fill QUEUE_FULL.
  @Option(names = "--server-jvm", paramLabel = "FLAGS", defaultValue = "-Xms512m -Xmx2g -XX:+UseG1GC",
      description = "JVM flags of each node (default: ${DEFAULT-VALUE}).")
  String serverJvm;

  @Option(names = "--out", paramLabel = "DIR", defaultValue = "bench/results",
      description = "Results, node logs and data directories (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--kills", defaultValue = "10",
      description = "Leader kills (SIGKILL, then restart) (default: ${DEFAULT-VALUE}).")
  int kills;

  @Option(names = "--stops", defaultValue = "5",
      description = "Leader stops (SIGSTOP, SIGCONT after the fail-over) (default: ${DEFAULT-VALUE}).")
  int stops;

  @Option(names = "--writers", defaultValue = "8",
      description = "Threads writing steadily during the fail-overs (default: ${DEFAULT-VALUE}).")
  int writers;

  @Option(names = "--catch-up-records", defaultValue = "1000000",
      description = "Queued batches written while a follower is down, which then catches up from"
          + " the leader's snapshot; 0 skips it (default: ${DEFAULT-VALUE}).")
  long catchUpRecords;

  @Option(names = "--catch-up-snapshot-every", defaultValue = "100",
      description = "The nodes' --raft-snapshot-every for the catch-up run, so that the leader's"
          + " log is purged to a recent snapshot (default: ${DEFAULT-VALUE} entries).")
  long catchUpSnapshotEvery;

  public static void main(String[] args) {
    System.exit(new CommandLine(new ClusterBench()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Files.createDirectories(out);
    List<String> jvm = Arrays.asList(serverJvm.trim().split("\\s+"));
    List<String> faults = new ArrayList<>();
    for (int i = 0; i < kills; i++) {
      faults.add("kill");
    }
    for (int i = 0; i < stops; i++) {
      faults.add("stop");
    }
    if (!faults.isEmpty()) {
      failover(jvm, faults);
    }
    if (catchUpRecords > 0) {
      catchUp(jvm);
    }
    return 0;
  }

  private void failover(List<String> jvm, List<String> faults) throws Exception {
    List<Failover.Sample> samples;
    LoadGenerator.say("cluster fail-over: 3 nodes, 1 group, %d writers, faults %s", writers, faults);
    try (ClusterProcesses cluster =
        new ClusterProcesses(serverJar, jvm, out.resolve("cluster-failover"), 3, 1)) {
      cluster.startAll();
      samples = new Failover(cluster, 1, writers).run(faults);
    }
    StringBuilder md = new StringBuilder();
    md.append("| fault | leader unreachable → first accepted write | each (ms) |\n|---|---|---|\n");
    for (String fault : List.of("kill", "stop")) {
      List<String> each = samples.stream().filter(s -> s.fault().equals(fault))
          .map(s -> Long.toString(s.millis())).toList();
      if (!each.isEmpty()) {
        md.append(String.format(Locale.ROOT, "| %s | %s | %s |\n",
            fault.equals("kill") ? "SIGKILL of the leader" : "SIGSTOP of the leader",
            Failover.summary(samples, fault), String.join(", ", each)));
      }
    }
    Files.writeString(out.resolve("cluster-failover.md"), md.toString());
    System.out.println(md);
  }

  private void catchUp(List<String> jvm) throws Exception {
    CatchUp.Result r = new CatchUp(serverJar, jvm, out.resolve("cluster-catch-up"),
        catchUpRecords, catchUpSnapshotEvery).run();
    String md = "| state of the group | leader's snapshot | node that was down: process start → listening"
        + " | → caught up (applied the commit index) | replicas |\n|---|---|---|---|---|\n"
        + String.format(Locale.ROOT, "| %,d queued batches, %,d log entries | index %,d, %,.1f MB"
            + " | %,d ms | %,d ms | %s |\n", r.records(), r.entries(), r.snapshotIndex(),
            r.snapshotBytes() / 1e6, r.startupMs(), r.catchUpMs(),
            r.signaturesAgree() ? "signatures agree" : "signatures not compared equal");
    Files.writeString(out.resolve("cluster-catch-up.md"), md);
    System.out.println(md);
  }
}
