package dev.lightspeed.orchestrator.replication;

import dev.lightspeed.orchestrator.cluster.ClusterLayout;
import dev.lightspeed.orchestrator.cluster.ClusterNode;
import dev.lightspeed.orchestrator.cluster.GroupClient;
import dev.lightspeed.orchestrator.cluster.GroupStatus;
import dev.lightspeed.orchestrator.cluster.RaftTls;
import dev.lightspeed.orchestrator.cluster.MembershipChanges;
import dev.lightspeed.orchestrator.v1.ClusterPeer;
import dev.lightspeed.orchestrator.v1.AddClusterNodeResponse;
import dev.lightspeed.orchestrator.v1.RemoveClusterNodeResponse;
import dev.lightspeed.orchestrator.v1.ClusterGroupChange;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.host.ServerReason;
import java.util.concurrent.atomic.AtomicReferenceArray;
import dev.lightspeed.orchestrator.cluster.RaftTuning;
import dev.lightspeed.orchestrator.host.PipelineRegistry;
import dev.lightspeed.orchestrator.grpc.ClusterRouting;
import dev.lightspeed.orchestrator.host.Limits;
import dev.lightspeed.orchestrator.v1.ClusterGroupStatus;
import dev.lightspeed.orchestrator.v1.GetClusterStatusResponse;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * One node of a cluster as the server hosts it (docs/cluster.md): a {@link ClusterNode} whose
 * groups hold the server's pipelines ({@link GroupState}, one per group this node is a member of),
 * and a Raft client per group of the cluster, which finds that group's leader itself. The server's
 * cluster service routes every call through it ({@link ClusterRouting}), so any node answers any
 * call, also for groups it is not a member of.
 */
public final class ClusterHost implements ClusterRouting, Closeable {
  /** With the pause growing by READ_PAUSE_MS each time: about 5 s of pauses in all. */
  private static final int READ_ATTEMPTS = 10;
  private static final long READ_PAUSE_MS = 100;

  /**
   * Leader balancing: first a few seconds after the start (the groups have elected someone),
   * then every 15 s; each round hands the groups this node leads to their preferred leaders.
   */
  private static final long BALANCE_FIRST_MS = 5_000;
  private static final long BALANCE_EVERY_MS = 15_000;

