package dev.lightspeed.orchestrator.cli;

import java.util.ArrayList;
import java.util.List;

/** {@code --target} as users type it: a host alone means the server's default port. */
final class Targets {
  static final int DEFAULT_PORT = 50051;

  private Targets() {}

  /**
   * {@code a:1,b,c:3} → {@code [a:1, b:50051, c:3]}: several servers, comma-separated, each as
   * {@link #withDefaultPort} reads it. An empty entry, or a URI among several, is refused
   * (IllegalArgumentException with a message for the user).
   */
  static List<String> list(String targets) {
    String[] parts = targets.split(",", -1);
    List<String> out = new ArrayList<>();
    for (String part : parts) {
      String t = withDefaultPort(part);
      if (t.isEmpty()) {
        throw new IllegalArgumentException(
            "--target '" + targets + "' has an empty address; use HOST:PORT[,HOST:PORT...]");
      }
      if (parts.length > 1 && t.contains("/")) {
        throw new IllegalArgumentException(
            "--target '" + targets + "': several addresses are each HOST:PORT, not a URI ('"
                + t + "')");
      }
      out.add(t);
    }
    return out;
  }

  /**
   * {@code host} → {@code host:50051}; {@code host:port}, {@code [v6]:port} and name-resolver
   * URIs ({@code dns:///host:port}) are kept. gRPC alone would dial port 80 (443 with TLS), where
   * no orchestrator listens.
   */
  static String withDefaultPort(String target) {
    String t = target.strip();
    if (t.isEmpty() || t.contains("/")) {
      return t; // a URI such as dns:///host:port or unix:///path: the resolver's business
    }
    if (t.startsWith("[")) {
      return t.endsWith("]") ? t + ":" + DEFAULT_PORT : t;
    }
    int colons = (int) t.chars().filter(c -> c == ':').count();
    if (colons == 0) {
      return t + ":" + DEFAULT_PORT;
    }
    if (colons > 1) {
      return "[" + t + "]:" + DEFAULT_PORT; // a bare IPv6 address
    }
    return t;
  }
}
