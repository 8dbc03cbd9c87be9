package dev.lightspeed.orchestrator.cli;

import dev.lightspeed.orchestrator.client.OrchestratorClient;
import dev.lightspeed.orchestrator.client.errors.ErrorReason;
import dev.lightspeed.orchestrator.client.errors.OrchestratorException;
import dev.lightspeed.orchestrator.v1.ClusterGroupStatus;
import dev.lightspeed.orchestrator.v1.GetClusterStatusResponse;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lightspeed cluster status}: every node's own view of the Raft groups, compared. */
@Command(
    name = "cluster",
    description = "Inspect a cluster's nodes (docs/cluster.md).",
    subcommands = {ClusterCommand.Status.class})
final class ClusterCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(
      name = "status",
      description = {
        "Asks every node listed in --target for its own view (GetClusterStatus, admin role)"
            + " and prints, per Raft group: the leader, the term, each node's role, commit and"
            + " applied index, and whether the replicas' signatures agree.",
        "Replicas can only be compared at the same applied index: under load they differ by a"
            + " few entries; --wait asks again until they agree.",
        "List every node: a group's signatures agree only when each of its members answered.",
        "",
        "Example: lightspeed --target n1:50051,n2:50051,n3:50051 cluster status --wait 10s",
      },
      footer = {
        "",
        "Exit codes: 0 every group's replicas answered and agree; 1 a node did not answer,"
            + " refused, or a group's replicas disagree or are not at the same applied index yet;"
            + " 2 usage error."
      })
  static final class Status implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
        names = "--wait",
        defaultValue = "0s",
        converter = OrchestratorCli.DurationConverter.class,
        paramLabel = "DURATION",
        description = "Ask again (every 500 ms) until every group agrees or this much time has"
            + " passed, e.g. 10s (default: ${DEFAULT-VALUE}, ask once).")
    Duration wait;

    @Override
    public Integer call() throws InterruptedException {
      OrchestratorCli root = (OrchestratorCli) spec.root().userObject();
      List<String> targets = root.effectiveTargets();
      long until = System.nanoTime() + wait.toNanos();
      while (true) {
        Report report = ask(root, targets);
        if (report.agrees() || System.nanoTime() >= until) {
          report.print(spec.commandLine().getOut());
          return report.agrees() ? 0 : OrchestratorCli.REFUSED;
        }
        Thread.sleep(500);
      }
    }

    /** One call per node, each on a client of its own: the answer must be that node's. */
    private static Report ask(OrchestratorCli root, List<String> targets) {
      List<GetClusterStatusResponse> answers = new ArrayList<>();
      List<String> silent = new ArrayList<>();
      for (String target : targets) {
        try (OrchestratorClient client = root.connect(List.of(target))) {
          answers.add(client.getClusterStatus());
        } catch (OrchestratorException e) {
          if (e.reason() != ErrorReason.UNKNOWN) {
            // A refusal (NOT_A_CLUSTER, ROLE_REQUIRED, ...) is the same on every node: say it.
            throw new CliException(e.reasonName(), target + ": " + e.getMessage(),
                OrchestratorCli.REFUSED, List.of(), e);
          }
          silent.add(target + " did not answer (" + e.getMessage() + ")");
        }
      }
      return new Report(answers, silent);
    }
  }

  /** The nodes' answers, by group. */
  record Report(List<GetClusterStatusResponse> answers, List<String> silent) {
    /** Group → (node → its view), both in order. */
    Map<Integer, Map<String, ClusterGroupStatus>> byGroup() {
      Map<Integer, Map<String, ClusterGroupStatus>> groups = new TreeMap<>();
      for (GetClusterStatusResponse a : answers) {
        for (ClusterGroupStatus g : a.getGroupsList()) {
          groups.computeIfAbsent(g.getGroup(), k -> new TreeMap<>()).put(a.getNodeId(), g);
        }
      }
      return groups;
    }

    boolean agrees() {
      return silent.isEmpty() && !answers.isEmpty()
          && byGroup().values().stream().allMatch(views -> verdict(views) == null);
    }

    /** Null when the group's replicas agree; else why not. */
    static String verdict(Map<String, ClusterGroupStatus> views) {
      List<String> members = views.values().iterator().next().getMembersList();
      List<String> missing = members.stream().filter(m -> !views.containsKey(m)).toList();
      if (!missing.isEmpty()) {
        return "not compared: " + String.join(", ", missing)
            + " did not answer or was not in --target";
      }
      if (views.values().stream().map(ClusterGroupStatus::getAppliedIndex).distinct().count() > 1) {
        return "not comparable yet: the replicas are at different applied indexes"
            + " (under load they are; try --wait)";
      }
      if (views.values().stream().map(ClusterGroupStatus::getSignature).distinct().count() > 1) {
        return "SIGNATURES DIFFER at the same applied index: the replicas have diverged";
      }
      if (!views.values().stream().allMatch(ClusterGroupStatus::getValid)) {
        return "a replica fails its invariant check (GetStatus of its pipelines says which)";
      }
      return null;
    }

    void print(PrintWriter out) {
      for (String s : silent) {
        out.println(s);
      }
      for (Map.Entry<Integer, Map<String, ClusterGroupStatus>> group : byGroup().entrySet()) {
        Map<String, ClusterGroupStatus> views = group.getValue();
        long term = views.values().stream().mapToLong(ClusterGroupStatus::getTerm).max()
            .orElse(0);
        String leader = views.values().stream()
            .filter(v -> v.getRole().equals("LEADER") && v.getTerm() == term)
            .map(v -> views.entrySet().stream().filter(e -> e.getValue() == v)
                .findFirst().orElseThrow().getKey())
            .findFirst().orElse("none");
        String verdict = verdict(views);
        out.println("group " + group.getKey() + ": leader " + leader + ", term " + term
            + ", members " + String.join(",", views.values().iterator().next().getMembersList())
            + ": " + (verdict == null ? "signatures agree" : verdict));
        List<List<String>> rows = new ArrayList<>();
        for (Map.Entry<String, ClusterGroupStatus> e : views.entrySet()) {
          ClusterGroupStatus v = e.getValue();
          rows.add(List.of("  " + e.getKey(), v.getRole(), Long.toString(v.getTerm()),
              v.getLeaderId().isEmpty() ? "-" : v.getLeaderId(),
              Long.toString(v.getCommitIndex()), Long.toString(v.getAppliedIndex()),
              Integer.toString(v.getPipelineCount()), v.getValid() ? "yes" : "NO",
              v.getSignature().substring(0, Math.min(16, v.getSignature().length()))));
        }
        Output.table(out, List.of("  NODE", "ROLE", "TERM", "LEADER", "COMMIT", "APPLIED",
            "PIPELINES", "VALID", "SIGNATURE"), rows);
      }
      if (answers.isEmpty()) {
        out.println("no node answered");
      }
      out.println(agrees() ? "all groups agree" : "NOT all groups agree");
      out.flush();
    }
  }
}
