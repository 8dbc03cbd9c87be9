package dev.lightspeed.orchestrator.cluster;

import dev.lightspeed.orchestrator.v1.ClusterPeer;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trust manager of a node's Raft traffic, both ways: first the JDK's PKIX check against the
 * CA of {@code --tls-client-ca} (chain, validity, key usage, and, when dialing, the dialed host
 * against the certificate's subjectAltName), then the cluster file's: the certificate must name a
 * node of the file ({@link CertificateNames}), and when this node dials a peer's raftAddress, the
 * node of that address. Why the second check: the same CA signs the API clients' certificates
 * (one {@code --tls-client-ca} for both), and a worker's certificate must not let it vote or
 * append to a log. A refusal fails the TLS handshake and is logged once per certificate and
 * reason, at WARN {@code event=raft_peer_refused}.
 */
final class PeerCertificateCheck extends X509ExtendedTrustManager {
  private static final Logger log = LoggerFactory.getLogger(PeerCertificateCheck.class);
  /** Bounds the memory of what was logged; an attacker can make new certificates at will. */
  private static final int MAX_REMEMBERED = 1_000;

  private final X509ExtendedTrustManager pkix;
  private final String clusterName;
  /** Replaced whole ({@link #trustAlso}); read by every handshake. */
  private volatile Set<String> nodeIds;
  private volatile Map<HostPort, String> nodeByRaftAddress;
  private final Set<String> logged = ConcurrentHashMap.newKeySet();

  PeerCertificateCheck(X509ExtendedTrustManager pkix, ClusterLayout layout) {
    this.pkix = pkix;
    this.clusterName = layout.config().getName();
    this.nodeIds = layout.config().getPeersList().stream().map(ClusterPeer::getId)
        .collect(Collectors.toUnmodifiableSet());
    this.nodeByRaftAddress = layout.config().getPeersList().stream().collect(
        Collectors.toUnmodifiableMap(ClusterConfigs::raftAddress, ClusterPeer::getId));
  }

  /**
   * Accepts {@code peers} from now on as well (docs/cluster.md, "Adding a node under mutual
   * TLS"): a node being added, as soon as the change that adds it starts, and every list of nodes
   * the membership group applies. Nothing is forgotten until the node restarts, so a node being
   * removed can still be told to drop its groups.
   */
  synchronized void trustAlso(Iterable<ClusterPeer> peers) {
    Set<String> ids = new java.util.HashSet<>(nodeIds);
    Map<HostPort, String> byAddress = new java.util.HashMap<>(nodeByRaftAddress);
    for (ClusterPeer p : peers) {
      ids.add(p.getId());
      byAddress.put(ClusterConfigs.raftAddress(p), p.getId());
    }
    nodeIds = Set.copyOf(ids);
    nodeByRaftAddress = Map.copyOf(byAddress);
  }

  // ---- a peer connecting to this node (this node is the TLS server) ------------------------

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    check(chain, "incoming", null, () -> pkix.checkClientTrusted(chain, authType, engine));
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    check(chain, "incoming", null, () -> pkix.checkClientTrusted(chain, authType, socket));
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    check(chain, "incoming", null, () -> pkix.checkClientTrusted(chain, authType));
  }

  // ---- this node dialing a peer's raftAddress (this node is the TLS client) ----------------

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    String host = engine == null ? null : engine.getPeerHost();
    int port = engine == null ? -1 : engine.getPeerPort();
    check(chain, dialing(host, port), expectedNode(host, port),
        () -> pkix.checkServerTrusted(chain, authType, engine));
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    check(chain, "dialing", null, () -> pkix.checkServerTrusted(chain, authType, socket));
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    check(chain, "dialing", null, () -> pkix.checkServerTrusted(chain, authType));
  }

  /**
   * None named: a TLS server names the CAs it accepts to help clients choose a certificate, and
   * a client holding none of those sends no certificate at all, which the TLS library refuses
   * before this check could say why. Unnamed, every client sends what it has, and a certificate
   * of another CA is refused here, logged with its subject and issuer. The CA is still the only
   * trust anchor ({@code pkix}).
   */
  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return new X509Certificate[0];
  }

  private static String dialing(String host, int port) {
    return host == null ? "dialing" : "dialing " + new HostPort(host, port);
  }

  /**
   * The node whose raftAddress this node dialed, or null when the engine does not say (then any
   * node of the file is accepted). Ratis dials the addresses of the file as written, so a known
   * address is the normal case.
   */
  private String expectedNode(String host, int port) {
    if (host == null || port <= 0) {
      return null;
    }
    String bare = host.startsWith("[") && host.endsWith("]")
        ? host.substring(1, host.length() - 1) : host;
    // As HostPort.parse normalizes the file's addresses: host names compare without case.
    String node = nodeByRaftAddress.get(new HostPort(bare.toLowerCase(Locale.ROOT), port));
    // An address outside the file: no name can make it a peer.
    return node == null ? "" : node;
  }

  private interface PkixCheck {
    void run() throws CertificateException;
  }

  private void check(X509Certificate[] chain, String direction, String expected, PkixCheck pkixCheck)
      throws CertificateException {
    if (chain == null || chain.length == 0) {
      throw refuse(direction, null, "no certificate", null);
    }
    X509Certificate leaf = chain[0];
    try {
      pkixCheck.run();
    } catch (CertificateException e) {
      throw refuse(direction, leaf, "fails the TLS checks (signed by a CA of --tls-client-ca,"
          + " dates, key usage, host): " + e.getMessage(), e);
    }
    Set<String> names = CertificateNames.of(leaf);
    if (expected == null) {
      if (names.stream().noneMatch(nodeIds::contains)) {
        throw refuse(direction, leaf, "it names no node of cluster '" + clusterName + "' "
            + nodeIds.stream().sorted().toList() + " in its CN or DNS subjectAltName", null);
      }
    } else if (!names.contains(expected)) {
      throw refuse(direction, leaf, expected.isEmpty()
          ? "the address is no raftAddress of cluster '" + clusterName + "'"
          : "it does not name node '" + expected + "', whose raftAddress this is, in its CN or"
              + " DNS subjectAltName", null);
    }
  }

  private CertificateException refuse(
      String direction, X509Certificate leaf, String reason, Throwable cause) {
    String who = leaf == null ? "a peer" : CertificateNames.describe(leaf);
    String message = "Raft peer refused (" + direction + "): " + who + ": " + reason;
    if (logged.size() > MAX_REMEMBERED) {
      logged.clear();
    }
    if (logged.add(direction + "|" + who + "|" + reason)) {
      log.atWarn().addKeyValue("event", "raft_peer_refused").addKeyValue("direction", direction)
          .log(message + " (logged once per certificate and reason)");
    }
    return cause == null ? new CertificateException(message)
        : new CertificateException(message, cause);
  }
}
