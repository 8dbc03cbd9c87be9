package dev.lightspeed.orchestrator.cluster;

/**
 * One node's Raft figures for one group, read at a scrape (docs/operations.md, "Cluster
 * metrics"). The state (role, term, indices, the followers' lag) is read from the group's Ratis
 * division ({@code getInfo()}, its log, its state machine's newest snapshot); the counters are
 * Ratis' own, read from its metric registries ({@code MetricRegistries}), so they count what Ratis
 * counted, since this node's start.
 *
 * @param group the group's index
 * @param leader whether this node leads the group
 * @param term this node's current term
 * @param commitIndex the highest index this node knows to be committed
 * @param appliedIndex the highest index this node's replica has applied
 * @param lastLogIndex the index of the last entry in this node's log (committed or not)
 * @param snapshotIndex the index of this node's newest snapshot of the group, -1 when it has none
 * @param followerMaxLag on the leader, how many entries the furthest-behind follower lacks (the
 *     last log index minus its match index); -1 on a node that is not the leader
 * @param leaderChanges how often this node saw the group's leader change since its start
 * @param electionsWon Ratis' {@code leader_election.electionCount}: elections this node won
 * @param electionTimeouts Ratis' {@code leader_election.timeoutCount}: elections this node
 *     started because it heard no leader in time
 * @param leadershipTransfers Ratis' {@code leader_election.transferLeadershipCount}
 * @param snapshotsInstalled Ratis' {@code server.numInstallSnapshot}: snapshots installed on this
 *     node's replica by the leader
 */
public record GroupMetrics(
    int group,
    boolean leader,
    long term,
    long commitIndex,
    long appliedIndex,
    long lastLogIndex,
    long snapshotIndex,
    long followerMaxLag,
    long leaderChanges,
    long electionsWon,
    long electionTimeouts,
    long leadershipTransfers,
    long snapshotsInstalled) {}
