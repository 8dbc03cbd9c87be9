package dev.lightspeed.orchestrator.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lightspeed.orchestrator.v1.ClusterConfig;
import dev.lightspeed.orchestrator.v1.ClusterPeer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterConfigsTest {
  private static final String THREE_NODES = """
      {
        "name": "prod-eu",
        "groups": 8,
        "peers": [
          {"id": "n1", "raftAddress": "10.0.0.1:6001", "apiAddress": "10.0.0.1:50051"},
          {"id": "n2", "raftAddress": "10.0.0.2:6001", "apiAddress": "10.0.0.2:50051"},
          {"id": "n3", "raftAddress": "10.0.0.3:6001", "apiAddress": "10.0.0.3:50051"}
        ]
      }
      """;

  private static ClusterConfig valid() throws InvalidClusterConfig {
    return ClusterConfigs.parse(THREE_NODES);
  }

  private static ClusterPeer peer(String id, String raft, String api) {
    return ClusterPeer.newBuilder().setId(id).setRaftAddress(raft).setApiAddress(api).build();
  }

  @Test
  void readsTheDocumentedExampleWithReplicationFactorThreeByDefault(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("cluster.json");
    Files.writeString(file, THREE_NODES);
    ClusterConfig config = ClusterConfigs.load(file);
    assertThat(config.getName()).isEqualTo("prod-eu");
    assertThat(config.getGroups()).isEqualTo(8);
    assertThat(ClusterConfigs.replicationFactor(config)).isEqualTo(3);
    assertThat(config.getPeersList()).extracting(ClusterPeer::getId)
        .containsExactly("n1", "n2", "n3");
    assertThat(ClusterConfigs.problems(config)).isEmpty();
    assertThat(ClusterConfigs.requireNode(config, "n2").getApiAddress())
        .isEqualTo("10.0.0.2:50051");
  }

  @Test
  void aMisspeltFieldIsRefusedNotIgnored() {
    assertThatThrownBy(() -> ClusterConfigs.parse("{\"name\": \"a\", \"group\": 3}"))
        .isInstanceOf(InvalidClusterConfig.class)
        .hasMessageContaining("cluster file is not a ClusterConfig")
        .hasMessageContaining("group");
  }

  @Test
  void anUnreadableFileSaysWhichFile(@TempDir Path dir) {
    Path missing = dir.resolve("nope.json");
    assertThatThrownBy(() -> ClusterConfigs.load(missing))
        .isInstanceOf(InvalidClusterConfig.class)
        .hasMessageContaining("cannot read cluster file " + missing);
  }

  @Test
  void anUnknownNodeIdListsTheKnownOnes() throws Exception {
    assertThatThrownBy(() -> ClusterConfigs.requireNode(valid(), "n9"))
        .isInstanceOf(InvalidClusterConfig.class)
        .hasMessageContaining("node id 'n9' is not one of the cluster file's peers (n1, n2, n3)")
        .hasMessageContaining("--node-id");
  }

  @Test
  void groupsMustBeAtLeastOne() throws Exception {
    assertThat(ClusterConfigs.problems(valid().toBuilder().setGroups(0).build()))
        .containsExactly("groups is 0: set it to 1 or more (the number of Raft groups; it"
            + " cannot change later, so leave room to grow, e.g. 8)");
  }

  @Test
  void fewerPeersThanTheReplicationFactorIsRefused() throws Exception {
    ClusterConfig two = valid().toBuilder().removePeers(2).build();
    assertThat(ClusterConfigs.problems(two)).containsExactly(
        "peers lists 2 node(s), fewer than replicationFactor 3: add peers or lower"
            + " replicationFactor");
    ClusterConfig fiveOfThree = valid().toBuilder().setReplicationFactor(5).build();
    assertThat(ClusterConfigs.problems(fiveOfThree)).singleElement().asString()
        .contains("fewer than replicationFactor 5");
  }

  @Test
  void anEvenOrNegativeReplicationFactorIsRefused() throws Exception {
    assertThat(ClusterConfigs.problems(valid().toBuilder().setReplicationFactor(2).build()))
        .singleElement().asString()
        .startsWith("replicationFactor is 2: use an odd number (3 or 5)");
    assertThat(ClusterConfigs.problems(valid().toBuilder().setReplicationFactor(-3).build()))
        .singleElement().asString().startsWith("replicationFactor is -3: use 3");
  }

  @Test
  void duplicateIdsAndAddressesNameBothPlaces() throws Exception {
    ClusterConfig config = valid().toBuilder()
        .addPeers(peer("n1", "10.0.0.4:6001", "10.0.0.4:50051"))
        .addPeers(peer("n5", "10.0.0.1:6001", "10.0.0.5:50051"))
        .addPeers(peer("n6", "10.0.0.6:6001", "10.0.0.2:6001"))
        .build();
    assertThat(ClusterConfigs.problems(config)).containsExactly(
        "peers[3].id 'n1' is already the id of peers[0]: give every node its own id",
        "peers[4].raftAddress 10.0.0.1:6001 is also peers[0].raftAddress: every Raft and API"
            + " address must be a port of its own",
        "peers[5].apiAddress 10.0.0.2:6001 is also peers[1].raftAddress: every Raft and API"
            + " address must be a port of its own");
  }

  @Test
  void hostNamesCompareWithoutCase() throws Exception {
    ClusterConfig config = valid().toBuilder()
        .addPeers(peer("n4", "NODE.example:6001", "node.example:7001"))
        .addPeers(peer("n5", "node.EXAMPLE:6001", "node.example:7002"))
        .build();
    assertThat(ClusterConfigs.problems(config)).singleElement().asString()
        .startsWith("peers[4].raftAddress node.example:6001 is also peers[3].raftAddress");
  }

  @Test
  void badAddressesIdsAndNamesSayWhatIsExpected() throws Exception {
    ClusterConfig config = valid().toBuilder()
        .setName("Prod EU")
        .setPeers(0, peer("n 1", "10.0.0.1", "10.0.0.1:99999"))
        .setPeers(1, peer("n2", "::1:6001", "[::1]:6002"))
        .build();
    assertThat(ClusterConfigs.problems(config)).containsExactly(
        "name 'Prod EU' must be 1 to 63 lowercase letters, digits or '-', starting and ending"
            + " with a letter or digit (e.g. \"prod-eu\")",
        "peers[0].id 'n 1' must be 1 to 64 letters, digits, '-' or '_' (e.g. \"n1\")",
        "peers[0].raftAddress '10.0.0.1' is not host:port (e.g. \"10.0.0.1:6001\")",
        "peers[0].apiAddress '10.0.0.1:99999' has port 99999, not 1 to 65535"
            + " (e.g. \"10.0.0.1:6001\")",
        "peers[1].raftAddress '::1:6001' is not host:port (write an IPv6 host in brackets:"
            + " [::1]:6001) (e.g. \"10.0.0.1:6001\")");
  }

  @Test
  void validateListsEveryProblemInOneMessage() throws Exception {
    ClusterConfig config = valid().toBuilder().setGroups(0).setName("").build();
    assertThatThrownBy(() -> ClusterConfigs.validate(config))
        .isInstanceOf(InvalidClusterConfig.class)
        .hasMessageStartingWith("invalid cluster file: name '' must be")
        .hasMessageContaining("; groups is 0");
  }

  @Test
  void theLayoutGivesEachGroupAStableIdOfItsCluster() throws Exception {
    ClusterLayout layout = new ClusterLayout(valid());
    assertThat(layout.groups()).isEqualTo(8);
    assertThat(layout.groupId(3)).isEqualTo(ClusterLayout.groupId("prod-eu", 3));
    assertThat(layout.groupId(3)).isNotEqualTo(ClusterLayout.groupId("prod-us", 3));
    assertThat(layout.indexOf(layout.groupId(5))).isEqualTo(5);
    assertThat(layout.raftGroup(0).getPeers()).hasSize(3);
    assertThatThrownBy(() -> new ClusterLayout(valid().toBuilder().setGroups(0).build()))
        .isInstanceOf(InvalidClusterConfig.class);
  }
}
