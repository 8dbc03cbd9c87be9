package dev.lightspeed.orchestrator.cluster;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.lightspeed.orchestrator.v1.ClusterConfig;
import dev.lightspeed.orchestrator.v1.ClusterPeer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.exceptions.AlreadyExistsException;
import org.apache.ratis.protocol.exceptions.GroupMismatchException;
import org.apache.ratis.retry.MultipleLinearRandomRetry;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Adds a node to or removes one from a running cluster, run by the node that received the call
 * (docs/cluster.md, "Membership"). The new list of nodes gives a new placement; every group whose
 * members it changes (by exactly one member) is changed through Raft's configuration change:
 *
 * <ol>
 *   <li>the joining member gets the group (Ratis group management {@code add} on its Raft
 *       server, with the new configuration), empty;
 *   <li>the group's leader is asked to {@code setConfiguration} with the new members: Ratis
 *       catches the joining member up (log or snapshot) before it counts, then commits the new
 *       configuration;
 *   <li>the member that left drops its member of the group (group management {@code remove}),
 *       its directory moved to {@code <data-dir>/raft-removed/}, not deleted.
 * </ol>
 *
 * Then the membership group, of which every node is a member, records the new list of nodes, so
 * every node places groups by it. Each step can be run again: a change that failed half-way (a
 * node did not answer) is finished by sending the same call again. One change at a time in the
 * cluster: each holds the membership group's {@link ChangeLock} while it runs.
 */
public final class MembershipChanges {
  private static final Logger log = LoggerFactory.getLogger(MembershipChanges.class);
  private static final int SET_CONFIGURATION_ATTEMPTS = 5;
  /**
   * How long the change lock holds if its holder never gives it back (it died mid-change): longer
   * than a change takes (seconds per group; minutes when a new member needs a large snapshot).
   */
  static final long CHANGE_LOCK_TTL_MS = 10 * 60_000;

  /** One group whose members changed. */
  public record GroupChange(int group, List<String> oldMembers, List<String> newMembers) {}

  /** What a change did; {@code warnings} lists the steps that a node did not answer. */
  public record Result(List<GroupChange> changes, ClusterConfig after, List<String> warnings) {}

  /** A change refused before anything changed. */
  public static final class Refused extends Exception {
    /** Why: each maps onto one documented error reason. */
    public enum Kind { INVALID, EXISTS, NOT_FOUND, TOO_SMALL, IN_PROGRESS }

    private final Kind kind;
    private final String field;

    Refused(Kind kind, String field, String message) {
      super(message);
      this.kind = kind;
      this.field = field;
    }

    public Kind kind() {
      return kind;
    }

    /** The request field at fault, or null. */
    public String field() {
      return field;
    }
  }

  private final ClusterNode node;

  public MembershipChanges(ClusterNode node) {
    this.node = node;
  }

  /** Adds {@code peer}, a node started with {@code --join} on those addresses. */
  public synchronized Result add(ClusterPeer peer) throws Refused, IOException {
    if (!ClusterConfigs.NODE_ID.matcher(peer.getId()).matches()) {
      throw new Refused(Refused.Kind.INVALID, "peer.id", "peer.id '" + peer.getId()
          + "' must be 1 to 64 letters, digits, '-' or '_' (e.g. \"n4\")");
    }
    HostPort raft = address(peer.getRaftAddress(), "peer.raft_address");
    HostPort api = address(peer.getApiAddress(), "peer.api_address");
    if (raft.equals(api)) {
      throw new Refused(Refused.Kind.INVALID, "peer.api_address", "peer.api_address " + api
          + " is also peer.raft_address: the node needs a port for each");
    }
    return underChangeLock(peer, () -> addLocked(peer, raft, api));
  }

