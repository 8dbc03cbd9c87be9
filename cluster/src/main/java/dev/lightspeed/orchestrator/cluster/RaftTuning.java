package dev.lightspeed.orchestrator.cluster;

import java.time.Duration;

/**
 * The Raft settings a node runs with. {@link #defaults()} is for production; tests shrink the
 * log segments and the snapshot interval to exercise log purge and snapshot installation.
 *
 * @param snapshotEveryEntries a group takes a snapshot after this many entries since the last
 *     one, and then purges its closed log segments up to the snapshot's index; a follower that
 *     needs a purged entry is sent the snapshot instead
 * @param segmentBytes size of a Raft log segment file; only closed segments are purged
 * @param electionTimeoutMin a follower that hears no leader for a random time between min and
 *     max starts an election
 * @param electionTimeoutMax see {@code electionTimeoutMin}
 * @param requestTimeout how long a client waits for one attempt before it retries (on another
 *     node if the leader went away)
 */
public record RaftTuning(
    long snapshotEveryEntries,
    long segmentBytes,
    Duration electionTimeoutMin,
    Duration electionTimeoutMax,
    Duration requestTimeout) {

  public static RaftTuning defaults() {
    return new RaftTuning(
        100_000, 8L << 20, Duration.ofMillis(1_000), Duration.ofMillis(2_000),
        Duration.ofSeconds(5));
  }
}
