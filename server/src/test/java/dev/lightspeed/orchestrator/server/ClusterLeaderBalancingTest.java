package dev.lightspeed.orchestrator.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Leader balancing (docs/cluster.md, "Leaders spread over the nodes"): whichever node won each
 * group's first election, every group ends up led by its preferred leader, the first member by
 * placement, so the leaders spread over the nodes as the placement spreads the groups. Without
 * balancing, the elections' winners stay (often one node leads everything: the first to time out).
 */
class ClusterLeaderBalancingTest extends ClusterTestBase {
  @Test
  void everyGroupEndsUpLedByItsPreferredLeader() throws Exception {
    startCluster(6);
    Map<Integer, String> preferred = new TreeMap<>();
    for (int g = 0; g < layout.groups(); g++) {
      preferred.put(g, layout.placement().membersOf(g).get(0));
    }
    // The placement spreads the preferred leaders (a property of the cluster name and ids).
    assertThat(preferred.values().stream().distinct().count()).isGreaterThan(1);

    try {
      awaitTrue("every group led by its preferred leader " + preferred,
          () -> leaders().equals(preferred));
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; the leaders at the end: " + leaders(), e);
    }
  }

  private Map<Integer, String> leaders() {
    Map<Integer, String> leaders = new TreeMap<>();
    nodes.forEach((id, node) -> {
      for (int g = 0; g < layout.groups(); g++) {
        try {
          if (node.host().node().isLeader(g)) {
            leaders.put(g, id);
          }
        } catch (IOException | RuntimeException notAMember) {
          // not a member of this group
        }
      }
    });
    return leaders;
  }
}
