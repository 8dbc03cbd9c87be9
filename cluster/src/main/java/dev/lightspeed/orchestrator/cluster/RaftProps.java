package dev.lightspeed.orchestrator.cluster;

import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;

/** {@link RaftTuning} as Ratis' properties, the same for every node and client of a cluster. */
final class RaftProps {
  private RaftProps() {}

  static RaftProperties of(RaftTuning tuning) {
    RaftProperties p = new RaftProperties();
    RaftServerConfigKeys.Rpc.setTimeoutMin(p, millis(tuning.electionTimeoutMin().toMillis()));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, millis(tuning.electionTimeoutMax().toMillis()));
    // Reads through the leader confirm its leadership with a heartbeat round first (Raft's
    // read index, section 6.4 of the Raft thesis): a deposed leader cannot answer from an old
    // state. Stale reads are a separate call (GroupClient.staleRead).
    RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, tuning.snapshotEveryEntries());
    RaftServerConfigKeys.Snapshot.setCreationGap(p, Math.min(tuning.snapshotEveryEntries(), 1024));
    // Keep the newest two snapshot files (the one being sent to a follower may be the older).
    RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, 2);
    // Purge the log up to each snapshot, also when a follower still lacks those entries: that
    // follower gets the snapshot instead. Otherwise one stopped node would make the log of every
    // other node grow without bound.
    RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
    RaftServerConfigKeys.Log.setPurgeGap(p, (int) Math.min(tuning.snapshotEveryEntries(), 1024));
    RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf(tuning.segmentBytes()));
    RaftClientConfigKeys.Rpc.setRequestTimeout(p, millis(tuning.requestTimeout().toMillis()));
    return p;
  }

  private static TimeDuration millis(long ms) {
    return TimeDuration.valueOf(ms, TimeUnit.MILLISECONDS);
  }
}
