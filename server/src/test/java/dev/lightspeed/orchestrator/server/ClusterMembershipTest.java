package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static dev.lightspeed.orchestrator.server.RpcErrors.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lightspeed.orchestrator.cluster.ClusterLayout;
import dev.lightspeed.orchestrator.cluster.MembershipFile;
import dev.lightspeed.orchestrator.security.TokenFile;
import dev.lightspeed.orchestrator.v1.AckBatchRequest;
import dev.lightspeed.orchestrator.v1.AddClusterNodeRequest;
import dev.lightspeed.orchestrator.v1.AddClusterNodeResponse;
import dev.lightspeed.orchestrator.v1.ClusterGroupChange;
import dev.lightspeed.orchestrator.v1.ClusterGroupStatus;
import dev.lightspeed.orchestrator.v1.ClusterPeer;
import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchRequest;
import dev.lightspeed.orchestrator.v1.GetClusterStatusRequest;
import dev.lightspeed.orchestrator.v1.GetClusterStatusResponse;
import dev.lightspeed.orchestrator.v1.GetStatusRequest;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.RemoveClusterNodeRequest;
import dev.lightspeed.orchestrator.v1.RemoveClusterNodeResponse;
import dev.lightspeed.orchestrator.v1.StartAvailableRequest;
import dev.lightspeed.orchestrator.v1.WatchStartedRequest;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Membership of a running cluster (docs/cluster.md, "Membership"): a node started with --join is
 * added (AddClusterNode) and becomes a member of exactly the groups the new placement gives it,
 * with the data written before; a node is removed (RemoveClusterNode), drops its groups and
 * refuses calls; bad input is refused and changes nothing. Real nodes on loopback ports.
 */
class ClusterMembershipTest extends ClusterTestBase {
  private static final int GROUPS = 4;

  private ServerSettings settings() throws Exception {
    return ServerSettings.defaults().withTokens(TokenFile.parse(
        AuthTest.ROOT + " producer,worker,admin,reader\n"
            + AuthTest.READER + " reader\n"
            + AuthTest.OPERATOR + " operator", "tokens.txt"));
  }

