package dev.lightspeed.orchestrator.cluster;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lightspeed.orchestrator.v1.ClusterConfig;
import dev.lightspeed.orchestrator.v1.ClusterPeer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Start-up refusals of a node; none of them gets as far as opening a port. */
class ClusterNodeTest {
  @TempDir Path dataDir;

  /** Free ports all the same: should a refusal regress, the node must not take a fixed port. */
  private static ClusterLayout layout(String name) throws IOException {
    ClusterConfig.Builder config = ClusterConfig.newBuilder().setName(name).setGroups(2);
    for (int i = 1; i <= 3; i++) {
      config.addPeers(ClusterPeer.newBuilder().setId("n" + i)
          .setRaftAddress("127.0.0.1:" + LocalCluster.freePort())
          .setApiAddress("127.0.0.1:" + LocalCluster.freePort()));
    }
    return new ClusterLayout(config.build());
  }

  @Test
  void aNodeIdThatIsNotInTheFileIsRefused() throws Exception {
    assertThatThrownBy(() -> ClusterNode.start(layout("prod"), "n7", dataDir,
            g -> new AppendOnlyTestState(), RaftTuning.defaults()))
        .isInstanceOf(InvalidClusterConfig.class)
        .hasMessageContaining("node id 'n7' is not one of the cluster file's peers (n1, n2, n3)");
  }

  @Test
  void aDataDirOfAnotherClusterIsRefused() throws IOException {
    Path foreign = dataDir.resolve("raft")
        .resolve(ClusterLayout.groupId("staging", 0).getUuid().toString());
    Files.createDirectories(foreign);
    assertThatThrownBy(() -> ClusterNode.start(layout("prod"), "n1", dataDir,
            g -> new AppendOnlyTestState(), RaftTuning.defaults()))
        .isInstanceOf(IOException.class)
        .hasMessageContaining(foreign + " holds a Raft group that is not one of cluster 'prod'");
  }
}
