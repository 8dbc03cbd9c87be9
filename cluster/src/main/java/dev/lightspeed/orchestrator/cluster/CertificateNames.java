package dev.lightspeed.orchestrator.cluster;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import javax.security.auth.x500.X500Principal;

/**
 * The names a certificate gives its holder that can be a node id: the subject's common names
 * (CN) and the DNS names of its subjectAltName. A node's certificate names its node id in one of
 * them (docs/cluster.md, "Security of Raft traffic").
 */
final class CertificateNames {
  /** subjectAltName's GeneralName type of a dNSName (RFC 5280). */
  private static final int DNS_NAME = 2;

  private CertificateNames() {}

  static Set<String> of(X509Certificate cert) {
    Set<String> names = new LinkedHashSet<>(commonNames(cert.getSubjectX500Principal()));
    try {
      Collection<List<?>> sans = cert.getSubjectAlternativeNames();
      if (sans != null) {
        for (List<?> san : sans) {
          if (san.size() >= 2 && Integer.valueOf(DNS_NAME).equals(san.get(0))
              && san.get(1) instanceof String dns) {
            names.add(dns);
          }
        }
      }
    } catch (CertificateParsingException e) {
      // A subjectAltName that cannot be parsed names nobody; the CN may still name the node.
    }
    return names;
  }

  /**
   * The CN values of an RFC 2253 name. A node id is letters, digits, '-' and '_' only, which
   * RFC 2253 never escapes, so a value with an escape cannot be a node id and is kept as written
   * (it then matches no peer). Split by hand to keep java.naming out of the server's image.
   */
  private static List<String> commonNames(X500Principal subject) {
    String rfc2253 = subject.getName(X500Principal.RFC2253);
    List<String> values = new ArrayList<>();
    int start = 0;
    for (int i = 0; i <= rfc2253.length(); i++) {
      boolean end = i == rfc2253.length();
      if (end || (rfc2253.charAt(i) == ',' && (i == 0 || rfc2253.charAt(i - 1) != '\\'))) {
        String part = rfc2253.substring(start, i);
        if (part.regionMatches(true, 0, "CN=", 0, 3)) {
          values.add(part.substring(3));
        }
        start = i + 1;
      }
    }
    return values;
  }

  /** How the refusal and the log describe a certificate. */
  static String describe(X509Certificate cert) {
    return "subject '" + cert.getSubjectX500Principal().getName(X500Principal.RFC2253)
        + "' (names " + of(cert) + "), issuer '"
        + cert.getIssuerX500Principal().getName(X500Principal.RFC2253) + "'";
  }
}
