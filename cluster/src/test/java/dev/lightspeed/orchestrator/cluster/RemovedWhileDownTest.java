package dev.lightspeed.orchestrator.cluster;

import static dev.lightspeed.orchestrator.cluster.AppendOnlyTestState.command;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node removed from the cluster while it was down learns it when it comes back
 * (docs/cluster.md, "A node removed while it was down"): it refuses calls, marks its data dir and
 * drops its groups, and the cluster goes on without it.
 */
class RemovedWhileDownTest {
  @TempDir Path dataDirs;

  @Test
  void aNodeRemovedWhileItWasDownLearnsItWhenItComesBack() throws Exception {
    try (LocalCluster cluster = LocalCluster.start(4, 2, RaftTuning.defaults(), dataDirs)) {
      GroupClient client = cluster.client(0);
      client.write(command(1, "before"));
      cluster.stopNode("n4");

      MembershipChanges.Result removed = new MembershipChanges(cluster.node("n1")).remove("n4");
      assertThat(removed.after().getPeersList()).extracting(p -> p.getId())
          .containsExactly("n1", "n2", "n3");

      // Its data dir still says it is a member: it starts, and finds out on its own.
      assertThat(MembershipFile.removed(dataDirs.resolve("n4"))).isEmpty();
      cluster.startNode("n4");
      ClusterNode n4 = cluster.node("n4");
      assertThat(n4.isMember()).as("before it looked").isTrue();
      LocalCluster.await("n4 learns that it was removed", n4::isRemoved,
          () -> "n4 groups " + n4.groups());
      assertThat(n4.isMember()).isFalse();
      LocalCluster.await("n4 drops its groups", () -> n4.groups().isEmpty(),
          () -> "n4 groups " + n4.groups());
      assertThat(MembershipFile.removed(dataDirs.resolve("n4"))).isPresent();

      // A client of the group as it now is (as the nodes rebuild theirs on a change): one built
      // with the old list may still ask n4, which now answers "group not found".
      try (GroupClient now = new GroupClient(
          cluster.layout.withPeers(removed.after().getPeersList()), 0, cluster.tuning)) {
        now.write(command(2, "after"));
      }
      for (String node : new String[] {"n1", "n2", "n3"}) {
        assertThat(cluster.node(node).isRemoved()).as(node).isFalse();
      }
    }
  }
}
