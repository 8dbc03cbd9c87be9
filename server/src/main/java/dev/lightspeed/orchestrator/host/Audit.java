package dev.lightspeed.orchestrator.host;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Audit log lines: who changed which pipeline (never a secret). */
final class Audit {
  private static final Logger log = LoggerFactory.getLogger(Audit.class);

  private Audit() {}

  /**
   * INFO {@code event=pipeline_created} / {@code pipeline_deleted}: who (the token's name from
   * the token file, "-" without tokens or at start-up) changed which pipeline.
   */
  static void audit(String event, String pipeline) {
    log.atInfo()
        .addKeyValue("event", event)
        .addKeyValue("pipeline", pipeline)
        .addKeyValue("by", CallContext.caller())
        .log(event.replace('_', ' '));
  }
}
