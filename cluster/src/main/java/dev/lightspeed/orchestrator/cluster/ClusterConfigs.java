package dev.lightspeed.orchestrator.cluster;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.lightspeed.orchestrator.v1.ClusterConfig;
import dev.lightspeed.orchestrator.v1.ClusterPeer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Reads and checks the cluster file ({@code --cluster FILE}). Every node reads the same file, so
 * a file that one node accepts is accepted by all: the checks depend on the file alone, except
 * {@link #requireNode}, which checks the node's own {@code --node-id}.
 */
public final class ClusterConfigs {
  /** The Raft group size when the file leaves replication_factor at 0. */
  public static final int DEFAULT_REPLICATION_FACTOR = 3;

  private static final Pattern NAME = Pattern.compile("[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?");
  static final Pattern NODE_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");

  private ClusterConfigs() {}

  /** Reads, parses and validates the file. */
  public static ClusterConfig load(Path file) throws IOException {
    String json;
    try {
      json = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new InvalidClusterConfig("cannot read cluster file " + file + ": " + e, e);
    }
    return validate(parse(json));
  }

  /** The file's proto3 JSON; unknown fields are refused, so a misspelt field is not ignored. */
  public static ClusterConfig parse(String json) throws InvalidClusterConfig {
    ClusterConfig.Builder builder = ClusterConfig.newBuilder();
    try {
      JsonFormat.parser().merge(json, builder);
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidClusterConfig(
          "cluster file is not a ClusterConfig: " + e.getMessage(), e);
    }
    return builder.build();
  }

  /** The Raft group size the file asks for (3 when it says 0). */
  public static int replicationFactor(ClusterConfig config) {
    return config.getReplicationFactor() == 0
        ? DEFAULT_REPLICATION_FACTOR
        : config.getReplicationFactor();
  }

  /** Returns the config if it is usable; otherwise throws with every problem found. */
  public static ClusterConfig validate(ClusterConfig config) throws InvalidClusterConfig {
    List<String> problems = problems(config);
    if (!problems.isEmpty()) {
      throw new InvalidClusterConfig(problems);
    }
    return config;
  }

  /** Every problem of the file, each saying what to change; empty if there is none. */
  public static List<String> problems(ClusterConfig config) {
    List<String> problems = new ArrayList<>();
    if (!NAME.matcher(config.getName()).matches()) {
      problems.add("name '" + config.getName() + "' must be 1 to 63 lowercase letters, digits"
          + " or '-', starting and ending with a letter or digit (e.g. \"prod-eu\")");
    }
    if (config.getGroups() < 1) {
      problems.add("groups is " + config.getGroups() + ": set it to 1 or more (the number of"
          + " Raft groups; it cannot change later, so leave room to grow, e.g. 8)");
    }
    int factor = replicationFactor(config);
    if (factor < 0) {
      problems.add("replicationFactor is " + factor + ": use 3 (or 0, which means 3), or 5");
    } else if (factor % 2 == 0) {
      problems.add("replicationFactor is " + factor + ": use an odd number (3 or 5); a group"
          + " of " + factor + " survives no more failures than one of " + (factor - 1));
    }
    checkPeers(config, factor, problems);
    return problems;
  }

  private static void checkPeers(ClusterConfig config, int factor, List<String> problems) {
    Map<String, Integer> ids = new HashMap<>();
    Map<HostPort, String> addresses = new HashMap<>();
    for (int i = 0; i < config.getPeersCount(); i++) {
      ClusterPeer peer = config.getPeers(i);
      String where = "peers[" + i + "]";
      if (!NODE_ID.matcher(peer.getId()).matches()) {
        problems.add(where + ".id '" + peer.getId() + "' must be 1 to 64 letters, digits, '-'"
            + " or '_' (e.g. \"n1\")");
      } else {
        Integer first = ids.putIfAbsent(peer.getId(), i);
        if (first != null) {
          problems.add(where + ".id '" + peer.getId() + "' is already the id of peers[" + first
              + "]: give every node its own id");
        }
      }
      checkAddress(where + ".raftAddress", peer.getRaftAddress(), addresses, problems);
      checkAddress(where + ".apiAddress", peer.getApiAddress(), addresses, problems);
    }
    if (factor > 0 && config.getPeersCount() < factor) {
      problems.add("peers lists " + config.getPeersCount() + " node(s), fewer than"
          + " replicationFactor " + factor + ": add peers or lower replicationFactor");
    }
  }

  private static void checkAddress(
      String where, String text, Map<HostPort, String> seen, List<String> problems) {
    HostPort address;
    try {
      address = HostPort.parse(text);
    } catch (IllegalArgumentException e) {
      problems.add(where + " " + e.getMessage() + " (e.g. \"10.0.0.1:6001\")");
      return;
    }
    String first = seen.putIfAbsent(address, where);
    if (first != null) {
      problems.add(where + " " + address + " is also " + first
          + ": every Raft and API address must be a port of its own");
    }
  }

  /** The entry of {@code nodeId}; the message lists the ids the file has. */
  public static ClusterPeer requireNode(ClusterConfig config, String nodeId)
      throws InvalidClusterConfig {
    for (ClusterPeer peer : config.getPeersList()) {
      if (peer.getId().equals(nodeId)) {
        return peer;
      }
    }
    String known = config.getPeersList().stream()
        .map(ClusterPeer::getId)
        .collect(Collectors.joining(", "));
    throw new InvalidClusterConfig(List.of("node id '" + nodeId + "' is not one of the cluster"
        + " file's peers (" + known + "): pass one of them with --node-id, or add this node to"
        + " peers on every node"));
  }

  /** The peer's Raft address. */
  static HostPort raftAddress(ClusterPeer peer) {
    return HostPort.parse(peer.getRaftAddress());
  }
}
