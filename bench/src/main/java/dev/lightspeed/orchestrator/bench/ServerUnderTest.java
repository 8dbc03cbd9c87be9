package dev.lightspeed.orchestrator.bench;

import java.io.IOException;
import java.util.Map;

/**
 * What a load case measures on the server side: one server process, or the nodes of a cluster
 * ({@link ClusterProcesses}), whose CPU time is summed and also shown per node.
 */
interface ServerUnderTest {
  /** User + system CPU time so far, in ms, of every process of the server side. */
  long cpuMillis();

  /** Background snapshots logged so far (a case with one inside pays for it). */
  long snapshotsLogged() throws IOException;

  /**
   * CPU time so far of the JIT compiler threads, summed over the processes: three nodes each
   * compile the same code on the same two cores, which one server does once, so the load table
   * says how much of the server CPU was compiling.
   */
  long jitMillis();

  /** CPU time so far per process (node id → ms); empty for one process. */
  default Map<String, Long> cpuMillisByProcess() {
    return Map.of();
  }
}
