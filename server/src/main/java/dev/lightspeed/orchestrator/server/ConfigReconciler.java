package dev.lightspeed.orchestrator.server;

import dev.lightspeed.orchestrator.core.PipelineRuntime;
import dev.lightspeed.orchestrator.core.PipelineSpec;
import dev.lightspeed.orchestrator.grpc.RequestMapper;
import dev.lightspeed.orchestrator.host.PipelineHandle;
import dev.lightspeed.orchestrator.v1.Connector;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings a recovered pipeline in line with its entry in the config file at start-up: the config's
 * spec is applied as an UpdatePipeline of every field (SPEC 3.9's rules, journaled and audited
 * like one from a client). Before, an edited config was silently ignored after the first start.
 *
 * <p>One exception keeps an operator's decision: a connector whose config entry does not set
 * {@code disabled} keeps its current {@code disabled} state (set by DISABLE_CONNECTOR), so a
 * restart never re-enables a connector that an operator turned off.
 */
final class ConfigReconciler {
  private static final Logger log = LoggerFactory.getLogger(ConfigReconciler.class);

  /** Every field an update may change. */
  static final List<String> WHOLE_SPEC =
      List.of("boundary", "retry", "dedup_window_ms", "allow_unbound_stages", "stages",
          "connectors");

  private ConfigReconciler() {}

  /**
   * Updates {@code handle}'s pipeline to {@code configured}; throws the Rejection of the first
   * rule the change breaks (start-up then stops, naming the pipeline and the field).
   */
  static void reconcile(
      PipelineHandle handle, dev.lightspeed.orchestrator.v1.PipelineSpec configured, long nowMs) {
    PipelineSpec current = handle.read(q -> q.spec());
    var values = configured.toBuilder();
    for (Connector.Builder c : values.getConnectorsBuilderList()) {
      if (!c.hasDisabled()) {
        current.connectors().stream()
            .filter(now -> now.name().equals(c.getName()))
            .findFirst()
            .ifPresent(now -> c.setDisabled(now.disabled()));
      }
    }
    PipelineHandle.Executed<PipelineRuntime.UpdateResult> done =
        handle.execute(RequestMapper.updatePipeline(values.build(), WHOLE_SPEC), nowMs);
    done.durable().join();
    var result = done.result();
    if (result.changed().isEmpty()) {
      log.info("pipeline '{}' of the config exists already with the same spec; keeping its"
          + " recovered state", handle.name());
    } else {
      log.info("pipeline '{}' of the config exists already; updated {} from the config, keeping"
          + " its recovered state", handle.name(), String.join(", ", result.changed()));
    }
  }
}