  private Result addLocked(ClusterPeer peer, HostPort raft, HostPort api)
      throws Refused, IOException {
    ClusterLayout before = committed();
    for (ClusterPeer p : before.config().getPeersList()) {
      if (p.getId().equals(peer.getId())) {
        throw new Refused(Refused.Kind.EXISTS, "peer.id", "node '" + peer.getId()
            + "' is already a node of cluster '" + before.config().getName() + "' (nodes: "
            + ids(before) + ")");
      }
      for (String other : List.of(p.getRaftAddress(), p.getApiAddress())) {
        HostPort taken = HostPort.parse(other);
        if (taken.equals(raft) || taken.equals(api)) {
          throw new Refused(Refused.Kind.EXISTS, taken.equals(raft) ? "peer.raft_address"
              : "peer.api_address", "address " + taken + " is already used by node '"
              + p.getId() + "': every Raft and API address must be a port of its own");
        }
      }
    }
    List<ClusterPeer> peers = new ArrayList<>(before.config().getPeersList());
    peers.add(peer);
    ClusterLayout after = before.withPeers(peers);
    List<String> warnings = new ArrayList<>();
    List<GroupChange> changes = changeGroups(before, after, warnings);
    RaftGroup membershipAfter = after.membershipGroup();
    addMember(after.raftPeer(peer.getId()), membershipAfter);
    setConfiguration(union(before.membershipGroup(), membershipAfter), membershipAfter);
    record(membershipAfter, after.config());
    log.atInfo().addKeyValue("event", "cluster_node_added")
        .log("node {} added to cluster '{}'; groups changed: {}", peer.getId(),
            after.config().getName(), changes);
    return new Result(changes, after.config(), warnings);
  }

  /** Removes the node {@code nodeId}; it drops its groups and then refuses every call. */
  public synchronized Result remove(String nodeId) throws Refused, IOException {
    if (nodeId.isEmpty()) {
      throw new Refused(Refused.Kind.INVALID, "node_id", "node_id is empty: name the node to"
          + " remove (e.g. \"n4\")");
    }
    return underChangeLock(null, () -> removeLocked(nodeId));
  }

  private Result removeLocked(String nodeId) throws Refused, IOException {
    ClusterLayout before = committed();
    if (before.peer(nodeId) == null) {
      throw new Refused(Refused.Kind.NOT_FOUND, "node_id", "node '" + nodeId + "' is not a"
          + " node of cluster '" + before.config().getName() + "' (nodes: " + ids(before) + ")");
    }
    int factor = ClusterConfigs.replicationFactor(before.config());
    if (before.config().getPeersCount() - 1 < factor) {
      throw new Refused(Refused.Kind.TOO_SMALL, "node_id", "removing '" + nodeId + "' would"
          + " leave " + (before.config().getPeersCount() - 1) + " node(s), fewer than the"
          + " replication factor " + factor + ": add a node first");
    }
    List<ClusterPeer> peers = new ArrayList<>(before.config().getPeersList());
    peers.removeIf(p -> p.getId().equals(nodeId));
    ClusterLayout after = before.withPeers(peers);
    List<String> warnings = new ArrayList<>();
    List<GroupChange> changes = changeGroups(before, after, warnings);
    RaftGroup membershipBefore = before.membershipGroup();
    // The list first (the leaving node applies it too), then the group's members.
    record(membershipBefore, after.config());
    setConfiguration(membershipBefore, after.membershipGroup());
    removeMember(before.raftPeer(nodeId), before.membershipGroupId(), warnings);
    log.atInfo().addKeyValue("event", "cluster_node_removed")
        .log("node {} removed from cluster '{}'; groups changed: {}", nodeId,
            after.config().getName(), changes);
    return new Result(changes, after.config(), warnings);
  }

  /** A change run under the cluster's change lock. */
  private interface LockedChange {
    Result run() throws Refused, IOException;
  }

  /**
   * Runs {@code change} holding the cluster's {@link ChangeLock}, so that no change sent to
   * another node runs at the same time (docs/cluster.md, "Two changes at once"); the list of
   * nodes is read after the lock is taken. Refused (IN_PROGRESS) while another node holds it.
   */
  private Result underChangeLock(ClusterPeer joining, LockedChange change)
      throws Refused, IOException {
    String holder = node.nodeId();
    byte[] reply = write(node.layout().membershipGroup(),
        ChangeLock.acquire(holder, System.currentTimeMillis(), CHANGE_LOCK_TTL_MS, joining),
        "take the cluster's membership-change lock");
    ChangeLock.Held other = ChangeLock.refusal(reply);
    if (other != null) {
      throw new Refused(Refused.Kind.IN_PROGRESS, null, "another membership change is under"
          + " way, sent to node '" + other.holder() + "' (it holds the cluster's change lock"
          + " until it finishes, or until " + java.time.Instant.ofEpochMilli(other.untilMs())
          + " if it died): wait for that change, check `lightspeed cluster status`, then send"
          + " this one again");
    }
    try {
      return change.run();
    } finally {
      try {
        write(node.layout().membershipGroup(),
            ChangeLock.release(holder, System.currentTimeMillis()),
            "give the cluster's membership-change lock back");
      } catch (IOException | RuntimeException e) {
        log.warn("node {} could not give the membership-change lock back ({}); it expires"
            + " {} ms after it was taken, and a change sent to this node takes it at once",
            holder, e.getMessage(), CHANGE_LOCK_TTL_MS);
      }
    }
  }

