package dev.lightspeed.orchestrator.server;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Certificates made at test time (BouncyCastle): a CA, a server certificate for 127.0.0.1 and
 * localhost, and client certificates, as PEM files (keys as unencrypted PKCS#8), valid for a day.
 */
public final class TestCertificates {
  private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());
  private static final SecureRandom RANDOM = new SecureRandom();

  /** One CA and what it signed. */
  public record Authority(X500Name name, KeyPair keys, X509Certificate certificate, Path certFile) {}

  /** A signed certificate, its key, and their files. */
  public record Issued(Path certFile, Path keyFile, X509Certificate certificate, PrivateKey key) {}

  private TestCertificates() {}

  public static Authority authority(Path dir, String commonName) throws Exception {
    KeyPair keys = keyPair();
    X500Name name = new X500Name("CN=" + commonName);
    X509v3CertificateBuilder b = builder(name, name, keys);
    JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    b.addExtension(Extension.keyUsage, true,
        new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature));
    b.addExtension(Extension.subjectKeyIdentifier, false,
        ext.createSubjectKeyIdentifier(keys.getPublic()));
    X509Certificate cert = sign(b, keys);
    Path certFile = dir.resolve(commonName + ".pem");
    Files.writeString(certFile, pem(cert));
    return new Authority(name, keys, cert, certFile);
  }

  /** A server certificate for 127.0.0.1 and localhost. */
  public static Issued server(Path dir, Authority ca, String name) throws Exception {
    return issue(dir, ca, name, KeyPurposeId.id_kp_serverAuth, true);
  }

  public static Issued client(Path dir, Authority ca, String name) throws Exception {
    return issue(dir, ca, name, KeyPurposeId.id_kp_clientAuth, false);
  }

  /**
   * A cluster node's certificate (docs/cluster.md, "Security of Raft traffic"): CN and a DNS
   * subjectAltName {@code name} (the node id), valid for 127.0.0.1 and localhost, for both ends
   * of a connection (serverAuth and clientAuth).
   */
  public static Issued node(Path dir, Authority ca, String name) throws Exception {
    return issue(dir, ca, name, new KeyPurposeId[] {
        KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}, true, name);
  }

  private static Issued issue(
      Path dir, Authority ca, String name, KeyPurposeId purpose, boolean serverNames)
      throws Exception {
    return issue(dir, ca, name, new KeyPurposeId[] {purpose}, serverNames, null);
  }

  private static Issued issue(Path dir, Authority ca, String name, KeyPurposeId[] purposes,
      boolean serverNames, String dnsName) throws Exception {
    KeyPair keys = keyPair();
    X509v3CertificateBuilder b = builder(ca.name(), new X500Name("CN=" + name), keys);
    JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    b.addExtension(Extension.keyUsage, true,
        new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
    b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purposes));
    b.addExtension(Extension.authorityKeyIdentifier, false,
        ext.createAuthorityKeyIdentifier(ca.certificate()));
    if (serverNames) {
      java.util.List<GeneralName> names = new java.util.ArrayList<>(java.util.List.of(
          new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
          new GeneralName(GeneralName.dNSName, "localhost")));
      if (dnsName != null) {
        names.add(new GeneralName(GeneralName.dNSName, dnsName));
      }
      b.addExtension(Extension.subjectAlternativeName, false,
          new GeneralNames(names.toArray(new GeneralName[0])));
    }
    X509Certificate cert = sign(b, ca.keys());
    Path certFile = dir.resolve(name + ".pem");
    Path keyFile = dir.resolve(name + ".key");
    Files.writeString(certFile, pem(cert));
    Files.writeString(keyFile, pem(new JcaPKCS8Generator(keys.getPrivate(), null).generate()));
    return new Issued(certFile, keyFile, cert, keys.getPrivate());
  }

  private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair keys) {
    long now = System.currentTimeMillis();
    return new JcaX509v3CertificateBuilder(
        issuer,
        BigInteger.valueOf(SERIAL.incrementAndGet()),
        new Date(now - 60_000),
        new Date(now + 86_400_000),
        subject,
        keys.getPublic());
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, KeyPair signer)
      throws Exception {
    return new JcaX509CertificateConverter()
        .getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA")
            .build(signer.getPrivate())));
  }

  private static KeyPair keyPair() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(256, RANDOM);
    return g.generateKeyPair();
  }

  private static String pem(Object o) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      w.writeObject(o);
    }
    return out.toString();
  }
}
