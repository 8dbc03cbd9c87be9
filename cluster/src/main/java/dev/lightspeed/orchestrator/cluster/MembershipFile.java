package dev.lightspeed.orchestrator.cluster;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.lightspeed.orchestrator.v1.ClusterConfig;
import dev.lightspeed.orchestrator.v1.ClusterPeer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's copy of the committed list of nodes, {@code <data-dir>/membership.json} (the cluster
 * file's JSON with the peers the membership group last applied), and the marker a removed node
 * leaves, {@code <data-dir>/removed-from-cluster}. Both are read before Raft starts: the committed
 * membership wins over an outdated cluster file, and a removed node refuses to start on its old
 * data (docs/cluster.md, "Membership").
 */
public final class MembershipFile {
  private static final Logger log = LoggerFactory.getLogger(MembershipFile.class);
  static final String FILE = "membership.json";
  static final String REMOVED = "removed-from-cluster";

  private MembershipFile() {}

  /**
   * The membership the node must use: the committed one from the data dir when there is one
   * (logging a warning when the cluster file lists other nodes), else the cluster file's.
   */
  public static ClusterConfig effective(ClusterConfig clusterFile, Path dataDir)
      throws IOException {
    return effective(clusterFile, dataDir, true);
  }

  /** As {@link #effective(ClusterConfig, Path)}, with or without the warning. */
  public static ClusterConfig effective(ClusterConfig clusterFile, Path dataDir, boolean warn)
      throws IOException {
    Optional<String> removed = removed(dataDir);
    if (removed.isPresent()) {
      throw new IOException("this node was removed from the cluster (" + removed.get() + ", "
          + dataDir.resolve(REMOVED) + "); to add it again, start it with an empty --data-dir"
          + " and --join, then run `lightspeed cluster add-node` against a member");
    }
    Optional<ClusterConfig> committed = read(dataDir);
    if (committed.isEmpty()) {
      return clusterFile;
    }
    ClusterConfig mine = committed.get();
    if (!mine.getName().equals(clusterFile.getName())) {
      throw new InvalidClusterConfig(java.util.List.of(dataDir.resolve(FILE) + " is of cluster '" + mine.getName()
          + "', the cluster file names '" + clusterFile.getName() + "': is this another"
          + " cluster's data dir?"));
    }
    if (warn && !peerSet(mine).equals(peerSet(clusterFile))) {
      log.atWarn().addKeyValue("event", "cluster_file_out_of_date")
          .log("the cluster file is out of date: it lists nodes {} but the cluster's committed"
              + " membership (changed with add-node / remove-node, kept in {}) is {}; using the"
              + " committed one. Update the cluster file on every node",
              ids(clusterFile), dataDir.resolve(FILE), ids(mine));
    }
    return mine;
  }

  private static Set<ClusterPeer> peerSet(ClusterConfig config) {
    return Set.copyOf(config.getPeersList());
  }

  private static String ids(ClusterConfig config) {
    return config.getPeersList().stream().map(ClusterPeer::getId)
        .collect(Collectors.joining(",", "[", "]"));
  }

  static Optional<ClusterConfig> read(Path dataDir) throws IOException {
    Path file = dataDir.resolve(FILE);
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    ClusterConfig.Builder b = ClusterConfig.newBuilder();
    try {
      JsonFormat.parser().merge(Files.readString(file, StandardCharsets.UTF_8), b);
    } catch (InvalidProtocolBufferException e) {
      throw new IOException(file + " is damaged: " + e.getMessage(), e);
    }
    return Optional.of(b.build());
  }

  /** Replaces the file atomically (a crash leaves the old or the new one, never half). */
  static void write(Path dataDir, ClusterConfig config) {
    try {
      Files.createDirectories(dataDir);
      Path tmp = dataDir.resolve(FILE + ".tmp");
      Files.writeString(tmp, JsonFormat.printer().print(config), StandardCharsets.UTF_8);
      Files.move(tmp, dataDir.resolve(FILE), StandardCopyOption.REPLACE_EXISTING,
          StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + dataDir.resolve(FILE), e);
    }
  }

  /** Why the node was removed, if it was. */
  public static Optional<String> removed(Path dataDir) throws IOException {
    Path marker = dataDir.resolve(REMOVED);
    return Files.exists(marker)
        ? Optional.of(Files.readString(marker, StandardCharsets.UTF_8).strip())
        : Optional.empty();
  }

  static void markRemoved(Path dataDir, String text) {
    try {
      Files.writeString(dataDir.resolve(REMOVED), text + "\n", StandardCharsets.UTF_8);
    } catch (IOException e) {
      log.warn("cannot write {}: a restart on this data dir would not know the node was removed",
          dataDir.resolve(REMOVED), e);
    }
  }
}
