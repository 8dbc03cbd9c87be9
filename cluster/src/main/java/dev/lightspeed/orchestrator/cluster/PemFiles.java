package dev.lightspeed.orchestrator.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;

/**
 * Reads the PEM files of {@code --tls-cert}, {@code --tls-key} and {@code --tls-client-ca} for
 * Raft (the API's gRPC server reads them itself): certificates, and an unencrypted PKCS#8 key,
 * the formats docs/operations.md asks for. Every failure names the file.
 */
final class PemFiles {
  private static final String BEGIN_KEY = "-----BEGIN PRIVATE KEY-----";
  private static final String END_KEY = "-----END PRIVATE KEY-----";
  private static final List<String> KEY_ALGORITHMS = List.of("EC", "RSA", "Ed25519", "Ed448");

  private PemFiles() {}

  /** Every certificate of the file, in order (a chain: leaf first). */
  static List<X509Certificate> certificates(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      List<X509Certificate> certs = CertificateFactory.getInstance("X.509")
          .generateCertificates(in).stream().map(c -> (X509Certificate) c).toList();
      if (certs.isEmpty()) {
        throw new IOException(file + " holds no PEM certificate");
      }
      return certs;
    } catch (CertificateException e) {
      throw new IOException(file + " is not a PEM certificate file: " + e.getMessage(), e);
    }
  }

  /** The unencrypted PKCS#8 key of the file. */
  static PrivateKey privateKey(Path file) throws IOException {
    String pem = Files.readString(file, StandardCharsets.US_ASCII);
    int begin = pem.indexOf(BEGIN_KEY);
    int end = pem.indexOf(END_KEY);
    if (begin < 0 || end < begin) {
      throw new IOException(file + " holds no unencrypted PKCS#8 key (" + BEGIN_KEY
          + "); convert one with: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8");
    }
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(pem.substring(begin + BEGIN_KEY.length(), end));
    } catch (IllegalArgumentException e) {
      throw new IOException(file + ": the key is not valid base64: " + e.getMessage(), e);
    }
    for (String algorithm : KEY_ALGORITHMS) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException notThisAlgorithm) {
        // PKCS#8 names its algorithm inside; Java 17 can only try each factory in turn.
      }
    }
    throw new IOException(file + " holds a PKCS#8 key of none of " + KEY_ALGORITHMS);
  }
}
