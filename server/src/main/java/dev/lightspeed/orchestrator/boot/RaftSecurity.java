package dev.lightspeed.orchestrator.boot;

import dev.lightspeed.orchestrator.cluster.ClusterLayout;
import dev.lightspeed.orchestrator.cluster.RaftTls;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a cluster node protects its Raft traffic, from the API's TLS flags (docs/cluster.md,
 * "Security of Raft traffic"): with {@code --tls-cert}, {@code --tls-key} and a CA for the nodes
 * ({@code --raft-tls-ca}, else {@code --tls-client-ca}), mutual TLS between the nodes, each
 * certificate checked against that CA and the cluster file's node ids; without TLS, plaintext,
 * which a non-loopback raftAddress allows only with {@code --insecure}.
 */
final class RaftSecurity {
  private static final Logger log = LoggerFactory.getLogger(RaftSecurity.class);

  private RaftSecurity() {}

  /**
   * Why the node must not start with these flags, or null: TLS without a CA to check the other
   * nodes by (there is no way to authenticate a peer, and Raft in plaintext beside a TLS API would
   * be a silent downgrade), or plaintext Raft on a non-loopback address without --insecure.
   */
  static String problem(ProductionOptions options, java.nio.file.Path raftTlsCa, String nodeId,
      String raftHost, String raftAddress) throws UnknownHostException {
    if (raftTlsCa != null && !options.tls()) {
      return "--raft-tls-ca needs --tls-cert and --tls-key: they are the certificate each node"
          + " presents to the others (docs/cluster.md, \"Security of Raft traffic\")";
    }
    if (options.tls() && options.tlsClientCa == null && raftTlsCa == null) {
      return "a cluster node with --tls-cert needs a CA to check the other nodes by:"
          + " --raft-tls-ca FILE (the CA of the nodes' certificates; the API's clients can then"
          + " use tokens alone) or --tls-client-ca FILE (which then also checks the API's client"
          + " certificates). The nodes' Raft traffic is mutual TLS (docs/cluster.md, \"Security"
          + " of Raft traffic\")";
    }
    if (options.tls() || options.insecure
        || InetAddress.getByName(raftHost).isLoopbackAddress()) {
      return null;
    }
    return "refusing to run Raft on " + raftAddress + " (the raftAddress of " + nodeId + "),"
        + " which is not a loopback address, in plaintext: anyone who reaches it could vote,"
        + " append to the groups' logs or read them. Add --tls-cert, --tls-key and"
        + " --raft-tls-ca or --tls-client-ca (mutual TLS between the nodes), give the nodes"
        + " loopback raft addresses, or pass --insecure to run this way anyway.";
  }

  /** The node's Raft TLS, read and checked, or null for plaintext. */
  static RaftTls tls(ProductionOptions options, java.nio.file.Path raftTlsCa,
      ClusterLayout layout, String nodeId) throws IOException {
    if (!options.tls()) {
      return null;
    }
    return RaftTls.load(layout, nodeId, options.tlsCert, options.tlsKey,
        raftTlsCa != null ? raftTlsCa : options.tlsClientCa);
  }

  /**
   * INFO {@code event=raft_security mutual_tls=}; WARN {@code event=insecure_raft} when
   * --insecure lets a non-loopback raftAddress go in plaintext.
   */
  static void log(RaftTls tls, boolean ownCa, String raftHost, String raftAddress)
      throws UnknownHostException {
    log.atInfo().addKeyValue("event", "raft_security").addKeyValue("mutual_tls", tls != null)
        .addKeyValue("raft_address", raftAddress)
        .log(tls != null
            ? "Raft traffic is mutual TLS; peers must hold a certificate of "
                + (ownCa ? "--raft-tls-ca" : "--tls-client-ca")
                + " that names a node of the cluster file"
            : "Raft traffic is plaintext");
    if (tls == null && !InetAddress.getByName(raftHost).isLoopbackAddress()) {
      log.atWarn().addKeyValue("event", "insecure_raft").addKeyValue("raft_address", raftAddress)
          .log("--insecure: Raft in plaintext on a non-loopback address; anyone who reaches it"
              + " can take part in the cluster");
    }
  }
}
