package dev.lightspeed.orchestrator.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Latency histograms per RPC name, in microseconds. One instance per client: a client has at most
 * one call outstanding and its callbacks run one after the other, so no locking is needed; the
 * case merges every client's instance once all are done.
 */
final class RpcStats {
  private static final long MAX_MICROS = TimeUnit.SECONDS.toMicros(120);

  final Map<String, Histogram> byRpc = new LinkedHashMap<>();

  void record(String rpc, long startNanos) {
    long micros = Math.max(1, (System.nanoTime() - startNanos) / 1_000);
    histogram(rpc).recordValue(Math.min(micros, MAX_MICROS));
  }

  void recordMicros(String rpc, long micros) {
    histogram(rpc).recordValue(Math.max(0, Math.min(micros, MAX_MICROS)));
  }

  Histogram histogram(String rpc) {
    return byRpc.computeIfAbsent(rpc, k -> new Histogram(MAX_MICROS, 3));
  }

  void add(RpcStats other) {
    other.byRpc.forEach((rpc, h) -> histogram(rpc).add(h));
  }

  void reset() {
    byRpc.values().forEach(Histogram::reset);
  }
}
