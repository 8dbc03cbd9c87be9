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
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.GroupManagementRequest;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.TransferLeadershipRequest;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.StateMachine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
  private static final Logger log = LoggerFactory.getLogger(ClusterNode.class);
  /** How long a graceful stop waits for one member to take over a group it leads. */
  private static final long HAND_OVER_TIMEOUT_MS = 3_000;

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
    return start(layout, nodeId, dataDir, states, tuning, null);
  }

  /**
   * As above, the Raft server speaking mutual TLS with {@code tls}, or plaintext when it is null
   * (docs/cluster.md, "Security of Raft traffic").
   */
  public static ClusterNode start(ClusterLayout layout, String nodeId, Path dataDir,
      ReplicatedState.Factory states, RaftTuning tuning, RaftTls tls) throws IOException {
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
        .setParameters(RaftTls.parameters(tls))
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

  /**
   * Stops the Raft server; the data dir stays, so a new start recovers from it. First, every group
   * this node leads hands its leadership to another member ({@link #handOverLeadership}), so that
   * a graceful stop (a rolling restart) costs that group no election timeout.
   */
  @Override
  public void close() throws IOException {
    for (int group : groups) {
      handOverLeadership(group);
    }
    server.close();
  }

  /**
   * Why: when a leader just closes, its pending requests fail with a broken connection and the
   * other members notice only after an election timeout (1-2 s) plus an election; meanwhile the
   * nodes' Raft clients retry blindly (a follower holds a request up to the 3 s request timeout,
   * a stopped node's address until the same), and an ordered client holds every later call
   * behind the first: RollingRestartIT saw calls through a surviving node wait 10 s and end
   * DEADLINE_EXCEEDED. After a transfer (Ratis waits until the new leader has the whole log,
   * then has it start an election at once) the old leader answers NotLeader naming the new one,
   * and the clients go straight there. A member that is down or behind is skipped after
   * {@code HAND_OVER_TIMEOUT_MS}; if none takes over, the group elects a leader as after a crash.
   */
  private void handOverLeadership(int group) {
    RaftGroupId groupId = layout.groupId(group);
    try {
      if (!server.getDivision(groupId).getInfo().isLeader()) {
        return;
      }
      for (RaftPeer peer : layout.raftGroup(group).getPeers()) {
        if (peer.getId().equals(server.getId())) {
          continue;
        }
        RaftClientReply reply = server.transferLeadership(new TransferLeadershipRequest(
            ClientId.randomId(), server.getId(), groupId, 0, peer.getId(),
            HAND_OVER_TIMEOUT_MS));
        if (reply.isSuccess()) {
          log.info("group {}: leadership handed from {} to {} before stopping", group, nodeId,
              peer.getId());
          return;
        }
        log.warn("group {}: {} did not take over the leadership from {} ({}); trying the next",
            group, peer.getId(), nodeId, String.valueOf(reply.getException()));
      }
    } catch (IOException | RuntimeException e) {
      log.warn("group {}: handing over the leadership of {} failed; the others will elect one",
          group, nodeId, e);
    }
  }
}
