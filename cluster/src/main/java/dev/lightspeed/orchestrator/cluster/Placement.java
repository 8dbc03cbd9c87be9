package dev.lightspeed.orchestrator.cluster;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.zip.CRC32;

/**
 * Where things live in a cluster, computed from the cluster file alone, so every node and every
 * client that reads the same file agrees without asking anyone (docs/cluster.md, "Placement").
 *
 * <ul>
 *   <li>A pipeline's group: CRC-32 (IEEE, as {@link CRC32} and zlib compute it) of the UTF-8
 *       bytes of its name, as an unsigned number, modulo the number of groups. Any language
 *       has this checksum, so a client can route by itself.
 *   <li>A group's members: rendezvous (highest random weight) hashing. Each node scores
 *       {@code first 8 bytes of SHA-256("<cluster>/<group index>/<node id>")} as a big-endian
 *       unsigned number; the {@code replicationFactor} highest scores are the members (ties,
 *       which SHA-256 makes practically impossible, go to the smaller id). A node joining or
 *       leaving changes only the groups whose top scores it enters or leaves, and each such
 *       group by exactly one member.
 * </ul>
 */
public final class Placement {
  private final String clusterName;
  private final int groups;
  private final int replicationFactor;
  private final List<String> nodeIds;

  /** Placement over these nodes; the order of {@code nodeIds} does not matter. */
  public Placement(String clusterName, int groups, int replicationFactor, List<String> nodeIds) {
    if (groups < 1) {
      throw new IllegalArgumentException("groups must be at least 1, was " + groups);
    }
    if (replicationFactor < 1 || replicationFactor > nodeIds.size()) {
      throw new IllegalArgumentException("replication factor " + replicationFactor
          + " needs between 1 and " + nodeIds.size() + " nodes");
    }
    this.clusterName = clusterName;
    this.groups = groups;
    this.replicationFactor = replicationFactor;
    this.nodeIds = List.copyOf(nodeIds);
  }

  public int groups() {
    return groups;
  }

  /** The group (0 to groups - 1) that holds the pipeline of this name. */
  public int groupOf(String pipelineName) {
    return groupOf(pipelineName, groups);
  }

  /** CRC-32 of the UTF-8 name, unsigned, modulo {@code groups}. */
  static int groupOf(String pipelineName, int groups) {
    CRC32 crc = new CRC32();
    crc.update(pipelineName.getBytes(StandardCharsets.UTF_8));
    return (int) (crc.getValue() % groups);
  }

  /** The group's members, highest score first. */
  public List<String> membersOf(int group) {
    if (group < 0 || group >= groups) {
      throw new IllegalArgumentException("group " + group + " is not in 0.." + (groups - 1));
    }
    List<Scored> scored = new ArrayList<>(nodeIds.size());
    for (String id : nodeIds) {
      scored.add(new Scored(id, score(clusterName, group, id)));
    }
    scored.sort(Comparator.comparing((Scored s) -> s.score, Long::compareUnsigned)
        .reversed()
        .thenComparing(s -> s.id));
    List<String> members = new ArrayList<>(replicationFactor);
    for (int i = 0; i < replicationFactor; i++) {
      members.add(scored.get(i).id);
    }
    return List.copyOf(members);
  }

  /** The groups this node is a member of, in ascending order. */
  public List<Integer> groupsOf(String nodeId) {
    List<Integer> result = new ArrayList<>();
    for (int g = 0; g < groups; g++) {
      if (membersOf(g).contains(nodeId)) {
        result.add(g);
      }
    }
    return List.copyOf(result);
  }

  /** The rendezvous score of a node for a group: 64 bits of SHA-256, compared unsigned. */
  static long score(String clusterName, int group, String nodeId) {
    byte[] key = (clusterName + "/" + group + "/" + nodeId).getBytes(StandardCharsets.UTF_8);
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(key);
      return ByteBuffer.wrap(digest).getLong();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  private record Scored(String id, long score) {}
}