  /** Every group whose members the new placement changes, changed one by one. */
  private List<GroupChange> changeGroups(ClusterLayout before, ClusterLayout after,
      List<String> warnings) throws IOException {
    List<GroupChange> changes = new ArrayList<>();
    for (int g = 0; g < before.groups(); g++) {
      List<String> oldMembers = before.placement().membersOf(g);
      List<String> newMembers = after.placement().membersOf(g);
      if (oldMembers.stream().sorted().toList().equals(newMembers.stream().sorted().toList())) {
        continue;
      }
      RaftGroup oldGroup = before.raftGroup(g);
      RaftGroup newGroup = after.raftGroup(g);
      for (String joining : newMembers) {
        if (!oldMembers.contains(joining)) {
          addMember(after.raftPeer(joining), newGroup);
        }
      }
      setConfiguration(union(oldGroup, newGroup), newGroup);
      for (String leaving : oldMembers) {
        if (!newMembers.contains(leaving)) {
          removeMember(before.raftPeer(leaving), oldGroup.getGroupId(), warnings);
        }
      }
      changes.add(new GroupChange(g, oldMembers, newMembers));
    }
    return changes;
  }

  /**
   * The committed list of nodes: a read-index read of the membership group (this node's own
   * replica may be behind).
   */
  private ClusterLayout committed() throws IOException {
    ClusterLayout mine = node.layout();
    ClusterConfig config = readCommitted(node, mine.membershipGroup(),
        MultipleLinearRandomRetry.parseCommaSeparated(node.tuning().clientRetries()));
    return mine.withPeers(config.getPeersList());
  }

  /**
   * The list of nodes the membership group has committed, read through its leader (read index),
   * reaching it through {@code group}'s peers, retrying as {@code retries} says.
   */
  static ClusterConfig readCommitted(ClusterNode node, RaftGroup group, RetryPolicy retries)
      throws IOException {
    try (RaftClient client = new MembershipChanges(node).client(group, retries)) {
      RaftClientReply reply = client.io().sendReadOnly(Message.EMPTY);
      if (!reply.isSuccess()) {
        throw new IOException("the membership group did not answer: " + reply.getException(),
            reply.getException());
      }
      return ClusterConfig.parseFrom(reply.getMessage().getContent().toByteArray());
    } catch (InvalidProtocolBufferException e) {
      throw new IOException("the membership group answered something that is not a list of"
          + " nodes", e);
    }
  }

  private static HostPort address(String text, String field) throws Refused {
    try {
      return HostPort.parse(text);
    } catch (IllegalArgumentException e) {
      throw new Refused(Refused.Kind.INVALID, field, field + " " + e.getMessage()
          + " (e.g. \"10.0.0.4:6001\")");
    }
  }

  /** Starts an empty member of {@code group} on {@code peer}; one it already has is kept. */
  private void addMember(RaftPeer peer, RaftGroup group) throws IOException {
    try (RaftClient client = client(RaftGroup.valueOf(group.getGroupId(), peer))) {
      RaftClientReply reply = client.getGroupManagementApi(peer.getId()).add(group, true);
      if (!reply.isSuccess() && !caused(reply.getException(), AlreadyExistsException.class)) {
        throw new IOException("node " + peer.getId() + " (Raft " + peer.getAddress()
            + ") did not take group " + group.getGroupId() + ": " + reply.getException()
            + " (was it started with --join on that address?)", reply.getException());
      }
    } catch (IOException e) {
      if (!caused(e, AlreadyExistsException.class)) {
        throw new IOException("node " + peer.getId() + " (Raft " + peer.getAddress()
            + ") did not take group " + group.getGroupId() + ": " + e.getMessage()
            + " (was it started with --join on that address?)", e);
      }
    }
  }

