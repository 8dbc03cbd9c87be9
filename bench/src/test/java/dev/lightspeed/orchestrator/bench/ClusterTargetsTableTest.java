package dev.lightspeed.orchestrator.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Issue 17's targets as the report derives them from one run's rows. */
class ClusterTargetsTableTest {
  private static CaseResult row(String server, String kind, double rate, double cpu,
      Map<String, Double> nodes) {
    CaseResult r = new CaseResult();
    r.server = server;
    r.kind = kind;
    r.clients = 64;
    r.rate = rate;
    r.serverCpuMicrosPerOp = cpu;
    r.nodeCpuMicrosPerOp.putAll(nodes);
    return r;
  }

  @Test
  void theBusiestNodeAgainstOneServer_givesTheCpuRatioAndTheProjection() {
    String table = Tables.clusterTargets(List.of(
        row("durable", "bulk", 277_066, 5.0, Map.of()),
        row("durable", "unary", 13_042, 85.6, Map.of()),
        row("cluster", "bulk", 66_207, 26.9, Map.of("n1", 8.8, "n2", 9.1, "n3", 9.0)),
        row("cluster", "unary", 2_277, 715.7, Map.of("n1", 267.0, "n2", 223.0, "n3", 226.0))));
    assertTrue(table.contains(
        "| bulk/64 | 66,207 / 277,066 = 0.24× | n2 9 µs / 5.0 µs = 1.82× | 0.55× |"), table);
    assertTrue(table.contains(
        "| unary/64 | 2,277 / 13,042 = 0.17× | n1 267 µs / 85.6 µs = 3.12× | 0.32× |"), table);
  }

  @Test
  void withoutASingleServerRowOrPerNodeCpu_thereIsNoTable() {
    assertEquals("", Tables.clusterTargets(List.of(
        row("cluster", "bulk", 66_207, 26.9, Map.of("n1", 9.0)))));
    assertEquals("", Tables.clusterTargets(List.of(
        row("durable", "bulk", 277_066, 5.0, Map.of()),
        row("cluster", "bulk", 66_207, 26.9, Map.of()))));
  }
}
