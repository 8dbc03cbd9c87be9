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
 *     node if the leader went away). A leader that stops answering without closing its
 *     connections (a frozen process, a partition) holds the calls already sent to it, and the
 *     ones after them in the client's order, for this long: it bounds fail-over from such a
 *     leader from below, so it is kept close to the election timeout. A retry of a slow but
 *     alive leader's call is answered from its retry cache, never applied twice.
 * @param clientRetries how a call waits for a leader, in Ratis' {@code MultipleLinearRandomRetry}
 *     form "sleep, count, sleep, count, ...": when they run out the call fails UNAVAILABLE
 */
public record RaftTuning(
    long snapshotEveryEntries,
    long segmentBytes,
    Duration electionTimeoutMin,
    Duration electionTimeoutMax,
    Duration requestTimeout,
    String clientRetries) {

  /**
   * 40 retries about 50 ms apart (a new leader is usually elected within the election timeout,
   * and a call should reach it at once), then 100 about 200 ms apart: about 22 s of waiting plus
   * the attempts themselves before a call fails UNAVAILABLE. Ratis draws each sleep from
   * 0.5x-1.5x of its value, so the nodes' clients do not retry in step. A fixed 200 ms sleep (as
   * before) cost up to 200 ms at each hop of a fail-over: to the dead leader, to a follower still
   * naming it, to the new leader not ready yet.
   */
  public static final String DEFAULT_CLIENT_RETRIES = "50ms, 40, 200ms, 100";

  public RaftTuning {
    if (org.apache.ratis.retry.MultipleLinearRandomRetry.parseCommaSeparated(clientRetries)
        == null) {
      throw new IllegalArgumentException("clientRetries '" + clientRetries
          + "' is not \"sleep, count, ...\" (e.g. \"" + DEFAULT_CLIENT_RETRIES + "\")");
    }
  }

  /** With the default client retries. */
  public RaftTuning(long snapshotEveryEntries, long segmentBytes, Duration electionTimeoutMin,
      Duration electionTimeoutMax, Duration requestTimeout) {
    this(snapshotEveryEntries, segmentBytes, electionTimeoutMin, electionTimeoutMax,
        requestTimeout, DEFAULT_CLIENT_RETRIES);
  }

  public static RaftTuning defaults() {
    return new RaftTuning(
        100_000, 8L << 20, Duration.ofMillis(1_000), Duration.ofMillis(2_000),
        Duration.ofSeconds(3));
  }

  /** The same with another snapshot interval ({@code --raft-snapshot-every}). */
  public RaftTuning withSnapshotEveryEntries(long entries) {
    return new RaftTuning(entries, segmentBytes, electionTimeoutMin, electionTimeoutMax,
        requestTimeout, clientRetries);
  }

  /** The same with other client retries (tests that expect a refusal shorten them). */
  public RaftTuning withClientRetries(String retries) {
    return new RaftTuning(snapshotEveryEntries, segmentBytes, electionTimeoutMin,
        electionTimeoutMax, requestTimeout, retries);
  }
}
