package dev.lightspeed.orchestrator.grpc;

import dev.lightspeed.orchestrator.metrics.ServerMetrics;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.snapshots.Unit;

/**
 * The transport's guards as metrics: open connections and connections refused by the {@link
 * ConnectionLimiter}, unread reply bytes and calls refused by the {@link OutboundBudget}. Kept
 * beside the guards, which belong to the gRPC side, so that the metrics never name the transport.
 */
public final class TransportMetrics {
  private TransportMetrics() {}

  /** Registers the guards' gauges with {@code metrics} (either guard may be null: not configured). */
  public static void register(
      ServerMetrics metrics, ConnectionLimiter connections, OutboundBudget outbound) {
    if (connections != null) {
      GaugeWithCallback.builder()
          .name("lightspeed_connections")
          .help("Open client connections (TCP), as counted by --max-connections.")
          .callback(cb -> cb.call(connections.open()))
          .register(metrics.registry);
      CounterWithCallback.builder()
          .name("lightspeed_connections_refused")
          .help("Connections closed at accept because --max-connections or"
              + " --max-connections-per-address was reached.")
          .labelNames("limit")
          .callback(cb -> {
            for (ConnectionLimiter.Limit l : ConnectionLimiter.Limit.values()) {
              cb.call(connections.refused(l), l.label);
            }
          })
          .register(metrics.registry);
    }
    if (outbound != null) {
      GaugeWithCallback.builder()
          .name("lightspeed_outbound_pending_bytes")
          .help("Reply bytes sent by calls and not yet read by their clients (flow control),"
              + " as counted against --max-pending-outbound-bytes.")
          .unit(Unit.BYTES)
          .callback(cb -> cb.call(outbound.pendingBytes()))
          .register(metrics.registry);
      CounterWithCallback.builder()
          .name("lightspeed_calls_refused_outbound")
          .help("Calls refused with RESOURCE_EXHAUSTED before their handler ran, because their"
              + " connection (per_connection) or the server (server) held too many unread reply"
              + " bytes.")
          .labelNames("limit")
          .callback(cb -> {
            for (OutboundBudget.Limit l : OutboundBudget.Limit.values()) {
              cb.call(outbound.refused(l), l.label);
            }
          })
          .register(metrics.registry);
    }
  }
}
