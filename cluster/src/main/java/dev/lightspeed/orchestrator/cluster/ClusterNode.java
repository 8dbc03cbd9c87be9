package dev.lightspeed.orchestrator.cluster;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.GroupManagementRequest;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.StateMachine;

/**
 * One node of a cluster: a single Ratis {@link RaftServer} (one port, one set of threads) that is
 * a member of every group the placement gives this node (multi-raft). Raft's log and snapshots
 * live under {@code <data-dir>/raft/<group uuid>/}.
 *
 * <p>On start, the groups found in the data dir are recovered (log replayed after the newest
 * snapshot); groups the node should be in but has never held are created empty and filled by
 * their leader.
 */
public final class ClusterNode implements Closeable {
  private final ClusterLayout layout;
  private final String nodeId;
  private final RaftServer server;
  private final List<Integer> groups;

  private ClusterNode(ClusterLayout layout, String nodeId, RaftServer server, List<Integer> groups) {
    this.layout = layout;
    this.nodeId = nodeId;
    this.server = server;
    this.groups = groups;
  }

  /** Starts the node {@code nodeId} of the layout, with its Raft data under {@code dataDir}. */
  public static ClusterNode start(ClusterLayout layout, String nodeId, Path dataDir,
      ReplicatedState.Factory states, RaftTuning tuning) throws IOException {
    ClusterConfigs.requireNode(layout.config(), nodeId);
    Path storage = dataDir.resolve("raft");
    Files.createDirectories(storage);
    refuseForeignGroups(layout, storage);
    HostPort address = ClusterConfigs.raftAddress(
        layout.config().getPeersList().stream()
            .filter(p -> p.getId().equals(nodeId)).findFirst().orElseThrow());

    RaftProperties properties = RaftProps.of(tuning);
    RaftServerConfigKeys.setStorageDir(properties, List.of(storage.toFile()));
    GrpcConfigKeys.Server.setHost(properties, address.host());
    GrpcConfigKeys.Server.setPort(properties, address.port());

    RaftServer server = RaftServer.newBuilder()
        .setServerId(RaftPeerId.valueOf(nodeId))
        .setProperties(properties)
        .setParameters(new Parameters())
        .setStateMachineRegistry(groupId -> stateMachineFor(layout, groupId, states))
        // No group here: the server recovers every group directory it finds under storage.
        .setOption(RaftStorage.StartupOption.RECOVER)
        .build();
    server.start();

    List<Integer> mine = layout.placement().groupsOf(nodeId);
    try {
      Set<RaftGroupId> present = new HashSet<>();
      server.getGroupIds().forEach(present::add);
      AtomicLong callId = new AtomicLong();
      for (int group : mine) {
        if (!present.contains(layout.groupId(group))) {
          RaftClientReply reply = server.groupManagement(GroupManagementRequest.newAdd(
              ClientId.randomId(), server.getId(), callId.incrementAndGet(),
              layout.raftGroup(group), true));
          if (!reply.isSuccess()) {
            throw new IOException("cannot add group " + group + " on " + nodeId,
                reply.getException());
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      server.close();
      throw e;
    }
    return new ClusterNode(layout, nodeId, server, mine);
  }

  /**
   * Ratis would only log and skip a group directory whose state machine cannot be made; a data
   * dir that holds another cluster's groups (a wrong --data-dir or a renamed cluster) is refused.
   */
  private static void refuseForeignGroups(ClusterLayout layout, Path storage) throws IOException {
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(storage, Files::isDirectory)) {
      for (Path dir : dirs) {
        UUID uuid;
        try {
          uuid = UUID.fromString(dir.getFileName().toString());
        } catch (IllegalArgumentException notAGroup) {
          continue;
        }
        if (layout.indexOf(RaftGroupId.valueOf(uuid)) < 0) {
          throw new IOException(dir + " holds a Raft group that is not one of cluster '"
              + layout.config().getName() + "' (its groups are derived from the cluster name):"
              + " is this another cluster's data dir? Use an empty --data-dir for this cluster");
        }
      }
    }
  }

  private static StateMachine stateMachineFor(
      ClusterLayout layout, RaftGroupId groupId, ReplicatedState.Factory states) {
    int group = layout.indexOf(groupId);
    if (group < 0) {
      throw new IllegalStateException("the data dir holds Raft group " + groupId
          + ", which is not a group of cluster '" + layout.config().getName()
          + "': is this data dir another cluster's?");
    }
    return new PipelineGroupStateMachine(states.create(group));
  }

  public String nodeId() {
    return nodeId;
  }

  /** The groups this node is a member of, by placement. */
  public List<Integer> groups() {
    return groups;
  }

  /** This node's state machine of the group. */
  public PipelineGroupStateMachine stateMachine(int group) throws IOException {
    return (PipelineGroupStateMachine) division(group).getStateMachine();
  }

  public boolean isLeader(int group) throws IOException {
    return division(group).getInfo().isLeader();
  }

  /** How this node sees each of its groups. */
  public List<GroupStatus> status() throws IOException {
    List<GroupStatus> rows = new ArrayList<>();
    for (int group : groups) {
      RaftServer.Division division = division(group);
      DivisionInfo info = division.getInfo();
      SnapshotInfo snapshot = division.getStateMachine().getLatestSnapshot();
      RaftPeerId leader = info.getLeaderId();
      rows.add(new GroupStatus(group, nodeId, info.getCurrentRole().name(),
          info.getCurrentTerm(), leader == null ? "" : leader.toString(),
          division.getRaftLog().getLastCommittedIndex(), info.getLastAppliedIndex(),
          snapshot == null ? -1 : snapshot.getIndex(), division.getRaftLog().getStartIndex()));
    }
    return rows;
  }

  private RaftServer.Division division(int group) throws IOException {
    return server.getDivision(layout.groupId(group));
  }

  /** Stops the Raft server; the data dir stays, so a new start recovers from it. */
  @Override
  public void close() throws IOException {
    server.close();
  }
}