  private final java.util.concurrent.ScheduledExecutorService balancer =
      java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "leader-balancer");
        t.setDaemon(true);
        return t;
      });

  /** How long a replaced group client stays open, so that the calls already sent end. */
  private static final long RETIRED_CLIENT_CLOSE_MS = 30_000;

  private volatile ClusterLayout layout;
  private final ClusterNode node;
  private final RaftTuning tuning;
  /** Mutual TLS of the group clients' Raft traffic, or null for plaintext. */
  private final RaftTls tls;
  /** One client per group, replaced when the group's members change. */
  private final AtomicReferenceArray<GroupClient> clients;
  /**
   * Per group: this node's writes, several to one log entry while others are in flight; each
   * sends through the group's client of the moment.
   */
  private final List<EntryBatcher> batchers;
  /** This node's replicas, by group; Ratis makes each when the node gets the group. */
  private final Map<Integer, GroupState> replicas;
  private final MembershipChanges changes;
  /** What this node's replicas count into when they apply; empty while metrics are off. */
  private java.util.concurrent.atomic.AtomicReference<
      dev.lightspeed.orchestrator.metrics.DomainMetrics> counters;

  private ClusterHost(ClusterNode node, RaftTuning tuning, RaftTls tls,
      Map<Integer, GroupState> replicas) {
    this.node = node;
    this.tuning = tuning;
    this.tls = tls;
    this.replicas = replicas;
    this.layout = node.layout();
    this.clients = new AtomicReferenceArray<>(layout.groups());
    List<EntryBatcher> perGroup = new ArrayList<>(layout.groups());
    for (int g = 0; g < layout.groups(); g++) {
      clients.set(g, new GroupClient(layout, g, tuning, tls));
      int group = g;
      perGroup.add(new EntryBatcher(entry -> client(group).writeAsync(entry)));
    }
    this.batchers = List.copyOf(perGroup);
    this.changes = new MembershipChanges(node);
  }

  /** Starts node {@code nodeId}, its Raft data under {@code dataDir}, Raft in plaintext. */
  public static ClusterHost start(ClusterLayout layout, String nodeId, Path dataDir,
      Limits limits, RaftTuning tuning) throws IOException {
    return start(layout, nodeId, dataDir, limits, tuning, null, false);
  }

  /**
   * As above, the node's Raft server and its group clients speaking mutual TLS with {@code tls}
   * (plaintext when null).
   */
  public static ClusterHost start(ClusterLayout layout, String nodeId, Path dataDir,
      Limits limits, RaftTuning tuning, RaftTls tls) throws IOException {
    return start(layout, nodeId, dataDir, limits, tuning, tls, false);
  }

  /** As below, Raft in plaintext. */
  public static ClusterHost start(ClusterLayout layout, String nodeId, Path dataDir,
      Limits limits, RaftTuning tuning, boolean join) throws IOException {
    return start(layout, nodeId, dataDir, limits, tuning, null, join);
  }

  /**
   * As {@link #start(ClusterLayout, String, Path, Limits, RaftTuning, RaftTls)}; with {@code join}
   * the node holds no group until a member adds it (AddClusterNode), and refuses calls until
   * then.
   */
  public static ClusterHost start(ClusterLayout layout, String nodeId, Path dataDir,
      Limits limits, RaftTuning tuning, RaftTls tls, boolean join) throws IOException {
    Map<Integer, GroupState> replicas = new ConcurrentHashMap<>();
    java.util.concurrent.atomic.AtomicReference<dev.lightspeed.orchestrator.metrics.DomainMetrics>
        counters = new java.util.concurrent.atomic.AtomicReference<>();
    ClusterNode node = ClusterNode.start(layout, nodeId, dataDir, group -> {
      GroupState state = new GroupState(limits, counters::get);
      replicas.put(group, state);
      return state;
    }, tuning, tls, join);
    ClusterHost host = new ClusterHost(node, tuning, tls, replicas);
    host.counters = counters;
    node.setMembershipListener(host.new Listener());
    // A change applied while the host was being built: place by the node's latest list.
    host.membershipChanged(node.layout());
    host.balancer.scheduleWithFixedDelay(host::balanceLeaders, BALANCE_FIRST_MS, BALANCE_EVERY_MS,
        TimeUnit.MILLISECONDS);
    return host;
  }

  /** One round of leader balancing ({@link ClusterNode#handLeadershipToPreferred}). */
  private void balanceLeaders() {
    try {
      node.handLeadershipToPreferred();
    } catch (RuntimeException e) {
      // the next round tries again; a scheduled task that throws would never run again
    }
  }

  /** What the node reports of membership changes (docs/cluster.md, "Membership"). */
  private final class Listener implements ClusterNode.MembershipListener {
    @Override
    public void changed(ClusterLayout next) {
      membershipChanged(next);
    }

    /**
     * The node left the group: its replica stops applying, so the watch and Work streams it fed
     * end UNAVAILABLE and reconnect (to a member, since this node now refuses them).
     */
    @Override
    public void groupRemoved(int group) {
      GroupState gone = replicas.remove(group);
      if (gone == null) {
        return;
      }
      RuntimeException why = io.grpc.Status.UNAVAILABLE.withDescription("node " + node.nodeId()
          + " left Raft group " + group + " (a membership change): open the stream again on a"
          + " member; WatchEvents: after the last event id you received").asRuntimeException();
      var domain = counters.get();
      for (dev.lightspeed.orchestrator.host.PipelineHandle h : gone.registry().all()) {
        h.closeWatchers(why);
        if (domain != null) {
          domain.deleted(h.name()); // no longer this node's replica: its series go
        }
      }
    }

    @Override
    public void removed() {
      // isMember() turns false; the server's interceptor refuses calls from now on.
    }
  }

  /**
   * Routing follows the new list of nodes: the client of every group whose members changed is
   * replaced (the old one is closed a little later, so that calls already sent through it end).
   */
  private synchronized void membershipChanged(ClusterLayout next) {
    ClusterLayout previous = layout;
    layout = next;
    for (int g = 0; g < next.groups(); g++) {
      if (previous.placement().membersOf(g).equals(next.placement().membersOf(g))
          && clients.get(g) != null) {
        continue;
      }
      GroupClient retired = clients.getAndSet(g, new GroupClient(next, g, tuning, tls));
      if (retired != null) {
        CompletableFuture.delayedExecutor(RETIRED_CLIENT_CLOSE_MS, TimeUnit.MILLISECONDS)
            .execute(() -> {
              try {
                retired.close();
              } catch (IOException | RuntimeException e) {
                // Its pending calls fail, which they would anyway.
              }
            });
      }
    }
  }

  private GroupClient client(int group) {
    return clients.get(group);
  }

  @Override
  public void registerMetrics(dev.lightspeed.orchestrator.metrics.ServerMetrics metrics) {
    counters.set(new dev.lightspeed.orchestrator.metrics.DomainMetrics(metrics));
    metrics.registry.register(new RaftMetrics(node));
  }

  @Override
  public String notAMember() {
    if (node.isMember()) {
      return null;
    }
    ClusterLayout current = layout;
    String others = current.config().getPeersList().stream()
        .filter(p -> !p.getId().equals(node.nodeId()))
        .map(p -> p.getId() + " " + p.getApiAddress())
        .collect(java.util.stream.Collectors.joining(", "));
    if (node.isRemoved() || current.peer(node.nodeId()) == null) {
      return "node " + node.nodeId() + " was removed from cluster '" + current.config().getName()
          + "' (RemoveClusterNode) and serves nothing; call a node of the cluster: " + others;
    }
    return "node " + node.nodeId() + " was started with --join and is not a member of cluster '"
        + current.config().getName() + "' yet: add it with `lightspeed cluster add-node` (the"
        + " AddClusterNode call) through a member: " + others;
  }

  @Override
  public AddClusterNodeResponse addNode(ClusterPeer peer) throws IOException {
    MembershipChanges.Result done;
    try {
      done = changes.add(peer);
    } catch (MembershipChanges.Refused refused) {
      throw rejection(refused);
    }
    return AddClusterNodeResponse.newBuilder().addAllChanges(changes(done))
        .addAllPeers(done.after().getPeersList()).build();
  }

  @Override
  public RemoveClusterNodeResponse removeNode(String nodeId) throws IOException {
    MembershipChanges.Result done;
    try {
      done = changes.remove(nodeId);
    } catch (MembershipChanges.Refused refused) {
      throw rejection(refused);
    }
    return RemoveClusterNodeResponse.newBuilder().addAllChanges(changes(done))
        .addAllPeers(done.after().getPeersList()).build();
  }

  private static List<ClusterGroupChange> changes(MembershipChanges.Result done) {
    return done.changes().stream().map(c -> ClusterGroupChange.newBuilder().setGroup(c.group())
        .addAllOldMembers(c.oldMembers()).addAllNewMembers(c.newMembers()).build()).toList();
  }

  private static Rejection rejection(MembershipChanges.Refused refused) {
    ServerReason reason = switch (refused.kind()) {
      case INVALID -> ServerReason.INVALID_REQUEST;
      case EXISTS -> ServerReason.CLUSTER_NODE_EXISTS;
      case NOT_FOUND -> ServerReason.CLUSTER_NODE_NOT_FOUND;
      case TOO_SMALL -> ServerReason.CLUSTER_TOO_SMALL;
      case IN_PROGRESS -> ServerReason.CLUSTER_CHANGE_IN_PROGRESS;
    };
    return refused.field() == null ? Rejection.of(reason, refused.getMessage())
        : Rejection.ofField(reason, refused.field(), refused.getMessage());
  }

  public ClusterNode node() {
    return node;
  }

  public ClusterLayout layout() {
    return layout;
  }

  /**
   * How this node sees each of its groups (leader, term, commit index from Raft), with the
   * signature of its replica and the index that replica had applied when it was taken.
   */
  @Override
  public GetClusterStatusResponse status() throws IOException {
    GetClusterStatusResponse.Builder out = GetClusterStatusResponse.newBuilder()
        .setNodeId(node.nodeId()).setClusterName(layout.config().getName());
    for (GroupStatus raft : node.status()) {
      ClusterGroupStatus.Builder row = ClusterGroupStatus.newBuilder()
          .setGroup(raft.group())
          .addAllMembers(layout.placement().membersOf(raft.group()))
          .setLeaderId(raft.leader())
          .setRole(raft.role())
          .setTerm(raft.term())
          .setCommitIndex(raft.commitIndex())
          .setSnapshotIndex(raft.snapshotIndex());
      // The drafts at the applied index under the group's lock; the signatures after it.
      java.util.List<java.util.function.Supplier<GroupState.Summary>> finish =
          new java.util.ArrayList<>(1);
      long applied = node.stateMachine(raft.group()).readAtIndex((state, index) -> {
        finish.add(((GroupState) state).summaryInTwoSteps());
        return index;
      });
      GroupState.Summary s = finish.get(0).get();
      row.setAppliedIndex(applied).setSignature(s.signature())
          .setPipelineCount(s.pipelines()).setValid(s.valid());
      out.addGroups(row);
    }
    return out.build();
  }

  @Override
  public PipelineRegistry localReplica(String pipeline) {
    GroupState replica = replicas.get(groupOf(pipeline));
    return replica == null ? null : replica.registry();
  }

  @Override
  public List<PipelineRegistry> localReplicas() {
    return replicas.values().stream().map(GroupState::registry).toList();
  }

  @Override
  public List<String> membersOf(String pipeline) {
    return layout.placement().membersOf(groupOf(pipeline));
  }

  @Override
  public List<Member> relayOrder(String pipeline) {
    int group = groupOf(pipeline);
    ClusterLayout now = layout;
    List<String> ids = new ArrayList<>(now.placement().membersOf(group));
    String leader = client(group).leaderId();
    if (leader != null && ids.remove(leader)) {
      ids.add(0, leader);
    }
    List<Member> out = new ArrayList<>(ids.size());
    for (String id : ids) {
      ClusterPeer peer = now.peer(id);
      if (peer != null) {
        out.add(new Member(id, peer.getApiAddress()));
      }
    }
    return out;
  }

  @Override
  public int groupOf(String pipeline) {
    return layout.placement().groupOf(pipeline);
  }

  @Override
  public CompletableFuture<byte[]> write(String pipeline, byte[] entry) {
    return batchers.get(groupOf(pipeline)).write(entry).thenApply(GroupClient.Reply::bytes);
  }

  @Override
  public CompletableFuture<Applied> writeApplied(String pipeline, byte[] entry) {
    return batchers.get(groupOf(pipeline)).write(entry)
        .thenApply(reply -> new Applied(reply.bytes(), reply.index()));
  }

  @Override
  public long localAppliedIndex(String pipeline) {
    GroupState replica = replicas.get(groupOf(pipeline));
    return replica == null ? -1 : replica.lastAppliedIndex();
  }

  @Override
  public CompletableFuture<byte[]> read(String pipeline, byte[] query) {
    return read(client(groupOf(pipeline)), query, 1);
  }

  /**
   * A read-index read, retried: Ratis' client retries a write until a leader takes it, but
   * answers a read that a follower could not get a read index for (the leader changed, or has
   * not committed in its new term yet) with a failure at once. A read changes nothing, so it is
   * simply asked again, a bounded number of times with a growing pause.
   */
  private static CompletableFuture<byte[]> read(GroupClient client, byte[] query, int attempt) {
    return client.readAsync(query).thenApply(GroupClient.Reply::bytes)
        .handle((bytes, failure) -> {
          if (failure == null) {
            return CompletableFuture.completedFuture(bytes);
          }
          if (attempt >= READ_ATTEMPTS) {
            return CompletableFuture.<byte[]>failedFuture(failure);
          }
          Executor later = CompletableFuture.delayedExecutor(
              READ_PAUSE_MS * attempt, TimeUnit.MILLISECONDS);
          return CompletableFuture.supplyAsync(() -> null, later)
              .thenCompose(ignored -> read(client, query, attempt + 1));
        })
        .thenCompose(f -> f);
  }

  @Override
  public CompletableFuture<List<byte[]>> readEveryGroup(byte[] query) {
    List<CompletableFuture<byte[]>> reads = new ArrayList<>(clients.length());
    for (int g = 0; g < clients.length(); g++) {
      reads.add(read(client(g), query, 1));
    }
    return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new))
        .thenApply(done -> reads.stream().map(CompletableFuture::join).toList());
  }

  @Override
  public CompletableFuture<byte[]> readStale(String pipeline, byte[] query) {
    int group = groupOf(pipeline);
    return replicas.containsKey(group)
        ? readLocal(group, query) : read(client(group), query, 1);
  }

  @Override
  public CompletableFuture<List<byte[]>> readEveryGroupStale(byte[] query) {
    List<CompletableFuture<byte[]>> reads = new ArrayList<>(clients.length());
    for (int g = 0; g < clients.length(); g++) {
      reads.add(replicas.containsKey(g) ? readLocal(g, query) : read(client(g), query, 1));
    }
    return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new))
        .thenApply(done -> reads.stream().map(CompletableFuture::join).toList());
  }

  /**
   * This node's replica of the group answers the query as it is, under the state machine's lock
   * (as Ratis' own queries run): the same {@link GroupState#query} a linearizable read runs on
   * the leader, without asking the leader or a majority anything.
   */
  private CompletableFuture<byte[]> readLocal(int group, byte[] query) {
    try {
      return CompletableFuture.completedFuture(
          node.stateMachine(group).readAtIndex((state, applied) -> state.query(query)));
    } catch (IOException | RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Stops the Raft clients and the node; the data dir stays for the next start. */
  @Override
  public void close() throws IOException {
    balancer.shutdownNow();
    IOException first = null;
    for (int g = 0; g < clients.length(); g++) {
      try {
        clients.get(g).close();
      } catch (IOException e) {
        first = first == null ? e : first;
      }
    }
    node.close();
    if (first != null) {
      throw first;
    }
  }
}
