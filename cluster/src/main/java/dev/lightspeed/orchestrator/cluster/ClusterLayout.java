package dev.lightspeed.orchestrator.cluster;

import dev.lightspeed.orchestrator.v1.ClusterConfig;
import dev.lightspeed.orchestrator.v1.ClusterPeer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;

/** A validated cluster file in Ratis' terms: the Raft groups, their ids and their peers. */
public final class ClusterLayout {
  private final ClusterConfig config;
  private final Placement placement;
  private final Map<String, ClusterPeer> peers;
  private final List<RaftGroupId> groupIds;
  private final RaftGroupId membershipGroupId;

  public ClusterLayout(ClusterConfig config) throws InvalidClusterConfig {
    this.config = ClusterConfigs.validate(config);
    this.peers = config.getPeersList().stream()
        .collect(Collectors.toUnmodifiableMap(ClusterPeer::getId, Function.identity()));
    this.placement = new Placement(config.getName(), config.getGroups(),
        ClusterConfigs.replicationFactor(config),
        config.getPeersList().stream().map(ClusterPeer::getId).toList());
    List<RaftGroupId> ids = new ArrayList<>();
    for (int g = 0; g < config.getGroups(); g++) {
      ids.add(groupId(config.getName(), g));
    }
    this.groupIds = List.copyOf(ids);
    this.membershipGroupId = RaftGroupId.valueOf(UUID.nameUUIDFromBytes(
        (config.getName() + "/membership").getBytes(StandardCharsets.UTF_8)));
  }

  /** The same cluster with another list of nodes (a membership change); validated. */
  public ClusterLayout withPeers(List<ClusterPeer> newPeers) throws InvalidClusterConfig {
    return new ClusterLayout(config.toBuilder().clearPeers().addAllPeers(newPeers).build());
  }

  /** The node's entry, or null when it is not a node of this layout. */
  public ClusterPeer peer(String nodeId) {
    return peers.get(nodeId);
  }

  /**
   * The membership group's Ratis id: the name-based UUID of {@code "<cluster>/membership"}. Every
   * node of the cluster is a member of it; its log holds the list of nodes (docs/cluster.md,
   * "Membership").
   */
  public RaftGroupId membershipGroupId() {
    return membershipGroupId;
  }

  /** The membership group with every node of the layout as a member. */
  public RaftGroup membershipGroup() {
    return RaftGroup.valueOf(membershipGroupId,
        config.getPeersList().stream().map(p -> raftPeer(p.getId())).toList());
  }

  /**
   * The group's Ratis id: the name-based (version 3) UUID of {@code "<cluster>/group-<index>"},
   * so every node derives the same id, and another cluster's groups never match.
   */
  static RaftGroupId groupId(String clusterName, int group) {
    String key = clusterName + "/group-" + group;
    return RaftGroupId.valueOf(UUID.nameUUIDFromBytes(key.getBytes(StandardCharsets.UTF_8)));
  }

  public ClusterConfig config() {
    return config;
  }

  public Placement placement() {
    return placement;
  }

  public int groups() {
    return groupIds.size();
  }

  public RaftGroupId groupId(int group) {
    return groupIds.get(group);
  }

  /** The group index of a Ratis group id, or -1 if it is not one of this cluster's. */
  public int indexOf(RaftGroupId id) {
    return groupIds.indexOf(id);
  }

  /** Group {@code group} with its members, as Ratis needs it to start or to be called. */
  public RaftGroup raftGroup(int group) {
    List<RaftPeer> members = placement.membersOf(group).stream().map(this::raftPeer).toList();
    return RaftGroup.valueOf(groupId(group), members);
  }

  public RaftPeer raftPeer(String nodeId) {
    ClusterPeer peer = peers.get(nodeId);
    if (peer == null) {
      throw new IllegalArgumentException("no peer " + nodeId);
    }
    return RaftPeer.newBuilder()
        .setId(RaftPeerId.valueOf(nodeId))
        .setAddress(peer.getRaftAddress())
        .build();
  }
}
