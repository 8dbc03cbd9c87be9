package dev.lightspeed.orchestrator.bench;

import java.util.List;
import java.util.Locale;

/** Markdown tables of the results. */
final class Tables {
  private Tables() {}

  /**
   * Issue 17's throughput targets from one run's rows: each cluster case against the single
   * durable server's case of the same kind and clients. Measured: the rates on this machine,
   * where three nodes share the cores. Projected (issue 17: "projected from the per-node cost
   * and written down, not claimed"): each node on its own machine with the same cores, both
   * CPU-bound, so the busiest node's CPU per life cycle against the single server's sets the
   * ratio; the disk, the network and a leader's fsyncs are not in it.
   */
  static String clusterTargets(List<CaseResult> results) {
    StringBuilder out = new StringBuilder();
    for (CaseResult c : results) {
      if (!"cluster".equals(c.server) || c.nodeCpuMicrosPerOp.isEmpty()) {
        continue;
      }
      CaseResult one = results.stream().filter(r -> "durable".equals(r.server)
          && r.kind.equals(c.kind) && r.clients == c.clients).findFirst().orElse(null);
      if (one == null || one.serverCpuMicrosPerOp <= 0) {
        continue;
      }
      if (out.length() == 0) {
        out.append("Issue 17's targets, from the rows above (projected: each node on its own"
            + " machine with these cores, both CPU-bound, so the busiest node's CPU per life"
            + " cycle sets the cluster's rate; disk and network not included):\n\n");
        out.append("| case | 3 nodes / one node, measured here | busiest node's CPU / one"
            + " node's (target ≤ 1.5×) | 3 nodes / one node, projected (target ≥ 0.5×) |\n");
        out.append("|---|---:|---:|---:|\n");
      }
      var busiest = c.nodeCpuMicrosPerOp.entrySet().stream()
          .max(java.util.Map.Entry.comparingByValue()).orElseThrow();
      double cpuRatio = busiest.getValue() / one.serverCpuMicrosPerOp;
      out.append(String.format(Locale.ROOT,
          "| %s/%d | %,.0f / %,.0f = %.2f× | %s %.0f µs / %.1f µs = %.2f× | %.2f× |\n",
          c.kind, c.clients, c.rate, one.rate, c.rate / one.rate, busiest.getKey(),
          busiest.getValue(), one.serverCpuMicrosPerOp, cpuRatio, 1 / cpuRatio));
    }
    return out.length() == 0 ? "" : out.append('\n').toString();
  }

  static String loadTable(List<CaseResult> results) {
    StringBuilder out = new StringBuilder();
    out.append("| case | server | clients | measured | rate | server CPU / op | client CPU / op"
        + " | latency p50 / p99 / p99.9 (ms) | note |\n");
    out.append("|---|---|---:|---:|---:|---:|---:|---|---|\n");
    for (CaseResult r : results) {
      if (r.kind.equals("recovery")) {
        continue;
      }
      String unit = r.kind.equals("health") ? "calls/s" : "life cycles/s";
      StringBuilder lat = new StringBuilder();
      for (CaseResult.Latency l : r.latencies) {
        if (lat.length() > 0) {
          lat.append("<br>");
        }
        lat.append(l.rpc).append(' ').append(CaseResult.ms(l.p50Ms)).append(" / ")
            .append(CaseResult.ms(l.p99Ms)).append(" / ").append(CaseResult.ms(l.p999Ms));
      }
      out.append(String.format(Locale.ROOT,
          "| %s | %s | %d | %,d in %.1f s | **%,.0f** %s | %.1f µs | %.1f µs | %s | %s |\n",
          r.kind, r.server, r.clients, r.operations, r.seconds, r.rate, unit,
          r.serverCpuMicrosPerOp, r.clientCpuMicrosPerOp, lat, r.note.replace("|", "/")));
    }
    boolean recovery = results.stream().anyMatch(r -> r.kind.equals("recovery"));
    if (recovery) {
      out.append("\n| recovery | journal records replayed | snapshot | logged recovery | spawn → listening | note |\n");
      out.append("|---|---:|---|---:|---:|---|\n");
      for (CaseResult r : results) {
        if (r.kind.equals("recovery")) {
          out.append(String.format(Locale.ROOT, "| %s | %,d | %s | **%,d ms** | %,d ms | %s |\n",
              r.id, r.journalRecords, r.fromSnapshot ? "yes" : "no", r.recoveryLoggedMs,
              r.listeningMs, r.note.replace("|", "/")));
        }
      }
    }
    return out.toString();
  }
}
