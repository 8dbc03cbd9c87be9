package dev.lightspeed.orchestrator.cluster;

/**
 * One node's view of one group, the row `lightspeed cluster status` will print (issue 17).
 *
 * @param group the group's index
 * @param node the node reporting
 * @param role LEADER, FOLLOWER, CANDIDATE or LISTENER
 * @param term the node's current Raft term
 * @param leader the leader this node knows of, or "" if none
 * @param commitIndex the highest index the node knows to be committed
 * @param appliedIndex the highest index applied to its state machine
 * @param snapshotIndex the index of its newest snapshot, or -1 if it has none
 * @param logStartIndex the first index still in its log: entries before it were purged after a
 *     snapshot, so a follower that lacks them is sent the snapshot
 */
public record GroupStatus(
    int group,
    String node,
    String role,
    long term,
    String leader,
    long commitIndex,
    long appliedIndex,
    long snapshotIndex,
    long logStartIndex) {}
