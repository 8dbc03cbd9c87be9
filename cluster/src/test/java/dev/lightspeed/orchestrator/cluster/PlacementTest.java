package dev.lightspeed.orchestrator.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PlacementTest {
  private static final List<String> FIVE = List.of("n1", "n2", "n3", "n4", "n5");

  @Test
  void aPipelinesGroupIsTheCrc32OfItsUtf8NameModuloTheGroups() {
    // The documented formula (docs/cluster.md), which any client can compute with its zlib.
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update("orders".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    Placement placement = new Placement("prod", 8, 3, FIVE);
    assertThat(placement.groupOf("orders")).isEqualTo((int) (crc.getValue() % 8));
    // Python: zlib.crc32(b"orders") == 3845127662; % 8 == 6. A change of the formula would move
    // the pipelines of a running cluster: it fails here.
    assertThat(placement.groupOf("orders")).isEqualTo(6);
    assertThat(Placement.groupOf("commandes-été", 8)).isEqualTo(7);
    assertThat(Placement.groupOf("", 8)).isZero(); // CRC-32 of nothing is 0
    // Non-ASCII names hash their UTF-8 bytes, as a client in any language would.
    crc.reset();
    crc.update("commandes-été".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    assertThat(placement.groupOf("commandes-été")).isEqualTo((int) (crc.getValue() % 8));
  }

  @Test
  void pipelinesSpreadOverAllGroups() {
    Placement placement = new Placement("prod", 8, 3, FIVE);
    int[] perGroup = new int[8];
    for (int i = 0; i < 8_000; i++) {
      perGroup[placement.groupOf("pipeline-" + i)]++;
    }
    for (int count : perGroup) {
      assertThat(count).isBetween(800, 1_200); // 1000 each on average
    }
  }

  @Test
  void onAFiveNodeClusterEveryGroupHasThreeDistinctMembersAndTheLoadIsBalanced() {
    // Rendezvous hashing puts a node in each group with probability 3/5, independently, so a
    // node's memberships over G groups are Binomial(G, 3/5): mean 0.6 G, standard deviation
    // sqrt(0.24 G). The documented bound (docs/cluster.md) is mean +- 3 standard deviations;
    // checked for 20 cluster names, i.e. 100 nodes' counts (fixed names: no run-to-run change).
    int groups = 30;
    double mean = groups * 3 / 5.0;
    double bound = 3 * Math.sqrt(groups * 0.6 * 0.4);
    for (int c = 0; c < 20; c++) {
      Placement placement = new Placement("cluster-" + c, groups, 3, FIVE);
      Map<String, Integer> memberships = new HashMap<>();
      for (int g = 0; g < groups; g++) {
        List<String> members = placement.membersOf(g);
        assertThat(members).hasSize(3).doesNotHaveDuplicates();
        assertThat(FIVE).containsAll(members);
        members.forEach(m -> memberships.merge(m, 1, Integer::sum));
        // groupsOf is membersOf read the other way.
        int group = g;
        members.forEach(m -> assertThat(placement.groupsOf(m)).contains(group));
      }
      assertThat(memberships).as("cluster-%d", c).hasSize(5);
      assertThat(memberships.values()).as("cluster-%d: %s", c, memberships)
          .allSatisfy(n -> assertThat((double) n).isBetween(mean - bound, mean + bound));
    }
  }

  @Test
  void theOrderOfPeersInTheFileDoesNotMatter() {
    Placement a = new Placement("prod", 16, 3, FIVE);
    Placement b = new Placement("prod", 16, 3, List.of("n4", "n2", "n5", "n1", "n3"));
    for (int g = 0; g < 16; g++) {
      assertThat(new HashSet<>(b.membersOf(g))).isEqualTo(new HashSet<>(a.membersOf(g)));
    }
  }

  @Test
  void addingANodeMovesOnlyTheGroupsItJoinsEachByOneMember() {
    int groups = 60;
    Placement before = new Placement("prod", groups, 3, FIVE);
    List<String> six = new ArrayList<>(FIVE);
    six.add("n6");
    Placement after = new Placement("prod", groups, 3, six);
    int moved = 0;
    for (int g = 0; g < groups; g++) {
      Set<String> old = new HashSet<>(before.membersOf(g));
      Set<String> now = new HashSet<>(after.membersOf(g));
      if (now.equals(old)) {
        continue; // an unrelated node: this group does not notice it
      }
      moved++;
      // The new node took exactly one place; the other two members stayed.
      assertThat(now).contains("n6");
      Set<String> stayed = new HashSet<>(now);
      stayed.retainAll(old);
      assertThat(stayed).hasSize(2);
    }
    // n6 should win a place in about 3/6 of the groups: 30 of 60. Allow a wide margin (fixed
    // names, so this does not vary between runs).
    assertThat(moved).isBetween(18, 42);
    assertThat(after.groupsOf("n6")).hasSize(moved);
  }

  @Test
  void removingANodeMovesOnlyItsGroups() {
    Placement before = new Placement("prod", 40, 3, FIVE);
    Placement after = new Placement("prod", 40, 3, List.of("n1", "n2", "n3", "n4"));
    for (int g = 0; g < 40; g++) {
      List<String> old = before.membersOf(g);
      Set<String> now = new HashSet<>(after.membersOf(g));
      if (!old.contains("n5")) {
        assertThat(now).isEqualTo(new HashSet<>(old));
      } else {
        Set<String> kept = new HashSet<>(old);
        kept.remove("n5");
        assertThat(now).containsAll(kept).doesNotContain("n5");
      }
    }
  }

  @Test
  void anotherClusterNamePlacesGroupsIndependently() {
    Placement prod = new Placement("prod", 20, 3, FIVE);
    Placement test = new Placement("test", 20, 3, FIVE);
    int same = 0;
    for (int g = 0; g < 20; g++) {
      if (new HashSet<>(prod.membersOf(g)).equals(new HashSet<>(test.membersOf(g)))) {
        same++;
      }
    }
    assertThat(same).isLessThan(20);
  }

  @Test
  void withThreeNodesAndThreeReplicasEveryNodeHoldsEveryGroup() {
    Placement placement = new Placement("prod", 4, 3, List.of("a", "b", "c"));
    assertThat(placement.groupsOf("a")).containsExactly(0, 1, 2, 3);
    assertThat(placement.groupsOf("c")).containsExactly(0, 1, 2, 3);
  }

  @Test
  void refusesImpossibleShapes() {
    assertThatThrownBy(() -> new Placement("prod", 0, 3, FIVE))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("groups");
    assertThatThrownBy(() -> new Placement("prod", 4, 3, List.of("n1", "n2")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs between 1 and 2");
    assertThatThrownBy(() -> new Placement("prod", 4, 3, FIVE).membersOf(4))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0..3");
  }
}
