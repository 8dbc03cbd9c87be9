package dev.lightspeed.orchestrator.replication;

import dev.lightspeed.orchestrator.cluster.ClusterLayout;
import dev.lightspeed.orchestrator.cluster.ClusterNode;
import dev.lightspeed.orchestrator.cluster.GroupClient;
import dev.lightspeed.orchestrator.cluster.GroupStatus;
import dev.lightspeed.orchestrator.cluster.RaftTuning;
import dev.lightspeed.orchestrator.server.ClusterRouting;
import dev.lightspeed.orchestrator.server.GroupState;
import dev.lightspeed.orchestrator.server.Limits;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One node of a cluster as the server hosts it (docs/cluster.md): a {@link ClusterNode} whose
 * groups hold the server's pipelines ({@link GroupState}, one per group this node is a member of),
 * and a Raft client per group of the cluster, which finds that group's leader itself. The server's
 * cluster service routes every call through it ({@link ClusterRouting}), so any node answers any
 * call, also for groups it is not a member of.
 */
public final class ClusterHost implements ClusterRouting, Closeable {
  private final ClusterLayout layout;
  private final ClusterNode node;
  private final List<GroupClient> clients;

  private ClusterHost(ClusterLayout layout, ClusterNode node, List<GroupClient> clients) {
    this.layout = layout;
    this.node = node;
    this.clients = clients;
  }

  /** Starts node {@code nodeId}, its Raft data under {@code dataDir}. */
  public static ClusterHost start(ClusterLayout layout, String nodeId, Path dataDir,
      Limits limits, RaftTuning tuning) throws IOException {
    ClusterNode node =
        ClusterNode.start(layout, nodeId, dataDir, group -> new GroupState(limits), tuning);
    List<GroupClient> clients = new ArrayList<>(layout.groups());
    for (int g = 0; g < layout.groups(); g++) {
      clients.add(new GroupClient(layout, g, tuning));
    }
    return new ClusterHost(layout, node, clients);
  }

  public ClusterNode node() {
    return node;
  }

  public ClusterLayout layout() {
    return layout;
  }

  /** How this node sees each of its groups (leader, term, commit and applied index). */
  public List<GroupStatus> status() throws IOException {
    return node.status();
  }

  @Override
  public int groupOf(String pipeline) {
    return layout.placement().groupOf(pipeline);
  }

  @Override
  public CompletableFuture<byte[]> write(String pipeline, byte[] entry) {
    return clients.get(groupOf(pipeline)).writeAsync(entry).thenApply(GroupClient.Reply::bytes);
  }

  @Override
  public CompletableFuture<byte[]> read(String pipeline, byte[] query) {
    return clients.get(groupOf(pipeline)).readAsync(query).thenApply(GroupClient.Reply::bytes);
  }

  @Override
  public CompletableFuture<List<byte[]>> readEveryGroup(byte[] query) {
    List<CompletableFuture<byte[]>> reads = new ArrayList<>(clients.size());
    for (GroupClient client : clients) {
      reads.add(client.readAsync(query).thenApply(GroupClient.Reply::bytes));
    }
    return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new))
        .thenApply(done -> reads.stream().map(CompletableFuture::join).toList());
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
