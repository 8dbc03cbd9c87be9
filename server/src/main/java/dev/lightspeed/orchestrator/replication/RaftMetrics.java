package dev.lightspeed.orchestrator.replication;

import dev.lightspeed.orchestrator.cluster.ClusterNode;
import dev.lightspeed.orchestrator.cluster.GroupMetrics;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * A cluster node's Raft figures on {@code /metrics}, one series per group this node is a member
 * of (label {@code group}, the group's index), read at each scrape ({@link ClusterNode#metrics}):
 * the state from the group's Ratis division, the counters from Ratis' own metric registries
 * (docs/operations.md, "Cluster metrics").
 */
final class RaftMetrics implements MultiCollector {
  private final ClusterNode node;

  RaftMetrics(ClusterNode node) {
    this.node = node;
  }

  @Override
  public MetricSnapshots collect() {
    List<GroupMetrics> groups = node.metrics();
    MetricSnapshots.Builder out = MetricSnapshots.builder();
    out.metricSnapshot(gauge(groups, "lightspeed_raft_is_leader",
        "1 when this node leads the group, else 0.", g -> g.leader() ? 1 : 0));
    out.metricSnapshot(gauge(groups, "lightspeed_raft_term",
        "This node's current Raft term of the group.", GroupMetrics::term));
    out.metricSnapshot(gauge(groups, "lightspeed_raft_commit_index",
        "The highest log index this node knows to be committed.", GroupMetrics::commitIndex));
    out.metricSnapshot(gauge(groups, "lightspeed_raft_applied_index",
        "The highest log index this node's replica has applied.", GroupMetrics::appliedIndex));
    out.metricSnapshot(gauge(groups, "lightspeed_raft_last_log_index",
        "The index of the last entry in this node's log (committed or not).",
        GroupMetrics::lastLogIndex));
    out.metricSnapshot(gauge(groups, "lightspeed_raft_snapshot_index",
        "The log index of this node's newest snapshot of the group; -1 when it has none.",
        GroupMetrics::snapshotIndex));
    out.metricSnapshot(gauge(groups.stream().filter(GroupMetrics::leader).toList(),
        "lightspeed_raft_follower_max_lag_entries",
        "On the group's leader only: entries the furthest-behind follower lacks (the leader's"
            + " last log index minus that follower's match index).",
        GroupMetrics::followerMaxLag));
    out.metricSnapshot(counter(groups, "lightspeed_raft_leader_changes",
        "Leaders of the group this node learnt of since it started (every election or"
            + " transfer it saw).", GroupMetrics::leaderChanges));
    out.metricSnapshot(counter(groups, "lightspeed_raft_elections_won",
        "Elections of the group this node won since it started (Ratis'"
            + " leader_election.electionCount).", GroupMetrics::electionsWon));
    out.metricSnapshot(counter(groups, "lightspeed_raft_election_timeouts",
        "Elections this node started because it heard from no leader in time (Ratis'"
            + " leader_election.timeoutCount).", GroupMetrics::electionTimeouts));
    out.metricSnapshot(counter(groups, "lightspeed_raft_leadership_transfers",
        "Leadership transfers of the group handled by this node (Ratis'"
            + " leader_election.transferLeadershipCount).", GroupMetrics::leadershipTransfers));
    out.metricSnapshot(counter(groups, "lightspeed_raft_snapshots_installed",
        "Snapshots of the group the leader installed on this node's replica (Ratis'"
            + " server.numInstallSnapshot).", GroupMetrics::snapshotsInstalled));
    return out.build();
  }

  private static GaugeSnapshot gauge(List<GroupMetrics> groups, String name, String help,
      ToDoubleFunction<GroupMetrics> value) {
    GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(name).help(help);
    for (GroupMetrics g : groups) {
      b.dataPoint(GaugeDataPointSnapshot.builder().labels(group(g))
          .value(value.applyAsDouble(g)).build());
    }
    return b.build();
  }

  private static CounterSnapshot counter(List<GroupMetrics> groups, String name, String help,
      ToDoubleFunction<GroupMetrics> value) {
    CounterSnapshot.Builder b = CounterSnapshot.builder().name(name).help(help);
    for (GroupMetrics g : groups) {
      b.dataPoint(CounterDataPointSnapshot.builder().labels(group(g))
          .value(value.applyAsDouble(g)).build());
    }
    return b.build();
  }

  private static Labels group(GroupMetrics g) {
    return Labels.of("group", Integer.toString(g.group()));
  }
}