  /**
   * Drops the member; a node that does not answer keeps it (a warning, not a failure). Asked a
   * few times only: the node is no longer a member either way, a node that is down learns it
   * when it comes back ({@link ClusterNode#checkStillMember}), and the client's full retries
   * (about 22 s per group) made removing a node that is down take minutes.
   */
  private void removeMember(RaftPeer peer, RaftGroupId groupId, List<String> warnings) {
    try (RaftClient client = client(RaftGroup.valueOf(groupId, peer),
        RetryPolicies.retryUpToMaximumCountWithFixedSleep(3,
            TimeDuration.valueOf(200, TimeUnit.MILLISECONDS)))) {
      RaftClientReply reply = client.getGroupManagementApi(peer.getId())
          .remove(groupId, false, true);
      if (!reply.isSuccess() && !caused(reply.getException(), GroupMismatchException.class)) {
        warnings.add(peer.getId() + " did not drop group " + groupId + ": "
            + reply.getException());
      }
    } catch (IOException e) {
      if (!caused(e, GroupMismatchException.class)) {
        warnings.add(peer.getId() + " did not drop group " + groupId + " (" + e.getMessage()
            + "); it is no longer a member, its copy is ignored");
      }
    }
  }

  /** Asks the group's leader to change the members to {@code target}'s, until it is committed. */
  private void setConfiguration(RaftGroup reach, RaftGroup target) throws IOException {
    IOException last = null;
    try (RaftClient client = client(reach)) {
      for (int attempt = 1; attempt <= SET_CONFIGURATION_ATTEMPTS; attempt++) {
        try {
          RaftClientReply reply = client.admin().setConfiguration(
              new ArrayList<>(target.getPeers()));
          if (reply.isSuccess()) {
            return;
          }
          last = new IOException(String.valueOf(reply.getException()), reply.getException());
        } catch (IOException e) {
          last = e;
        }
        log.warn("group {}: setConfiguration to {} failed (attempt {}): {}", target.getGroupId(),
            target.getPeers(), attempt, last.getMessage());
      }
    }
    throw new IOException("group " + target.getGroupId() + " did not take its new members "
        + target.getPeers() + ": " + last.getMessage(), last);
  }

  /** Records the new list of nodes in the membership group (every node applies it). */
  private void record(RaftGroup membership, ClusterConfig config) throws IOException {
    write(membership, config.toByteArray(), "record the new list of nodes");
  }

  /** Replicates {@code entry} through the membership group; returns the group's reply. */
  private byte[] write(RaftGroup membership, byte[] entry, String what) throws IOException {
    try (RaftClient client = client(membership)) {
      RaftClientReply reply = client.io().send(Message.valueOf(ByteString.copyFrom(entry)));
      if (!reply.isSuccess()) {
        throw new IOException("the membership group did not " + what + ": "
            + reply.getException(), reply.getException());
      }
      return reply.getMessage().getContent().toByteArray();
    }
  }

  private RaftClient client(RaftGroup group) {
    return client(group,
        MultipleLinearRandomRetry.parseCommaSeparated(node.tuning().clientRetries()));
  }

  private RaftClient client(RaftGroup group, RetryPolicy retries) {
    return RaftClient.newBuilder()
        .setProperties(RaftProps.of(node.tuning()))
        .setParameters(RaftTls.parameters(node.tls()))
        .setRaftGroup(group)
        .setRetryPolicy(retries)
        .build();
  }

  private static RaftGroup union(RaftGroup a, RaftGroup b) {
    Map<Object, RaftPeer> peers = new LinkedHashMap<>();
    a.getPeers().forEach(p -> peers.put(p.getId(), p));
    b.getPeers().forEach(p -> peers.putIfAbsent(p.getId(), p));
    return RaftGroup.valueOf(a.getGroupId(), peers.values());
  }

  private static boolean caused(Throwable error, Class<? extends Throwable> type) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }

  private static String ids(ClusterLayout layout) {
    return String.join(", ", layout.config().getPeersList().stream()
        .map(ClusterPeer::getId).toList());
  }
}