  @Test
  @Timeout(300)
  void anAddedNodeTakesItsGroupsWithTheirDataAndARemovedNodeDropsItsGroups() throws Exception {
    ServerSettings settings = settings();
    startCluster(GROUPS, settings, AuthTest.ROOT);
    ClusterLayout three = layout;
    List<String> names = twoPipelinesPerGroup(three);
    for (String name : names) {
      untilAccepted("create " + name, () -> stub("n1").createPipeline(
          CreatePipelineRequest.newBuilder().setSpec(pipeline(name, "extract")).build()));
      for (int b = 1; b <= 3; b++) {
        stub("n2").enqueueBatch(EnqueueBatchRequest.newBuilder().setPipeline(name)
            .setBatch(batch("b" + b, "extract", b)).build());
      }
    }
    stub("n3").startAvailable(StartAvailableRequest.newBuilder().setPipeline(names.get(0))
        .setMaxBatches(1).build()).forEachRemaining(s -> stub("n3").ackBatch(
            AckBatchRequest.newBuilder().setPipeline(names.get(0))
                .setKey(s.getStarted().getBatch().getKey())
                .setAttempt(s.getStarted().getAttempt()).build()));

    ClusterPeer n4 = ClusterPeer.newBuilder().setId("n4")
        .setRaftAddress("127.0.0.1:" + freePort()).setApiAddress("127.0.0.1:" + freePort())
        .build();
    List<ClusterPeer> fourPeers = new ArrayList<>(three.config().getPeersList());
    fourPeers.add(n4);
    ClusterLayout four = three.withPeers(fourPeers);
    assertThat(four.placement().groupsOf("n4")).as("the test needs n4 to join some group")
        .isNotEmpty();

    refusalsChangeNothing(three, n4);

    startNode(four, "n4", settings, AuthTest.ROOT, true);
    assertRefused(() -> stub("n4").getStatus(GetStatusRequest.newBuilder()
        .setPipeline(names.get(0)).build()), Status.Code.FAILED_PRECONDITION, "NOT_A_MEMBER");

    AddClusterNodeResponse added = stub("n2").addClusterNode(
        AddClusterNodeRequest.newBuilder().setPeer(n4).build());
    assertChanges(added.getChangesList(), three, four);
    assertThat(added.getPeersList()).containsExactlyElementsOf(fourPeers);
    layout = four;

    Map<String, GetClusterStatusResponse> views = agreeingStatus(four);
    assertThat(views.get("n4").getGroupsList()).extracting(ClusterGroupStatus::getGroup)
        .containsExactlyElementsOf(four.placement().groupsOf("n4"));
    for (String name : names) {
      int group = four.placement().groupOf(name);
      if (four.placement().membersOf(group).contains("n4")) {
        assertThat(views.get("n4").getGroupsList().stream()
            .filter(g -> g.getGroup() == group).findFirst().orElseThrow().getPipelineCount())
            .as("n4's replica of group %s holds the pipelines written before", group)
            .isEqualTo(2);
      }
      assertThat(stub("n4").getStatus(GetStatusRequest.newBuilder().setPipeline(name).build())
          .getSignature()).as("%s through n4", name).isEqualTo(stub("n1").getStatus(
              GetStatusRequest.newBuilder().setPipeline(name).build()).getSignature());
    }
    for (String name : names) {
      stub("n4").enqueueBatch(EnqueueBatchRequest.newBuilder().setPipeline(name)
          .setBatch(batch("after-add", "extract", 10)).build());
    }

    // A restart of n4 with the outdated cluster file, which does not even list n4: the committed
    // membership in its data dir wins (and gives n4 its addresses).
    nodes.remove("n4").stop();
    startNode(three, "n4", settings, AuthTest.ROOT, false);
    assertThat(nodes.get("n4").host().layout().config().getPeersList())
        .containsExactlyElementsOf(fourPeers);
    agreeingStatus(four);

    // A watch served by n2's replica of a group: it ends when n2 leaves the group.
    String watched = names.stream().filter(n -> four.placement()
        .membersOf(four.placement().groupOf(n)).contains("n2")).findFirst().orElseThrow();
    java.util.concurrent.BlockingQueue<Object> seen =
        new java.util.concurrent.LinkedBlockingQueue<>();
    OrchestratorServiceGrpc.newStub(AuthTest.withHeader(nodes.get("n2").channel(),
        "Bearer " + AuthTest.ROOT)).watchStarted(
        WatchStartedRequest.newBuilder().setPipeline(watched).build(),
        new io.grpc.stub.StreamObserver<>() {
          @Override
          public void onNext(dev.lightspeed.orchestrator.v1.WatchStartedResponse r) {
            seen.add(r);
          }

          @Override
          public void onError(Throwable t) {
            seen.add(t);
          }

          @Override
          public void onCompleted() {
            seen.add("completed");
          }
        });
    // Starts until the watch sees one (it is registered a moment after the call opens).
    var key = new java.util.concurrent.atomic.AtomicInteger();
    awaitTrue("the watch on n2 sees a start", () -> {
      String k = "watched-" + key.incrementAndGet();
      stub("n1").enqueueBatch(EnqueueBatchRequest.newBuilder().setPipeline(watched)
          .setBatch(batch(k, "extract", 100 + key.get())).build());
      stub("n1").startAvailable(StartAvailableRequest.newBuilder().setPipeline(watched)
          .build()).forEachRemaining(started -> { });
      try {
        Object got = seen.poll(200, java.util.concurrent.TimeUnit.MILLISECONDS);
        if (got instanceof Throwable t) {
          throw new AssertionError("the watch on n2 ended before the change", t);
        }
        return got != null;
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    });
    seen.clear();

    RemoveClusterNodeResponse removed = stub("n1").removeClusterNode(
        RemoveClusterNodeRequest.newBuilder().setNodeId("n2").build());
    List<ClusterPeer> withoutN2 = new ArrayList<>(fourPeers);
    withoutN2.removeIf(p -> p.getId().equals("n2"));
    ClusterLayout three2 = four.withPeers(withoutN2);
    assertChanges(removed.getChangesList(), four, three2);
    assertThat(removed.getPeersList()).containsExactlyElementsOf(withoutN2);
    layout = three2;

    assertThat(nodes.get("n2").host().node().groups()).as("n2 holds no group any more")
        .isEmpty();
    awaitTrue("the watch on n2 ends", () -> seen.stream().anyMatch(Throwable.class::isInstance));
    assertThat(Status.fromThrowable((Throwable) seen.stream().filter(Throwable.class::isInstance)
        .findFirst().orElseThrow()).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertRefused(() -> stub("n2").getStatus(GetStatusRequest.newBuilder()
        .setPipeline(names.get(0)).build()), Status.Code.FAILED_PRECONDITION, "NOT_A_MEMBER");
    Node n2 = nodes.remove("n2");
    n2.stop();
    agreeingStatus(three2);
    for (String name : names) {
      stub("n3").enqueueBatch(EnqueueBatchRequest.newBuilder().setPipeline(name)
          .setBatch(batch("after-remove", "extract", 1_000)).build());
      String viaN1 = stub("n1").getStatus(GetStatusRequest.newBuilder().setPipeline(name)
          .build()).getSignature();
      assertThat(stub("n4").getStatus(GetStatusRequest.newBuilder().setPipeline(name).build())
          .getSignature()).isEqualTo(viaN1);
    }
    agreeingStatus(three2);

    // The removed node does not come back on its old data.
    assertThat(MembershipFile.removed(dataDirs.resolve("n2"))).isPresent();
    assertThatThrownBy(() -> startNode(four, "n2", settings, AuthTest.ROOT, false))
        .hasMessageContaining("this node was removed from the cluster");
  }

  /** Every bad request is refused with its reason, and the cluster stays as it was. */
  private void refusalsChangeNothing(ClusterLayout three, ClusterPeer n4) throws Exception {
    ClusterPeer n1 = three.config().getPeers(0);
    assertRefused(() -> stub("n1").addClusterNode(add(n4.toBuilder().setId("n 4").build())),
        Status.Code.INVALID_ARGUMENT, "INVALID_REQUEST");
    assertRefused(() -> stub("n1").addClusterNode(add(n4.toBuilder()
        .setRaftAddress("nohost").build())), Status.Code.INVALID_ARGUMENT, "INVALID_REQUEST");
    assertRefused(() -> stub("n1").addClusterNode(add(n4.toBuilder().setId(n1.getId()).build())),
        Status.Code.ALREADY_EXISTS, "CLUSTER_NODE_EXISTS");
    assertRefused(() -> stub("n1").addClusterNode(add(n4.toBuilder()
        .setApiAddress(n1.getRaftAddress()).build())), Status.Code.ALREADY_EXISTS,
        "CLUSTER_NODE_EXISTS");
    assertRefused(() -> stub("n1").removeClusterNode(remove("n9")),
        Status.Code.NOT_FOUND, "CLUSTER_NODE_NOT_FOUND");
    assertRefused(() -> stub("n1").removeClusterNode(remove("")),
        Status.Code.INVALID_ARGUMENT, "INVALID_REQUEST");
    assertRefused(() -> stub("n1").removeClusterNode(remove("n3")),
        Status.Code.FAILED_PRECONDITION, "CLUSTER_TOO_SMALL");
    for (String token : List.of(AuthTest.READER, AuthTest.OPERATOR)) {
      var notAdmin = OrchestratorServiceGrpc.newBlockingStub(AuthTest.withHeader(
          nodes.get("n1").channel(), "Bearer " + token));
      assertRefused(() -> notAdmin.addClusterNode(add(n4)),
          Status.Code.PERMISSION_DENIED, "ROLE_REQUIRED");
      assertRefused(() -> notAdmin.removeClusterNode(remove("n1")),
          Status.Code.PERMISSION_DENIED, "ROLE_REQUIRED");
    }
    // Nothing changed: every node still has the three nodes' placement.
    agreeingStatus(three);
    for (Node n : nodes.values()) {
      assertThat(n.host().layout().config().getPeersList())
          .containsExactlyElementsOf(three.config().getPeersList());
    }
  }

  private static AddClusterNodeRequest add(ClusterPeer peer) {
    return AddClusterNodeRequest.newBuilder().setPeer(peer).build();
  }

  private static RemoveClusterNodeRequest remove(String id) {
    return RemoveClusterNodeRequest.newBuilder().setNodeId(id).build();
  }

  /** The reply lists exactly the groups whose members the placement changed, each as placed. */
  private static void assertChanges(List<ClusterGroupChange> changes, ClusterLayout before,
      ClusterLayout after) {
    List<Integer> moved = new ArrayList<>();
    for (int g = 0; g < GROUPS; g++) {
      if (!new HashSet<>(before.placement().membersOf(g))
          .equals(new HashSet<>(after.placement().membersOf(g)))) {
        moved.add(g);
      }
    }
    assertThat(moved).as("the change moves some group").isNotEmpty();
    assertThat(changes).extracting(ClusterGroupChange::getGroup).containsExactlyElementsOf(moved);
    for (ClusterGroupChange c : changes) {
      assertThat(c.getOldMembersList()).containsExactlyElementsOf(
          before.placement().membersOf(c.getGroup()));
      assertThat(c.getNewMembersList()).containsExactlyElementsOf(
          after.placement().membersOf(c.getGroup()));
    }
  }

  /**
   * Every running node's GetClusterStatus once each holds exactly the groups {@code expected}
   * places on it and each group's members report one leader and the same applied index (a
   * bounded poll); then each group's members must show the expected members and equal
   * signatures.
   */
  private Map<String, GetClusterStatusResponse> agreeingStatus(ClusterLayout expected)
      throws Exception {
    Map<String, GetClusterStatusResponse> views = new LinkedHashMap<>();
    awaitTrue("every node holds its groups and their replicas reach the same applied index",
        () -> {
          views.clear();
          for (String node : nodes.keySet()) {
            views.put(node, stub(node).getClusterStatus(
                GetClusterStatusRequest.getDefaultInstance()));
          }
          for (var view : views.entrySet()) {
            Set<Integer> held = new TreeSet<>();
            view.getValue().getGroupsList().forEach(g -> held.add(g.getGroup()));
            if (!held.equals(new TreeSet<>(expected.placement().groupsOf(view.getKey())))) {
              return false;
            }
          }
          for (int g = 0; g < GROUPS; g++) {
            Long applied = null;
            for (ClusterGroupStatus row : rows(views, g)) {
              if (row.getLeaderId().isEmpty() || row.getAppliedIndex() < row.getCommitIndex()
                  || applied != null && applied != row.getAppliedIndex()) {
                return false;
              }
              applied = row.getAppliedIndex();
            }
          }
          return true;
        });
    for (int g = 0; g < GROUPS; g++) {
      List<ClusterGroupStatus> rows = rows(views, g);
      assertThat(rows).as("group %s's replicas", g).hasSize(3);
      for (ClusterGroupStatus row : rows) {
        assertThat(row.getMembersList()).containsExactlyElementsOf(
            expected.placement().membersOf(g));
        assertThat(row.getValid()).isTrue();
        assertThat(row.getSignature()).as("group %s at index %s", g, row.getAppliedIndex())
            .isEqualTo(rows.get(0).getSignature());
      }
    }
    return views;
  }

  private static List<ClusterGroupStatus> rows(Map<String, GetClusterStatusResponse> views,
      int group) {
    List<ClusterGroupStatus> rows = new ArrayList<>();
    for (GetClusterStatusResponse v : views.values()) {
      v.getGroupsList().stream().filter(r -> r.getGroup() == group).forEach(rows::add);
    }
    return rows;
  }

  /** Names that put two pipelines in every group. */
  private static List<String> twoPipelinesPerGroup(ClusterLayout layout) {
    Map<Integer, List<String>> byGroup = new LinkedHashMap<>();
    for (int i = 0; byGroup.values().stream().mapToInt(List::size).sum() < 2 * GROUPS; i++) {
      String name = "p" + i;
      List<String> mine = byGroup.computeIfAbsent(layout.placement().groupOf(name),
          g -> new ArrayList<>());
      if (mine.size() < 2) {
        mine.add(name);
      }
    }
    return byGroup.values().stream().flatMap(List::stream).toList();
  }
}
