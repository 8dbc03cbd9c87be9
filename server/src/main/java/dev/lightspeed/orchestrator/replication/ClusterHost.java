package dev.lightspeed.orchestrator.replication;

import dev.lightspeed.orchestrator.cluster.ClusterLayout;
import dev.lightspeed.orchestrator.cluster.ClusterNode;
import dev.lightspeed.orchestrator.cluster.GroupClient;
import dev.lightspeed.orchestrator.cluster.GroupStatus;
import dev.lightspeed.orchestrator.cluster.RaftTls;
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

  private final ClusterLayout layout;
  private final ClusterNode node;
  private final List<GroupClient> clients;
  /** Per group: this node's writes, several to one log entry while others are in flight. */
  private final List<EntryBatcher> batchers;
  /** This node's replicas, by group; Ratis makes each once per start. */
  private final Map<Integer, GroupState> replicas;

  private ClusterHost(ClusterLayout layout, ClusterNode node, List<GroupClient> clients,
      Map<Integer, GroupState> replicas) {
    this.layout = layout;
    this.node = node;
    this.clients = clients;
    this.batchers = clients.stream().map(c -> new EntryBatcher(c::writeAsync)).toList();
    this.replicas = replicas;
  }

  /** Starts node {@code nodeId}, its Raft data under {@code dataDir}, Raft in plaintext. */
  public static ClusterHost start(ClusterLayout layout, String nodeId, Path dataDir,
      Limits limits, RaftTuning tuning) throws IOException {
    return start(layout, nodeId, dataDir, limits, tuning, null);
  }

  /**
   * As above, the node's Raft server and its group clients speaking mutual TLS with {@code tls}
   * (plaintext when null).
   */
  public static ClusterHost start(ClusterLayout layout, String nodeId, Path dataDir,
      Limits limits, RaftTuning tuning, RaftTls tls) throws IOException {
    Map<Integer, GroupState> replicas = new ConcurrentHashMap<>();
    ClusterNode node = ClusterNode.start(layout, nodeId, dataDir, group -> {
      GroupState state = new GroupState(limits);
      replicas.put(group, state);
      return state;
    }, tuning, tls);
    List<GroupClient> clients = new ArrayList<>(layout.groups());
    for (int g = 0; g < layout.groups(); g++) {
      clients.add(new GroupClient(layout, g, tuning, tls));
    }
    return new ClusterHost(layout, node, clients, replicas);
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
      node.stateMachine(raft.group()).readAtIndex((state, applied) -> {
        GroupState.Summary s = ((GroupState) state).summary();
        return row.setAppliedIndex(applied).setSignature(s.signature())
            .setPipelineCount(s.pipelines()).setValid(s.valid());
      });
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
    return read(clients.get(groupOf(pipeline)), query, 1);
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
    List<CompletableFuture<byte[]>> reads = new ArrayList<>(clients.size());
    for (GroupClient client : clients) {
      reads.add(read(client, query, 1));
    }
    return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new))
        .thenApply(done -> reads.stream().map(CompletableFuture::join).toList());
  }

  @Override
  public CompletableFuture<byte[]> readStale(String pipeline, byte[] query) {
    int group = groupOf(pipeline);
    return replicas.containsKey(group)
        ? readLocal(group, query) : read(clients.get(group), query, 1);
  }

  @Override
  public CompletableFuture<List<byte[]>> readEveryGroupStale(byte[] query) {
    List<CompletableFuture<byte[]>> reads = new ArrayList<>(clients.size());
    for (int g = 0; g < clients.size(); g++) {
      reads.add(replicas.containsKey(g) ? readLocal(g, query) : read(clients.get(g), query, 1));
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
    IOException first = null;
    for (GroupClient client : clients) {
      try {
        client.close();
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
