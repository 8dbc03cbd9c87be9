package dev.lightspeed.orchestrator.bench;

import java.util.List;
import java.util.Locale;

/** Markdown tables of the results. */
final class Tables {
  private Tables() {}

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
