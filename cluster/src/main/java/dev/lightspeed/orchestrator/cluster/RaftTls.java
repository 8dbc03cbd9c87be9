package dev.lightspeed.orchestrator.cluster;

import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcTlsConfig;

/**
 * Mutual TLS for a node's Raft traffic (docs/cluster.md, "Security of Raft traffic"): the node's
 * certificate and key ({@code --tls-cert}, {@code --tls-key}) on its Raft server and on every
 * Raft client it opens, and the CA of {@code --tls-client-ca} plus the cluster file's node ids
 * ({@link PeerCertificateCheck}) for the certificates of the other side. The files are read and
 * checked once, when the node starts.
 */
public final class RaftTls {
  private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
  private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
  private static final char[] NO_PASSWORD = new char[0];

  private final KeyManager keyManager;
  private final PeerCertificateCheck trustManager;

  private RaftTls(KeyManager keyManager, PeerCertificateCheck trustManager) {
    this.keyManager = keyManager;
    this.trustManager = trustManager;
  }

  /** Accepts these nodes' certificates from now on too ({@link PeerCertificateCheck#trustAlso}). */
  void trustAlso(Iterable<dev.lightspeed.orchestrator.v1.ClusterPeer> peers) {
    trustManager.trustAlso(peers);
  }

  /**
   * Reads the files for node {@code nodeId}; an {@link IOException} says which file is unusable
   * and why: unreadable, not PEM, a key that does not belong to the certificate, a certificate
   * that does not name {@code nodeId} (the other nodes would refuse it), or one not made for
   * both ends of a connection (extended key usage without serverAuth or clientAuth).
   */
  public static RaftTls load(ClusterLayout layout, String nodeId, Path certFile, Path keyFile,
      Path caFile) throws IOException {
    List<X509Certificate> chain = PemFiles.certificates(certFile);
    PrivateKey key = PemFiles.privateKey(keyFile);
    List<X509Certificate> authorities = PemFiles.certificates(caFile);
    X509Certificate leaf = chain.get(0);
    requireKeyOf(leaf, key, certFile, keyFile);
    if (!CertificateNames.of(leaf).contains(nodeId)) {
      throw new IOException(certFile + " does not name node '" + nodeId + "': "
          + CertificateNames.describe(leaf) + ". A node's certificate carries its node id as"
          + " its CN or a DNS subjectAltName, or the other nodes refuse it");
    }
    requireBothEnds(leaf, certFile);
    try {
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      keys.setKeyEntry("node", key, NO_PASSWORD, chain.toArray(new X509Certificate[0]));
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keys, NO_PASSWORD);

      KeyStore trusted = KeyStore.getInstance("PKCS12");
      trusted.load(null, null);
      for (int i = 0; i < authorities.size(); i++) {
        trusted.setCertificateEntry("ca-" + i, authorities.get(i));
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
      tmf.init(trusted);
      X509ExtendedTrustManager pkix = null;
      for (TrustManager tm : tmf.getTrustManagers()) {
        if (tm instanceof X509ExtendedTrustManager x) {
          pkix = x;
        }
      }
      if (pkix == null) {
        throw new IOException("the JDK has no PKIX X509ExtendedTrustManager");
      }
      PlaintextPeerLog.install();
      return new RaftTls(kmf.getKeyManagers()[0], new PeerCertificateCheck(pkix, layout));
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot use " + certFile + ", " + keyFile + " and " + caFile
          + " for TLS: " + e.getMessage(), e);
    }
  }

  /** Ratis' parameters for a server or client: mutual TLS for the server, client and admin ports. */
  public Parameters parameters() {
    Parameters p = new Parameters();
    GrpcConfigKeys.TLS.setConf(p, new GrpcTlsConfig(keyManager, trustManager, true));
    return p;
  }

  /** Plaintext Ratis when {@code tls} is null. */
  static Parameters parameters(RaftTls tls) {
    return tls == null ? new Parameters() : tls.parameters();
  }

  /** A key from another pair would only show as failed handshakes on every other node. */
  private static void requireKeyOf(X509Certificate cert, PrivateKey key, Path certFile,
      Path keyFile) throws IOException {
    byte[] probe = "lightspeed raft key check".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    try {
      String algorithm = switch (key.getAlgorithm()) {
        case "EC" -> "SHA256withECDSA";
        case "RSA" -> "SHA256withRSA";
        default -> key.getAlgorithm();
      };
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(cert.getPublicKey());
      verifier.update(probe);
      if (verifier.verify(signature)) {
        return;
      }
    } catch (GeneralSecurityException e) {
      // A key of another algorithm than the certificate's: refused below.
    }
    throw new IOException(keyFile + " is not the private key of the certificate in " + certFile);
  }

  /**
   * A node presents the same certificate as a TLS server (peers dial it) and as a TLS client (it
   * dials them); PKIX refuses it at the other end if its extended key usage lacks either.
   */
  private static void requireBothEnds(X509Certificate cert, Path certFile) throws IOException {
    List<String> usages;
    try {
      usages = cert.getExtendedKeyUsage();
    } catch (CertificateParsingException e) {
      throw new IOException(certFile + ": its extended key usage cannot be read: " + e, e);
    }
    if (usages != null && !(usages.contains(SERVER_AUTH) && usages.contains(CLIENT_AUTH))) {
      throw new IOException(certFile + " has an extended key usage without "
          + (usages.contains(SERVER_AUTH) ? "clientAuth" : usages.contains(CLIENT_AUTH)
              ? "serverAuth" : "serverAuth and clientAuth")
          + ": a cluster node's certificate is both, since it also dials the other nodes"
          + " (openssl: -addext extendedKeyUsage=serverAuth,clientAuth)");
    }
  }
}
