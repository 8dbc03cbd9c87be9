package dev.lightspeed.orchestrator.server;

/**
 * How an {@link OrchestratorServer} serves, beyond its transport: the WatchStarted buffer, the
 * request limits, the bearer tokens (null = no authentication) and the metrics endpoint.
 *
 * @param metricsPort -1 = no metrics at all (no interceptor, no endpoint); 0 = collect metrics and
 *     serve them on a free port; else that port
 */
record ServerSettings(
    int watchBufferCapacity, Limits limits, TokenFile tokens, String metricsBind, int metricsPort) {
  static final int DEFAULT_WATCH_BUFFER = 4096;

  static ServerSettings defaults() {
    return new ServerSettings(DEFAULT_WATCH_BUFFER, Limits.DEFAULTS, null, "127.0.0.1", -1);
  }

  boolean metricsEnabled() {
    return metricsPort >= 0;
  }

  ServerSettings withWatchBufferCapacity(int capacity) {
    return new ServerSettings(capacity, limits, tokens, metricsBind, metricsPort);
  }

  ServerSettings withLimits(Limits value) {
    return new ServerSettings(watchBufferCapacity, value, tokens, metricsBind, metricsPort);
  }

  ServerSettings withTokens(TokenFile value) {
    return new ServerSettings(watchBufferCapacity, limits, value, metricsBind, metricsPort);
  }

  ServerSettings withMetrics(String bind, int port) {
    return new ServerSettings(watchBufferCapacity, limits, tokens, bind, port);
  }
}
