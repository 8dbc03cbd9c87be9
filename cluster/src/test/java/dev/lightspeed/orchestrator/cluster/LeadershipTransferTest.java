package dev.lightspeed.orchestrator.cluster;

import static dev.lightspeed.orchestrator.cluster.AppendOnlyTestState.command;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.TransferLeadershipRequest;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.impl.FailedTransfers;
import org.apache.ratis.server.impl.StuckTransferRelease;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Leadership transfers that fail (docs/cluster.md, "A leadership transfer that fails"): the
 * group's leader takes writes again, and a graceful stop hands each group to a member that is up.
 */
class LeadershipTransferTest {
  @TempDir Path dataDirs;

  private static RaftServer.Division division(LocalCluster cluster, String node, int group)
      throws Exception {
    return cluster.node(node).server().getDivision(cluster.layout.groupId(group));
  }

  /**
   * A transfer whose try threw left the leader "stepping down" with no timeout to end it; the
   * node's watchdog ({@link ClusterNode#releaseStuckTransfers}) releases it after 5 s, within the
   * client's resends. Without the watchdog, the write is refused "is stepping down" (as in
   * ClusterMembershipTest's CI failure) and the leader stays stuck.
   */
  @Test
  void aLeaderLeftSteppingDownByATransferThatThrewTakesWritesAgain() throws Exception {
    try (LocalCluster cluster = LocalCluster.start(3, 1, RaftTuning.defaults(), dataDirs)) {
      GroupClient client = cluster.client(0);
      client.write(command(1, "before"));
      String leader = cluster.awaitLeader(0);

      FailedTransfers.failAtOnce(division(cluster, leader, 0));
      assertThat(FailedTransfers.steppingDown(division(cluster, leader, 0))).isTrue();

      client.write(command(2, "after"));
      assertThat(FailedTransfers.steppingDown(division(cluster, leader, 0))).isFalse();
      assertThat(cluster.awaitLeader(0)).as("released, not replaced by an election")
          .isEqualTo(leader);
      cluster.awaitApplied(0, 2);
    }
  }

  /**
   * A transfer that failed with a reply (a StartLeaderElection RPC that failed at once: a peer
   * that is down) is released at the watchdog's next look, half a second.
   */
  @Test
  void aLeaderLeftSteppingDownByATransferThatFailedWithAReplyTakesWritesAgain()
      throws Exception {
    try (LocalCluster cluster = LocalCluster.start(3, 1, RaftTuning.defaults(), dataDirs)) {
      GroupClient client = cluster.client(0);
      client.write(command(1, "before"));
      String leader = cluster.awaitLeader(0);

      FailedTransfers.failWithReply(division(cluster, leader, 0));
      assertThat(FailedTransfers.steppingDown(division(cluster, leader, 0))).isTrue();

      LocalCluster.await("the watchdog releases the leader",
          () -> !steppingDown(cluster, leader), () -> "still stepping down");
      client.write(command(2, "after"));
      assertThat(cluster.awaitLeader(0)).isEqualTo(leader);
      cluster.awaitApplied(0, 2);
    }
  }

  /**
   * What the release touches: a pending transfer only once its call is over (its own request,
   * never another's), or once it is older than any transfer may take.
   */
  @Test
  void onlyTheRequestOfACallThatEndedOrOneTooOldIsReleased() throws Exception {
    try (LocalCluster cluster = LocalCluster.start(3, 1, RaftTuning.defaults(), dataDirs)) {
      cluster.client(0).write(command(1, "before"));
      String leader = cluster.awaitLeader(0);
      RaftServer.Division division = division(cluster, leader, 0);
      StuckTransferRelease release = new StuckTransferRelease(60_000);
      assertThat(release.releaseIfStuck(division, System.nanoTime())).as("nothing pending")
          .isNull();

      TransferLeadershipRequest stuck = FailedTransfers.failAtOnce(division);
      long now = System.nanoTime();
      assertThat(release.releaseIfStuck(division, now)).as("pending, young").isNull();
      TransferLeadershipRequest another = new TransferLeadershipRequest(ClientId.randomId(),
          stuck.getServerId(), stuck.getRaftGroupId(), 0, stuck.getNewLeader(), 1_000);
      assertThat(release.releaseAfterCall(division, another)).as("another call's").isFalse();
      assertThat(FailedTransfers.steppingDown(division)).isTrue();

      assertThat(release.releaseIfStuck(division, now + 61_000_000_000L))
          .contains("still pending after 60000 ms");
      assertThat(FailedTransfers.steppingDown(division)).isFalse();

      TransferLeadershipRequest again = FailedTransfers.failAtOnce(division);
      assertThat(release.releaseAfterCall(division, again)).isTrue();
      assertThat(FailedTransfers.steppingDown(division)).isFalse();
    }
  }

  private static boolean steppingDown(LocalCluster cluster, String node) {
    try {
      return FailedTransfers.steppingDown(division(cluster, node, 0));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /**
   * A graceful stop does not ask a member that is down to take a group over: that would cost the
   * whole hand-over timeout (3 s) per group before the next member is asked, or, failing at
   * once, leave the leader stuck (above).
   */
  @Test
  void aGracefulStopHandsTheGroupToAMemberThatIsUp() throws Exception {
    try (LocalCluster cluster = LocalCluster.start(3, 1, RaftTuning.defaults(), dataDirs)) {
      GroupClient client = cluster.client(0);
      client.write(command(1, "before"));
      String leader = cluster.awaitLeader(0);
      // The member the hand-over would ask first is the one that is down.
      List<String> others = division(cluster, leader, 0).getGroup().getPeers().stream()
          .map(RaftPeer::getId).map(Object::toString).filter(id -> !id.equals(leader)).toList();
      String down = others.get(0);
      String up = others.get(1);
      cluster.stopNode(down);
      // Let the leader see that it is down (an election timeout without an answer).
      Thread.sleep(RaftTuning.defaults().electionTimeoutMin().toMillis() + 200);

      long start = System.nanoTime();
      cluster.stopNode(leader);
      long stopMs = (System.nanoTime() - start) / 1_000_000;

      assertThat(stopMs).as("the stop waited on the member that is down").isLessThan(2_500);
      assertThat(cluster.awaitLeader(0)).isEqualTo(up);
      cluster.startNode(down);
      client.write(command(2, "after"));
      cluster.awaitApplied(0, 2);
    }
  }
}
