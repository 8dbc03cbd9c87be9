package dev.lightspeed.orchestrator.server;

import dev.lightspeed.orchestrator.grpc.ConnectionLimiter;
import dev.lightspeed.orchestrator.grpc.OutboundBudget;
import dev.lightspeed.orchestrator.host.Limits;
import dev.lightspeed.orchestrator.security.TokenFile;
/**
 * How an {@link OrchestratorServer} serves, beyond its transport: the WatchStarted buffer, the
 * request limits, the bearer tokens (null = no authentication), the metrics endpoint, and the
 * transport's guards: the connection limiter (null = none; it owns the Netty event loops, closed
 * at stop) and the budget of reply bytes waiting for clients (null = none).
 *
 * @param metricsPort -1 = no metrics at all (no interceptor, no endpoint); 0 = collect metrics and
 *     serve them on a free port; else that port
 * @param memberCredentials how a cluster node dials the other members' API to relay a stream
 *     (grpc.MemberChannels); null = plaintext
 */
public record ServerSettings(
    int watchBufferCapacity,
    Limits limits,
    TokenFile tokens,
    String metricsBind,
    int metricsPort,
    ConnectionLimiter connections,
    OutboundBudget outbound,
    io.grpc.ChannelCredentials memberCredentials) {
  static final int DEFAULT_WATCH_BUFFER = 4096;

  public static ServerSettings defaults() {
    return new ServerSettings(DEFAULT_WATCH_BUFFER, Limits.DEFAULTS, null, "127.0.0.1", -1, null,
        null, null);
  }

  boolean metricsEnabled() {
    return metricsPort >= 0;
  }

  public ServerSettings withWatchBufferCapacity(int capacity) {
    return new ServerSettings(
        capacity, limits, tokens, metricsBind, metricsPort,
        connections, outbound, memberCredentials);
  }

  public ServerSettings withLimits(Limits value) {
    return new ServerSettings(
        watchBufferCapacity, value, tokens, metricsBind, metricsPort,
        connections, outbound, memberCredentials);
  }

  public ServerSettings withTokens(TokenFile value) {
    return new ServerSettings(
        watchBufferCapacity, limits, value, metricsBind, metricsPort,
        connections, outbound, memberCredentials);
  }

  public ServerSettings withMetrics(String bind, int port) {
    return new ServerSettings(
        watchBufferCapacity, limits, tokens, bind, port, connections, outbound, memberCredentials);
  }

  public ServerSettings withConnectionLimiter(ConnectionLimiter value) {
    return new ServerSettings(
        watchBufferCapacity, limits, tokens, metricsBind, metricsPort,
        value, outbound, memberCredentials);
  }

  public ServerSettings withOutboundBudget(OutboundBudget value) {
    return new ServerSettings(
        watchBufferCapacity, limits, tokens, metricsBind, metricsPort,
        connections, value, memberCredentials);
  }

  public ServerSettings withMemberCredentials(io.grpc.ChannelCredentials value) {
    return new ServerSettings(watchBufferCapacity, limits, tokens, metricsBind, metricsPort,
        connections, outbound, value);
  }
}
