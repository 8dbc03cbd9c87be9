package dev.lightspeed.orchestrator.cluster;

import java.util.Locale;

/** A {@code host:port} of the cluster file, parsed once so that duplicates compare as equal. */
record HostPort(String host, int port) {

  /** Parses {@code host:port} or {@code [v6]:port}; the message says what is wrong. */
  static HostPort parse(String text) {
    int colon = text.lastIndexOf(':');
    if (colon <= 0 || colon == text.length() - 1) {
      throw new IllegalArgumentException("'" + text + "' is not host:port");
    }
    String host = text.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    } else if (host.contains(":")) {
      throw new IllegalArgumentException(
          "'" + text + "' is not host:port (write an IPv6 host in brackets: [::1]:6001)");
    }
    int port;
    try {
      port = Integer.parseInt(text.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' has no numeric port");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("'" + text + "' has port " + port + ", not 1 to 65535");
    }
    // Host names are case-insensitive: N1.example and n1.example are the same address.
    return new HostPort(host.toLowerCase(Locale.ROOT), port);
  }

  @Override
  public String toString() {
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }
}
