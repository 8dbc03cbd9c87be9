package dev.lightspeed.orchestrator.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/** One row of the results: what ran, how fast, and the latency of each RPC. Written as JSON. */
final class CaseResult {
  /** Short id, e.g. {@code durable/bulk/64}. */
  String id;
  /** durable (fsync always), in-memory, or recovery. */
  String server;
  /** health, unary, bulk, unary-half-load, watch-fanout, recovery. */
  String kind;
  int clients;
  /** Life cycles (or empty RPCs for health) completed in the measured part. */
  long operations;
  double seconds;
  /** Life cycles per second (health: RPCs per second). */
  double rate;
  /** Server process CPU per operation, microseconds (from /proc). */
  double serverCpuMicrosPerOp;
  /** Load generator process CPU per operation, microseconds. */
  double clientCpuMicrosPerOp;
  List<Latency> latencies = new ArrayList<>();
  String note = "";
  /** Cluster rows: each node's CPU per operation, microseconds, by node id. */
  java.util.Map<String, Double> nodeCpuMicrosPerOp = new java.util.TreeMap<>();

  // Recovery rows only.
  /** Journal records replayed at start-up. */
  long journalRecords;
  /** Whether start-up loaded a snapshot. */
  boolean fromSnapshot;
  /** The server's own "recovered ... in X ms" figure. */
  long recoveryLoggedMs;
  /** From spawning the server JVM to its "listening" line (JVM start-up included). */
  long listeningMs;

  /** p50 / p99 / p99.9 / max of one RPC, in ms. */
  static final class Latency {
    String rpc;
    long count;
    double p50Ms;
    double p99Ms;
    double p999Ms;
    double maxMs;

    static Latency of(String rpc, Histogram h) {
      Latency l = new Latency();
      l.rpc = rpc;
      l.count = h.getTotalCount();
      l.p50Ms = h.getValueAtPercentile(50) / 1000.0;
      l.p99Ms = h.getValueAtPercentile(99) / 1000.0;
      l.p999Ms = h.getValueAtPercentile(99.9) / 1000.0;
      l.maxMs = h.getMaxValue() / 1000.0;
      return l;
    }

    @Override
    public String toString() {
      return String.format(Locale.ROOT, "%s %s/%s/%s", rpc, ms(p50Ms), ms(p99Ms), ms(p999Ms));
    }
  }

  Latency latency(String rpc) {
    for (Latency l : latencies) {
      if (l.rpc.equals(rpc)) {
        return l;
      }
    }
    return null;
  }

  static String ms(double v) {
    if (v >= 100) {
      return String.format(Locale.ROOT, "%.0f", v);
    }
    if (v >= 10) {
      return String.format(Locale.ROOT, "%.1f", v);
    }
    return String.format(Locale.ROOT, "%.2f", v);
  }
}
