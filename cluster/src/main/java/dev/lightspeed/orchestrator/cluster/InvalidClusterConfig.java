package dev.lightspeed.orchestrator.cluster;

import java.io.IOException;
import java.util.List;

/** The cluster file cannot be used; the message lists every problem and what to change. */
public final class InvalidClusterConfig extends IOException {
  private static final long serialVersionUID = 1L;

  InvalidClusterConfig(String message, Throwable cause) {
    super(message, cause);
  }

  InvalidClusterConfig(List<String> problems) {
    super("invalid cluster file: " + String.join("; ", problems));
  }
}
