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

/**
 * {@code lightspeed cluster status}: every node's own view of the Raft groups, compared; {@code
 * cluster add-node} / {@code remove-node}: membership changes (docs/cluster.md, "Membership").
 */
@Command(
    name = "cluster",
    description = "Inspect a cluster's nodes, add and remove nodes (docs/cluster.md).",
    subcommands = {ClusterCommand.Status.class, ClusterCommand.AddNode.class,
        ClusterCommand.RemoveNode.class})
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

  /** What a membership change waits for when --deadline was left at its default. */
  static final Duration CHANGE_DEADLINE = Duration.ofMinutes(2);

  /** The client for a membership change: one that waits for every group to change. */
  static OrchestratorClient changeClient(CommandSpec spec) {
    OrchestratorCli root = (OrchestratorCli) spec.root().userObject();
    boolean deadlineGiven = spec.root().commandLine().getParseResult() != null
        && spec.root().commandLine().getParseResult().hasMatchedOption("--deadline");
    return root.connect(root.effectiveTargets(), deadlineGiven ? root.deadline : CHANGE_DEADLINE);
  }

  @Command(
      name = "add-node",
      description = {
        "Adds a node to the running cluster (AddClusterNode, admin role): every Raft group whose"
            + " members the placement over the new list of nodes changes gets the new node (the"
            + " group's leader catches it up) and loses the member it replaces. Prints each"
            + " changed group's members before and after.",
        "Start the new node first, with --cluster FILE --node-id ID --join (FILE lists it with"
            + " these addresses); then run this against any member. Afterwards, list the node in"
            + " the cluster file of every node.",
        "A change that failed half-way (a node did not answer) is finished by running the same"
            + " command again.",
        "",
        "Example: lightspeed --target n1:50051 cluster add-node --id n4"
            + " --raft-address 10.0.0.4:6001 --api-address 10.0.0.4:50051",
      },
      footer = {
        "",
        "Waits up to 2 minutes (--deadline changes it). Exit codes: 0 added; 1 refused (the"
            + " reason is printed: INVALID_REQUEST, CLUSTER_NODE_EXISTS, NOT_A_CLUSTER,"
            + " NOT_A_MEMBER, CLUSTER_CHANGE_IN_PROGRESS (a change sent to another node is under"
            + " way), ROLE_REQUIRED, ...) or not finished (run it again); 2 usage error."
      })
  static final class AddNode implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--id", required = true, paramLabel = "ID",
        description = "The new node's id (its --node-id).")
    String id;

    @Option(names = "--raft-address", required = true, paramLabel = "HOST:PORT",
        description = "Where the new node's Raft server listens (its raftAddress).")
    String raftAddress;

    @Option(names = "--api-address", required = true, paramLabel = "HOST:PORT",
        description = "Where the new node serves the API (its apiAddress).")
    String apiAddress;

    @Override
    public Integer call() {
      try (OrchestratorClient client = changeClient(spec)) {
        var reply = client.addClusterNode(dev.lightspeed.orchestrator.v1.ClusterPeer.newBuilder()
            .setId(id).setRaftAddress(raftAddress).setApiAddress(apiAddress).build());
        printChange(spec.commandLine().getOut(), "added " + id, reply.getChangesList(),
            reply.getPeersList());
        return 0;
      }
    }
  }

  @Command(
      name = "remove-node",
      description = {
        "Removes a node from the running cluster (RemoveClusterNode, admin role): every Raft"
            + " group it is a member of gets the next node by placement instead; the removed node"
            + " drops those groups (their directories are kept, moved to"
            + " <data-dir>/raft-removed/) and from then on refuses every call NOT_A_MEMBER."
            + " Prints each changed group's members before and after.",
        "Refused when fewer nodes than the replication factor would be left. Run it against"
            + " any member (the removed one included); afterwards, take the node out of the"
            + " cluster file of every node.",
        "",
        "Example: lightspeed --target n1:50051 cluster remove-node n4",
      },
      footer = {
        "",
        "Waits up to 2 minutes (--deadline changes it). Exit codes: 0 removed; 1 refused"
            + " (CLUSTER_NODE_NOT_FOUND, CLUSTER_TOO_SMALL, CLUSTER_CHANGE_IN_PROGRESS,"
            + " NOT_A_CLUSTER, ROLE_REQUIRED, ...) or"
            + " not finished (run it again); 2 usage error."
      })
  static final class RemoveNode implements Callable<Integer> {
    @Spec CommandSpec spec;

    @picocli.CommandLine.Parameters(paramLabel = "NODE_ID", description = "The node to remove.")
    String id;

    @Override
    public Integer call() {
      try (OrchestratorClient client = changeClient(spec)) {
        var reply = client.removeClusterNode(id);
        printChange(spec.commandLine().getOut(), "removed " + id, reply.getChangesList(),
            reply.getPeersList());
        return 0;
      }
    }
  }

  static void printChange(PrintWriter out, String what,
      List<dev.lightspeed.orchestrator.v1.ClusterGroupChange> changes,
      List<dev.lightspeed.orchestrator.v1.ClusterPeer> peers) {
    out.println(what + ": " + changes.size() + " group(s) changed");
    List<List<String>> rows = new ArrayList<>();
    for (var c : changes) {
      List<String> joined = c.getNewMembersList().stream()
          .filter(m -> !c.getOldMembersList().contains(m)).toList();
      List<String> left = c.getOldMembersList().stream()
          .filter(m -> !c.getNewMembersList().contains(m)).toList();
      rows.add(List.of(Integer.toString(c.getGroup()), String.join(",", c.getOldMembersList()),
          String.join(",", c.getNewMembersList()), String.join(",", joined),
          String.join(",", left)));
    }
    Output.table(out, List.of("GROUP", "OLD MEMBERS", "NEW MEMBERS", "JOINED", "LEFT"), rows);
    out.println("nodes now: " + String.join(", ", peers.stream()
        .map(p -> p.getId() + " (raft " + p.getRaftAddress() + ", api " + p.getApiAddress() + ")")
        .toList()));
    out.println("update the cluster file of every node to list these nodes");
    out.flush();
  }
}
