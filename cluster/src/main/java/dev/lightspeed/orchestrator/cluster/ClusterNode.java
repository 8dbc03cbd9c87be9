package dev.lightspeed.orchestrator.cluster;

import dev.lightspeed.orchestrator.v1.ClusterConfig;
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
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
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
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.impl.StuckTransferRelease;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.StateMachine;
import org.apache.ratis.util.TimeDuration;
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
  /** How long leader balancing waits for the preferred leader to have the whole log. */
  private static final long BALANCE_TIMEOUT_MS = 1_000;
  /** A preferred leader that has not answered a heartbeat for this long is left alone. */
  private static final long BALANCE_RECENT_MS = 500;
  /** How often the node looks for a leadership transfer Ratis left stuck. */
  private static final long STUCK_TRANSFER_CHECK_MS = 500;
  /**
   * A transfer still pending after this is stuck: every transfer this node asks for ends within
   * {@code HAND_OVER_TIMEOUT_MS}, and one Ratis starts itself within its request timeout (3 s).
   */
  private static final long STUCK_TRANSFER_MAX_MS = 5_000;
  /** How often a node looks whether its membership group has gone quiet ({@link #checkStillMember}). */
  private static final long MEMBERSHIP_CHECK_MS = 3_000;

  /** What the node tells its host when the membership changes (docs/cluster.md, "Membership"). */
  public interface MembershipListener {
    /** The membership group applied a new list of nodes; groups are placed by it from now on. */
    void changed(ClusterLayout layout);

    /** This node's member of a pipeline group was removed (it left that group). */
    void groupRemoved(int group);

    /** This node was removed from the cluster (its member of the membership group is gone). */
    void removed();
  }

  private final String nodeId;
  private final Path dataDir;
  private final RaftTuning tuning;
  /** Mutual TLS of this node's Raft traffic, or null for plaintext. */
  private final RaftTls tls;
  private volatile ClusterLayout layout;
  private volatile RaftServer server;
  private volatile MembershipListener listener;
  private volatile boolean removed;
  /** Releases stuck transfers ({@link #releaseStuckTransfers}); one daemon thread per node. */
  private final ScheduledExecutorService transferWatchdog;
  private final StuckTransferRelease stuckTransfers =
      new StuckTransferRelease(STUCK_TRANSFER_MAX_MS);
  /** Runs {@link #checkStillMember}, whose read can block for seconds; one daemon thread. */
  private final ScheduledExecutorService membershipCheck;
  /** Since when ({@link System#nanoTime}) the membership group has been quiet; -1: it is not. */
  private long membershipQuietSince = -1;

  private ClusterNode(ClusterLayout layout, String nodeId, Path dataDir, RaftTuning tuning,
      RaftTls tls) {
    this.layout = layout;
    this.nodeId = nodeId;
    this.dataDir = dataDir;
    this.tuning = tuning;
    this.tls = tls;
    this.transferWatchdog = daemonThread(nodeId + "-transfer-watchdog");
    this.membershipCheck = daemonThread(nodeId + "-membership-check");
  }

  private static ScheduledExecutorService daemonThread(String name) {
    return Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    });
  }

  /** Starts the node {@code nodeId} of the layout, with its Raft data under {@code dataDir}. */
  public static ClusterNode start(ClusterLayout layout, String nodeId, Path dataDir,
      ReplicatedState.Factory states, RaftTuning tuning) throws IOException {
    return start(layout, nodeId, dataDir, states, tuning, null, false);
  }

  /**
   * As above, the Raft server speaking mutual TLS with {@code tls}, or plaintext when it is null
   * (docs/cluster.md, "Security of Raft traffic").
   */
  public static ClusterNode start(ClusterLayout layout, String nodeId, Path dataDir,
      ReplicatedState.Factory states, RaftTuning tuning, RaftTls tls) throws IOException {
    return start(layout, nodeId, dataDir, states, tuning, tls, false);
  }

  /**
   * As {@link #start(ClusterLayout, String, Path, ReplicatedState.Factory, RaftTuning)}, plaintext.
   */
  public static ClusterNode start(ClusterLayout layout, String nodeId, Path dataDir,
      ReplicatedState.Factory states, RaftTuning tuning, boolean join) throws IOException {
    return start(layout, nodeId, dataDir, states, tuning, null, join);
  }

  /**
   * As {@link #start(ClusterLayout, String, Path, ReplicatedState.Factory, RaftTuning, RaftTls)};
   * with {@code join}, the node creates no group at all: it waits to be added to a running
   * cluster (AddClusterNode), which gives it its groups. When the data dir holds a committed
   * membership ({@link MembershipFile}), its list of nodes is used instead of {@code
   * clusterFile}'s, with a warning when they differ.
   */
  public static ClusterNode start(ClusterLayout clusterFile, String nodeId, Path dataDir,
      ReplicatedState.Factory states, RaftTuning tuning, RaftTls tls, boolean join)
      throws IOException {
    // The committed membership (add-node / remove-node) wins over an outdated cluster file.
    ClusterLayout layout = clusterFile.withPeers(
        MembershipFile.effective(clusterFile.config(), dataDir).getPeersList());
    ClusterConfigs.requireNode(layout.config(), nodeId);
    Path storage = dataDir.resolve("raft");
    Files.createDirectories(storage);
    refuseForeignGroups(layout, storage);
    HostPort address = ClusterConfigs.raftAddress(layout.peer(nodeId));

    RaftProperties properties = RaftProps.of(tuning);
    RaftServerConfigKeys.setStorageDir(properties, List.of(storage.toFile()));
    // A member removed from a group keeps its directory, moved here (Ratis' default is /tmp).
    RaftServerConfigKeys.setRemovedGroupsDir(properties, dataDir.resolve("raft-removed").toFile());
    GrpcConfigKeys.Server.setHost(properties, address.host());
    GrpcConfigKeys.Server.setPort(properties, address.port());

    ClusterNode node = new ClusterNode(layout, nodeId, dataDir, tuning, tls);
    RaftServer server = RaftServer.newBuilder()
        .setServerId(RaftPeerId.valueOf(nodeId))
        .setProperties(properties)
        .setParameters(RaftTls.parameters(tls))
        .setStateMachineRegistry(groupId -> node.stateMachineFor(groupId, states))
        // No group here: the server recovers every group directory it finds under storage.
        .setOption(RaftStorage.StartupOption.RECOVER)
        .build();
    node.server = server;
    server.start();

    try {
      Set<RaftGroupId> present = new HashSet<>();
      server.getGroupIds().forEach(present::add);
      if (!join) {
        AtomicLong callId = new AtomicLong();
        List<org.apache.ratis.protocol.RaftGroup> toCreate = new ArrayList<>();
        if (!present.contains(layout.membershipGroupId())) {
          // The cluster's first start (or its first with membership changes): every node of the
          // file creates the membership group with the file's nodes, as it creates its groups.
          toCreate.add(layout.membershipGroup());
        }
        for (int group : layout.placement().groupsOf(nodeId)) {
          if (!present.contains(layout.groupId(group))) {
            toCreate.add(layout.raftGroup(group));
          }
        }
        for (org.apache.ratis.protocol.RaftGroup group : toCreate) {
          RaftClientReply reply = server.groupManagement(GroupManagementRequest.newAdd(
              ClientId.randomId(), server.getId(), callId.incrementAndGet(), group, true));
          if (!reply.isSuccess()) {
            throw new IOException("cannot add group " + group.getGroupId() + " on " + nodeId,
                reply.getException());
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      node.transferWatchdog.shutdownNow();
      node.membershipCheck.shutdownNow();
      server.close();
      throw e;
    }
    node.transferWatchdog.scheduleWithFixedDelay(node::releaseStuckTransfers,
        STUCK_TRANSFER_CHECK_MS, STUCK_TRANSFER_CHECK_MS, TimeUnit.MILLISECONDS);
    node.membershipCheck.scheduleWithFixedDelay(node::checkStillMember,
        MEMBERSHIP_CHECK_MS, MEMBERSHIP_CHECK_MS, TimeUnit.MILLISECONDS);
    return node;
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
        RaftGroupId id = RaftGroupId.valueOf(uuid);
        if (layout.indexOf(id) < 0 && !id.equals(layout.membershipGroupId())) {
          throw new IOException(dir + " holds a Raft group that is not one of cluster '"
              + layout.config().getName() + "' (its groups are derived from the cluster name):"
              + " is this another cluster's data dir? Use an empty --data-dir for this cluster");
        }
      }
    }
  }

  private StateMachine stateMachineFor(RaftGroupId groupId, ReplicatedState.Factory states) {
    ClusterLayout current = layout;
    if (groupId.equals(current.membershipGroupId())) {
      return new MembershipStateMachine(current.config(), dataDir, this::membershipApplied,
          this::removedFromCluster, this::trustJoining);
    }
    int group = current.indexOf(groupId);
    if (group < 0) {
      throw new IllegalStateException("the data dir holds Raft group " + groupId
          + ", which is not a group of cluster '" + current.config().getName()
          + "': is this data dir another cluster's?");
    }
    return new PipelineGroupStateMachine(states.create(group), () -> {
      MembershipListener l = listener;
      if (l != null) {
        l.groupRemoved(group);
      }
    });
  }

  /** A change adding {@code peer} started: its Raft certificate is accepted from now on. */
  private void trustJoining(dev.lightspeed.orchestrator.v1.ClusterPeer peer) {
    if (tls != null) {
      tls.trustAlso(List.of(peer));
    }
  }

  private void membershipApplied(dev.lightspeed.orchestrator.v1.ClusterConfig config) {
    if (tls != null) {
      tls.trustAlso(config.getPeersList());
    }
    ClusterLayout next;
    try {
      next = layout.withPeers(config.getPeersList());
    } catch (InvalidClusterConfig e) {
      log.error("the membership group applied a list of nodes that is not valid; keeping {}: {}",
          layout.config().getPeersList(), e.getMessage());
      return;
    }
    layout = next;
    log.atInfo().addKeyValue("event", "cluster_membership_applied")
        .log("node {}: the cluster's nodes are now {}", nodeId,
            config.getPeersList().stream().map(p -> p.getId()).toList());
    MembershipListener l = listener;
    if (l != null) {
      l.changed(next);
    }
  }

  private synchronized void removedFromCluster() {
    if (removed) {
      return; // told twice: by the membership check, then by dropping its groups
    }
    removed = true;
    MembershipFile.markRemoved(dataDir, "removed from cluster '" + layout.config().getName()
        + "' at " + java.time.Instant.now());
    log.atWarn().addKeyValue("event", "cluster_node_removed")
        .log("node {} was removed from cluster '{}': it refuses every call from now on", nodeId,
            layout.config().getName());
    MembershipListener l = listener;
    if (l != null) {
      l.removed();
    }
  }

  /** Where membership changes go; set once by the host, after which it reads {@link #layout}. */
  public void setMembershipListener(MembershipListener listener) {
    this.listener = listener;
  }

  /** The cluster as this node last applied it (the committed membership, or the file's). */
  public ClusterLayout layout() {
    return layout;
  }

  /**
   * Whether this node is a member of the cluster: it holds the membership group and its list
   * names this node. False for a node started with {@code --join} until it is added, and for a
   * removed node.
   */
  public boolean isMember() {
    if (removed || layout.peer(nodeId) == null) {
      return false;
    }
    for (RaftGroupId id : server.getGroupIds()) {
      if (id.equals(layout.membershipGroupId())) {
        return true;
      }
    }
    return false;
  }

  /** Whether this node was removed from the cluster (RemoveClusterNode). */
  public boolean isRemoved() {
    return removed;
  }

  RaftServer server() {
    return server;
  }

  /** Mutual TLS of this node's Raft traffic, or null for plaintext. */
  RaftTls tls() {
    return tls;
  }

  RaftTuning tuning() {
    return tuning;
  }

  public String nodeId() {
    return nodeId;
  }

  /** The pipeline groups this node holds a member of, in ascending order. */
  public List<Integer> groups() {
    ClusterLayout current = layout;
    List<Integer> held = new ArrayList<>();
    for (RaftGroupId id : server.getGroupIds()) {
      int group = current.indexOf(id);
      if (group >= 0) {
        held.add(group);
      }
    }
    held.sort(null);
    return held;
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
    for (int group : groups()) {
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

  /**
   * This node's Raft figures of each of its groups ({@link GroupMetrics}), for {@code /metrics}.
   * A group that goes away meanwhile is left out of this reading.
   */
  public List<GroupMetrics> metrics() {
    List<GroupMetrics> rows = new ArrayList<>();
    for (int group : groups()) {
      try {
        RaftServer.Division division = division(group);
        DivisionInfo info = division.getInfo();
        SnapshotInfo snapshot = division.getStateMachine().getLatestSnapshot();
        long last = division.getRaftLog().getLastEntryTermIndex() == null ? -1
            : division.getRaftLog().getLastEntryTermIndex().getIndex();
        long lag = -1;
        if (info.isLeader()) {
          lag = 0;
          for (long match : info.getFollowerMatchIndices()) {
            lag = Math.max(lag, last - match);
          }
        }
        String member = division.getMemberId().toString();
        long leaderChanges = division.getStateMachine() instanceof PipelineGroupStateMachine sm
            ? sm.leaderChanges() : 0;
        rows.add(new GroupMetrics(group, info.isLeader(), info.getCurrentTerm(),
            division.getRaftLog().getLastCommittedIndex(), info.getLastAppliedIndex(), last,
            snapshot == null ? -1 : snapshot.getIndex(), lag, leaderChanges,
            RatisCounters.read(member, "leader_election", "electionCount"),
            RatisCounters.read(member, "leader_election", "timeoutCount"),
            RatisCounters.read(member, "leader_election", "transferLeadershipCount"),
            RatisCounters.read(member, "server", "numInstallSnapshot")));
      } catch (IOException | RuntimeException goneMeanwhile) {
        // removed by a membership change between groups() and here
      }
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
    for (int group : groups()) {
      handOverLeadership(group);
    }
    transferWatchdog.shutdownNow();
    membershipCheck.shutdownNow();
    server.close();
  }

  /**
   * A node removed from the cluster while it was down learns it on its own (docs/cluster.md,
   * "A node removed while it was down"). Its replica of the membership group still lists it, but
   * no leader sends that group anything any more, so the group goes quiet. When it has heard no
   * leader for three election timeouts, the node reads the committed list of nodes through the
   * other members (read index on the group's current leader). A list that no longer names this
   * node with its Raft address means it was removed: it does what a node told of its removal
   * does (refuses every call, marks its data dir) and drops its groups' members, directories
   * moved to {@code raft-removed/}. No answer (a partition, the others down) changes nothing;
   * the next look tries again.
   */
  void checkStillMember() {
    try {
      if (removed || !isMember()) {
        return;
      }
      ClusterLayout current = layout;
      RaftServer.Division membership = server.getDivision(current.membershipGroupId());
      long now = System.nanoTime();
      if (heardLeaderWithin(membership, tuning.electionTimeoutMax().toMillis())) {
        membershipQuietSince = -1;
        return;
      }
      if (membershipQuietSince < 0) {
        membershipQuietSince = now;
      }
      long quietMs = (now - membershipQuietSince) / 1_000_000;
      if (quietMs < 3 * tuning.electionTimeoutMax().toMillis()) {
        return;
      }
      ClusterConfig committed = MembershipChanges.readCommitted(this, current.membershipGroup(),
          RetryPolicies.retryUpToMaximumCountWithFixedSleep(3,
              TimeDuration.valueOf(200, TimeUnit.MILLISECONDS)));
      String myRaft = current.peer(nodeId).getRaftAddress();
      boolean listed = committed.getPeersList().stream().anyMatch(
          p -> p.getId().equals(nodeId) && p.getRaftAddress().equals(myRaft));
      if (listed) {
        return;
      }
      log.atWarn().addKeyValue("event", "cluster_node_removed_while_down").log("node {}: its"
          + " membership group has heard no leader for {} ms, and the cluster's committed nodes"
          + " are {}, without this node (Raft {}): it was removed while it was down", nodeId,
          quietMs, committed.getPeersList().stream().map(p -> p.getId()).toList(), myRaft);
      removedFromCluster();
      dropAllGroups();
    } catch (IOException | RuntimeException e) {
      log.debug("node {}: the membership check got no answer; trying again later", nodeId, e);
    }
  }

  /** Whether this member leads its group, or heard from its leader within {@code ms}. */
  private static boolean heardLeaderWithin(RaftServer.Division division, long ms) {
    if (division.getInfo().isLeader()) {
      return true;
    }
    var role = division.getInfo().getRoleInfoProto();
    return division.getInfo().getLeaderId() != null && role.hasFollowerInfo()
        && role.getFollowerInfo().getLeaderInfo().getLastRpcElapsedTimeMs() < ms;
  }

  /** Drops every member this node holds, as a removal does: directories kept, moved aside. */
  private void dropAllGroups() {
    AtomicLong callId = new AtomicLong();
    for (RaftGroupId id : server.getGroupIds()) {
      try {
        RaftClientReply reply = server.groupManagement(GroupManagementRequest.newRemove(
            ClientId.randomId(), server.getId(), callId.incrementAndGet(), id, false, true));
        if (!reply.isSuccess()) {
          log.warn("node {}: dropping its member of group {} failed: {}", nodeId, id,
              reply.getException());
        }
      } catch (IOException | RuntimeException e) {
        log.warn("node {}: dropping its member of group {} failed", nodeId, id, e);
      }
    }
  }

  /**
   * Releases every division of this node that Ratis left "stepping down" after a leadership
   * transfer that had already failed ({@link StuckTransferRelease}: such a leader would refuse
   * every write until another node is elected). Runs every {@code STUCK_TRANSFER_CHECK_MS}, and
   * after each transfer this node asks for. Returns how many it released.
   */
  int releaseStuckTransfers() {
    int released = 0;
    try {
      for (RaftGroupId id : server.getGroupIds()) {
        if (releaseIfStuck(server.getDivision(id))) {
          released++;
        }
      }
    } catch (IOException | RuntimeException | LinkageError e) {
      // LinkageError: a Ratis upgrade changed what StuckTransferRelease reads; say so loudly.
      log.error("looking for stuck leadership transfers failed", e);
    }
    return released;
  }

  private boolean releaseIfStuck(RaftServer.Division division) {
    String why = stuckTransfers.releaseIfStuck(division, System.nanoTime());
    if (why == null) {
      return false;
    }
    log.atWarn().addKeyValue("event", "stuck_transfer_released").log("{}: a leadership transfer"
        + " kept this leader 'stepping down', refusing writes, though {} (a Ratis bug, see"
        + " StuckTransferRelease); released, writes are accepted again", division.getMemberId(),
        why);
    return true;
  }

  /**
   * Leader balancing (docs/cluster.md, "Leaders spread over the nodes"): each group this node
   * leads whose preferred leader — its first member by placement, the highest rendezvous score,
   * so the groups' leaders spread over the nodes as their members do — is another node that
   * answered the leader's last heartbeat recently is handed to it. Ratis waits up to {@code
   * BALANCE_TIMEOUT_MS} for that node to have the whole log; meanwhile the group refuses new
   * writes "stepping down", which the nodes' clients resend ({@link GroupClient}). Returns the
   * groups handed over.
   */
  public List<Integer> handLeadershipToPreferred() {
    List<Integer> moved = new ArrayList<>();
    ClusterLayout current = layout;
    for (int group : groups()) {
      String preferred = current.placement().membersOf(group).get(0);
      if (preferred.equals(nodeId)) {
        continue;
      }
      try {
        RaftServer.Division division = division(group);
        if (!division.getInfo().isLeader() || !division.getInfo().isLeaderReady()
            || !answeredRecently(division, preferred)) {
          continue;
        }
        RaftClientReply reply = transfer(division, new TransferLeadershipRequest(
            ClientId.randomId(), server.getId(), division.getGroup().getGroupId(), 0,
            RaftPeerId.valueOf(preferred), BALANCE_TIMEOUT_MS));
        if (reply.isSuccess()) {
          moved.add(group);
          log.atInfo().addKeyValue("event", "leader_balanced").log("group {}: leadership"
              + " handed from {} to {}, its preferred leader", group, nodeId, preferred);
        } else {
          log.debug("group {}: {} did not take the leadership ({})", group, preferred,
              reply.getException());
        }
      } catch (IOException | RuntimeException e) {
        log.debug("group {}: leader balancing skipped", group, e);
      }
    }
    return moved;
  }

  /**
   * Asks Ratis for the transfer; once the call is over, a request of it that Ratis left pending
   * is released at once ({@link StuckTransferRelease#releaseAfterCall}), so the leader never keeps
   * refusing writes "stepping down" after a transfer that failed.
   */
  private RaftClientReply transfer(RaftServer.Division division,
      TransferLeadershipRequest request) throws IOException {
    try {
      return server.transferLeadership(request);
    } finally {
      if (stuckTransfers.releaseAfterCall(division, request)) {
        log.atWarn().addKeyValue("event", "stuck_transfer_released").log("{}: the transfer to"
            + " {} had ended but still kept this leader 'stepping down', refusing writes (a"
            + " Ratis bug, see StuckTransferRelease); released, writes are accepted again",
            division.getMemberId(), request.getNewLeader());
      }
    }
  }

  /** Whether the leader heard from {@code peer} within the last {@code BALANCE_RECENT_MS}. */
  private static boolean answeredRecently(RaftServer.Division division, String peer) {
    return answeredWithin(division, peer, BALANCE_RECENT_MS);
  }

  /** Whether the leader heard from {@code peer} within the last {@code ms}. */
  private static boolean answeredWithin(RaftServer.Division division, String peer, long ms) {
    var role = division.getInfo().getRoleInfoProto();
    if (!role.hasLeaderInfo()) {
      return false;
    }
    return role.getLeaderInfo().getFollowerInfoList().stream().anyMatch(f ->
        f.getId().getId().toStringUtf8().equals(peer)
            && f.getLastRpcElapsedTimeMs() < ms);
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
      RaftServer.Division division = server.getDivision(groupId);
      if (!division.getInfo().isLeader()) {
        return;
      }
      long recentMs = tuning.electionTimeoutMin().toMillis();
      for (RaftPeer peer : division.getGroup().getPeers()) {
        if (peer.getId().equals(server.getId())) {
          continue;
        }
        if (!answeredWithin(division, peer.getId().toString(), recentMs)) {
          // Down or cut off as far as Raft is concerned: asking it would cost the whole
          // timeout (and, failing at once, trip the Ratis bug StuckTransferRelease works
          // around).
          log.info("group {}: {} has not answered for {} ms; not handing the leadership to it",
              group, peer.getId(), recentMs);
          continue;
        }
        RaftClientReply reply = transfer(division, new TransferLeadershipRequest(
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
