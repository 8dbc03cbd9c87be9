package dev.lightspeed.orchestrator.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.v1.ClusterConfig;
import dev.lightspeed.orchestrator.v1.ClusterPeer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cluster's membership-change lock (docs/cluster.md, "Two changes at once"). */
class ChangeLockTest {
  @TempDir Path dataDirs;

  @Test
  void oneHolderAtATimeUntilItGivesTheLockBackOrItsTimeRunsOut() throws Exception {
    ChangeLock lock = new ChangeLock();
    assertThat(ChangeLock.refusal(lock.apply(ChangeLock.acquire("n1", 1_000, 600_000))))
        .isNull();
    assertThat(ChangeLock.refusal(lock.apply(ChangeLock.acquire("n2", 2_000, 600_000))))
        .isEqualTo(new ChangeLock.Held("n1", 601_000));
    // The same holder again (a half-done change sent again to the same node): at once.
    assertThat(ChangeLock.refusal(lock.apply(ChangeLock.acquire("n1", 3_000, 600_000))))
        .isNull();
    // Only the holder gives it back.
    lock.apply(ChangeLock.release("n2", 4_000));
    assertThat(lock.held()).isEqualTo(new ChangeLock.Held("n1", 603_000));
    lock.apply(ChangeLock.release("n1", 5_000));
    assertThat(lock.held()).isNull();
    // A holder that died: the lock is free once its time has run out, by the entry's clock.
    lock.apply(ChangeLock.acquire("n3", 10_000, 600_000));
    assertThat(ChangeLock.refusal(lock.apply(ChangeLock.acquire("n2", 609_999, 600_000))))
        .isEqualTo(new ChangeLock.Held("n3", 610_000));
    assertThat(ChangeLock.refusal(lock.apply(ChangeLock.acquire("n2", 610_000, 600_000))))
        .isNull();
  }

  @Test
  void noListOfNodesIsReadAsALockEntry() {
    byte[] config = ClusterConfig.newBuilder().setName("prod").setGroups(8)
        .addPeers(ClusterPeer.newBuilder().setId("n1").setRaftAddress("127.0.0.1:6001")
            .setApiAddress("127.0.0.1:50051"))
        .build().toByteArray();
    assertThat(ChangeLock.isLockEntry(config)).isFalse();
    assertThat(ChangeLock.isLockEntry(ClusterConfig.getDefaultInstance().toByteArray()))
        .isFalse();
    assertThat(ChangeLock.isLockEntry(ChangeLock.acquire("n1", 1, 1))).isTrue();
  }

  /**
   * A change sent to one node while another node's change holds the lock is refused before it
   * touches anything; once the lock is given back it runs. Without the lock, both would run.
   */
  @Test
  void aChangeWhileAnotherNodesChangeRunsIsRefusedAndChangesNothing() throws Exception {
    try (LocalCluster cluster = LocalCluster.start(4, 2, RaftTuning.defaults(), dataDirs)) {
      cluster.client(0).write(AppendOnlyTestState.command(1, "before"));
      // n2's change is under way (as MembershipChanges takes the lock).
      ClusterNode n2 = cluster.node("n2");
      writeToMembership(n2, ChangeLock.acquire("n2", System.currentTimeMillis(), 600_000));

      MembershipChanges viaN1 = new MembershipChanges(cluster.node("n1"));
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> viaN1.remove("n4"))
          .isInstanceOfSatisfying(MembershipChanges.Refused.class, r ->
              assertThat(r.kind()).isEqualTo(MembershipChanges.Refused.Kind.IN_PROGRESS))
          .hasMessageContaining("sent to node 'n2'");
      for (String node : cluster.runningNodes()) {
        assertThat(cluster.node(node).layout().config().getPeersCount()).as(node).isEqualTo(4);
      }

      writeToMembership(n2, ChangeLock.release("n2", System.currentTimeMillis()));
      MembershipChanges.Result removed = viaN1.remove("n4");
      assertThat(removed.after().getPeersList()).extracting(ClusterPeer::getId)
          .containsExactly("n1", "n2", "n3");
    }
  }

  private static void writeToMembership(ClusterNode node, byte[] entry) throws Exception {
    try (org.apache.ratis.client.RaftClient client = org.apache.ratis.client.RaftClient
        .newBuilder()
        .setProperties(RaftProps.of(node.tuning()))
        .setRaftGroup(node.layout().membershipGroup())
        .build()) {
      assertThat(client.io().send(org.apache.ratis.protocol.Message.valueOf(
          org.apache.ratis.thirdparty.com.google.protobuf.ByteString.copyFrom(entry)))
          .isSuccess()).isTrue();
    }
  }
}
