package dev.lightspeed.orchestrator.boot;

import picocli.CommandLine.Option;

/**
 * The dashboard's HTTP port (a picocli mixin of {@link ServerMain}). It binds the same address as
 * the gRPC port ({@code --bind}), so the same rules hold: loopback by default, TLS with the same
 * certificate when {@code --tls-cert} is set, and no public address without TLS and
 * authentication unless {@code --insecure}. docs/dashboard.md documents it.
 */
final class DashboardOptions {
  @Option(
      names = "--http-port",
      defaultValue = "-1",
      paramLabel = "PORT",
      description = "Serve the web dashboard and the same OrchestratorService over gRPC-Web and"
          + " JSON (curl) on this HTTP port of --bind, with TLS when --tls-cert is set; 0 picks a"
          + " free one (default: off).")
  int httpPort;

  boolean enabled() {
    return httpPort >= 0;
  }

  /** A problem with the flag, or null. */
  String problem() {
    if (httpPort > 65535 || httpPort < -1) {
      return "--http-port must be 0-65535 (got " + httpPort + ")";
    }
    return null;
  }
}
