package dev.lightspeed.orchestrator.bench;

import dev.lightspeed.orchestrator.v1.Boundary;
import dev.lightspeed.orchestrator.v1.Connector;
import dev.lightspeed.orchestrator.v1.ConnectorKind;
import dev.lightspeed.orchestrator.v1.PipelineSpec;

/** The pipeline every load case uses: one stage (with its SOURCE connector) per client. */
final class Pipelines {
  /** Large enough that backpressure never refuses the load generator. */
  static final int MAX_IN_FLIGHT = 1_000_000;
  static final long MAX_QUEUED = 10_000_000;
  /** Ten minutes: no lease expires during a case. */
  static final long LEASE_MS = 600_000;

  private Pipelines() {}

  static String stage(int client) {
    return "s" + client;
  }

  /**
   * Stages s0..s{n-1}, a SOURCE connector on each, max_in_flight and max_queued far above the
   * load, a long lease; the retry policy and the dedup window keep the SPEC defaults.
   */
  static PipelineSpec spec(String name, int stages) {
    PipelineSpec.Builder spec = PipelineSpec.newBuilder().setName(name);
    for (int i = 0; i < stages; i++) {
      spec.addStages(stage(i));
      spec.addConnectors(Connector.newBuilder()
          .setName("src-" + i)
          .setKind(ConnectorKind.CONNECTOR_KIND_SOURCE)
          .setStage(stage(i)));
    }
    spec.setBoundary(Boundary.newBuilder()
        .setMaxInFlight(MAX_IN_FLIGHT)
        .setMaxQueued(MAX_QUEUED)
        .setLeaseMs(LEASE_MS));
    return spec.build();
  }
}
