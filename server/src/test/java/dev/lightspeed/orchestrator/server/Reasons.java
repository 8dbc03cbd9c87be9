package dev.lightspeed.orchestrator.server;

import dev.lightspeed.orchestrator.core.Reason;
import dev.lightspeed.orchestrator.core.RefusalReason;
import dev.lightspeed.orchestrator.host.ServerReason;
import java.util.ArrayList;
import java.util.List;

/**
 * Every reason the server refuses with: the core's {@link Reason}s and its
 * own {@link ServerReason}s.
 */
final class Reasons {
  private Reasons() {}

  static List<RefusalReason> all() {
    List<RefusalReason> all = new ArrayList<>(List.of(Reason.values()));
    all.addAll(List.of(ServerReason.values()));
    return all;
  }

  /** The reason sent as {@code name}, or {@code null} if the server has none of that name. */
  static RefusalReason named(String name) {
    for (RefusalReason r : all()) {
      if (r.name().equals(name)) {
        return r;
      }
    }
    return null;
  }
}
