package dev.lightspeed.orchestrator.cluster;

import static dev.lightspeed.orchestrator.cluster.AppendOnlyTestState.command;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three nodes in this JVM replicate a test state (AppendOnlyTestState, a stand-in for the
 * orchestrator's) through Ratis over loopback gRPC. Every wait is a bounded poll of a condition;
 * nothing asserts on timing.
 */
@Timeout(value = 3, unit = java.util.concurrent.TimeUnit.MINUTES)
class ReplicationTest {
  @TempDir Path dataDirs;

  private static String text(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  @Test
  void writesAreAppliedOnEveryReplicaOfEveryGroupInTheSameOrderWithTheSubmittersTime()
      throws Exception {
    try (LocalCluster cluster = LocalCluster.start(3, 2, RaftTuning.defaults(), dataDirs)) {
      // One Raft server per node holds both groups (multi-raft).
      for (String node : cluster.runningNodes()) {
        assertThat(cluster.node(node).groups()).containsExactly(0, 1);
      }
      for (int group = 0; group < 2; group++) {
        GroupClient client = cluster.client(group);
        for (int i = 1; i <= 10; i++) {
          GroupClient.Reply reply = client.write(command(1_000L * i, "g" + group + "-" + i));
          assertThat(text(reply.bytes())).isEqualTo(String.valueOf(i));
        }
      }
      for (int group = 0; group < 2; group++) {
        cluster.awaitApplied(group, 10);
        List<String> n1 = cluster.state("n1", group).lines();
        assertThat(cluster.state("n2", group).lines()).isEqualTo(n1);
        assertThat(cluster.state("n3", group).lines()).isEqualTo(n1);
        // The time each replica applied is the one the submitter put in the command.
        assertThat(n1).hasSize(10);
        assertThat(n1.get(0)).endsWith("@1000:g" + group + "-1");
        assertThat(n1.get(9)).endsWith("@10000:g" + group + "-10");
      }
    }
  }

  @Test
  void theLeaderEncodesItsRepliesWhenSending_followersAtOnce_andEachReplicaOnlyOnce()
      throws Exception {
    try (LocalCluster cluster = LocalCluster.start(3, 1, RaftTuning.defaults(), dataDirs)) {
      GroupClient client = cluster.client(0);
      for (int i = 1; i <= 20; i++) {
        assertThat(text(client.write(command(i, "w" + i)).bytes()))
            .isEqualTo(String.valueOf(i));
      }
      String leader = cluster.awaitLeader(0);
      cluster.awaitApplied(0, 20);
      for (String node : cluster.runningNodes()) {
        // Every replica encodes each reply once: the leader when it sends it, a follower at
        // once (it waits in Ratis' retry cache as bytes, not as the apply's result objects).
        assertThat(cluster.state(node, 0).repliesEncoded()).as(node).isEqualTo(20);
        assertThat(cluster.state(node, 0).encodedOnTheApplyThread()).as(node)
            .isEqualTo(node.equals(leader) ? 0 : 20);
      }
    }
  }

  @Test
  void readsThroughTheLeaderSeeTheLastWriteAndStaleReadsWaitForTheirIndex() throws Exception {
    try (LocalCluster cluster = LocalCluster.start(3, 1, RaftTuning.defaults(), dataDirs)) {
      GroupClient client = cluster.client(0);
      GroupClient.Reply last = null;
      for (int i = 1; i <= 3; i++) {
        last = client.write(command(i, "w" + i));
      }
      String expected = last.index() + "@3:w3";
      assertThat(text(client.read("last".getBytes(StandardCharsets.UTF_8)).bytes()))
          .isEqualTo(expected);
      // Each node answers from its own state once it has applied the write's index (a
      // follower may be behind when the read arrives; then the read waits).
      for (String node : cluster.runningNodes()) {
        GroupClient.Reply stale = client.staleRead(
            "last".getBytes(StandardCharsets.UTF_8), node, last.index());
        assertThat(text(stale.bytes())).as("stale read on %s", node).isEqualTo(expected);
      }
    }
  }

  @Test
  void whenTheLeaderStopsAnotherIsElectedWritesGoOnAndTheOldLeaderCatchesUpFromTheLog()
      throws Exception {
    try (LocalCluster cluster = LocalCluster.start(3, 1, RaftTuning.defaults(), dataDirs)) {
      GroupClient client = cluster.client(0);
      for (int i = 1; i <= 5; i++) {
        client.write(command(i, "before-" + i));
      }
      String oldLeader = cluster.awaitLeader(0);
      long oldLeaderAt = cluster.status(oldLeader, 0).appliedIndex();
      cluster.stopNode(oldLeader);

      // The same client finds the new leader by itself (it retries on the other members).
      for (int i = 6; i <= 10; i++) {
        client.write(command(i, "after-" + i));
      }
      String newLeader = cluster.awaitLeader(0);
      assertThat(newLeader).isNotEqualTo(oldLeader);
      cluster.awaitApplied(0, 10);

      cluster.startNode(oldLeader);
      cluster.awaitApplied(0, 10);
      List<String> expected = cluster.state(newLeader, 0).lines();
      for (String node : cluster.runningNodes()) {
        assertThat(cluster.state(node, 0).lines()).as(node).isEqualTo(expected);
      }
      // Nothing was purged, so the old leader recovered from its own disk (Ratis snapshots a
      // group when its server stops, then replays the log after it) and got the writes it
      // missed by AppendEntries: no snapshot from the leader replaced its state.
      assertThat(cluster.state(oldLeader, 0).restoredAt())
          .allSatisfy(index -> assertThat(index).isLessThanOrEqualTo(oldLeaderAt));
    }
  }

  @Test
  void aNodeThatMissedPurgedEntriesIsSentASnapshotAndThenTheLog() throws Exception {
    // Tiny segments and a snapshot every 10 entries, so that a few dozen writes purge the log.
    RaftTuning tuning = new RaftTuning(10, 1024, Duration.ofMillis(1_000),
        Duration.ofMillis(2_000), Duration.ofSeconds(5));
    try (LocalCluster cluster = LocalCluster.start(3, 1, tuning, dataDirs)) {
      GroupClient client = cluster.client(0);
      for (int i = 1; i <= 5; i++) {
        client.write(command(i, "early-" + i));
      }
      String leader = cluster.awaitLeader(0);
      String behind = cluster.runningNodes().stream()
          .filter(n -> !n.equals(leader)).findFirst().orElseThrow();
      cluster.awaitApplied(0, 5);
      long behindAt = cluster.status(behind, 0).appliedIndex();
      cluster.stopNode(behind);

      for (int i = 6; i <= 60; i++) {
        client.write(command(i, "late-" + i + "-padding-to-fill-log-segments"));
      }
      // Every running node snapshotted and purged past what the stopped node has.
      for (String node : cluster.runningNodes()) {
        LocalCluster.await(node + " to purge its log past index " + behindAt,
            () -> cluster.status(node, 0).logStartIndex() > behindAt + 1,
            () -> cluster.status(node, 0).toString());
      }

      cluster.startNode(behind);
      cluster.awaitApplied(0, 60);
      // The snapshot brought every entry up to its index, the log the rest.
      List<String> expected = cluster.state(leader, 0).lines();
      assertThat(cluster.state(behind, 0).lines()).isEqualTo(expected);
      assertThat(cluster.state(behind, 0).restoredAt()).anySatisfy(
          index -> assertThat(index).isGreaterThan(behindAt));
      // And writes after the installation are replicated to it as usual.
      GroupClient.Reply more = client.write(command(61, "after-install"));
      cluster.awaitApplied(0, 61);
      assertThat(cluster.state(behind, 0).lines().get(60))
          .isEqualTo(more.index() + "@61:after-install");
    }
  }
}
