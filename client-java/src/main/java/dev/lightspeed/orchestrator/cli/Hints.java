package dev.lightspeed.orchestrator.cli;

import dev.lightspeed.orchestrator.client.errors.OrchestratorException;
import dev.lightspeed.orchestrator.v1.ErrorReason;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * What to do about a failed call, for the line after {@code ERROR <REASON>: <message>}: the
 * server's and gRPC's messages say what happened, often not what the user of this CLI can change
 * (which flag, which command, which name they meant).
 */
final class Hints {
  private Hints() {}

  /** The call's context: how the CLI connected, and a way to list the pipelines on demand. */
  record Context(String target, boolean tls, Supplier<List<String>> pipelineNames) {}

  /** The message with the server's wording of its API replaced by this CLI's flags. */
  static String message(OrchestratorException e) {
    String m = e.getMessage() == null ? "" : e.getMessage();
    // The server speaks of DeletePipeline's field; here the switch is --force.
    return m.replace("delete with force=true", "delete with --force");
  }

  /** Lines to print after the error, each a suggestion; empty when there is nothing to add. */
  static List<String> forFailure(OrchestratorException e, Context c) {
    List<String> out = new ArrayList<>();
    String m = e.getMessage() == null ? "" : e.getMessage().toLowerCase(Locale.ROOT);
    if (e.code() == Status.Code.UNAVAILABLE) {
      if (m.contains("unable to resolve host") || m.contains("unknownhost")) {
        out.add("the host of --target " + c.target() + " is unknown: check its spelling, or"
            + " use an IP address");
      } else if (m.contains("connection refused")) {
        out.add("nothing listens on " + c.target() + ": is the server running, on that port?"
            + " (--target HOST:PORT or $LIGHTSPEED_TARGET)");
      } else if (!c.tls() && (m.contains("network closed") || m.contains("connection reset")
          || m.contains("end of stream"))) {
        out.add("is the server using TLS? pass --tls (or --ca-file PEM for a private CA)");
      } else if (c.tls() && (m.contains("ssl") || m.contains("tls") || m.contains("handshake"))) {
        out.add("the TLS handshake failed: if the server is plaintext, drop --tls and --ca-file;"
            + " if its CA is private, pass --ca-file PEM");
      }
    }
    if (ErrorReason.PIPELINE_NOT_FOUND.name().equals(e.reasonName())) {
      String wanted = e.metadata().getOrDefault("pipeline", "");
      List<String> names;
      try {
        names = c.pipelineNames().get();
      } catch (RuntimeException listFailed) {
        names = List.of(); // a reader without the right to list: no suggestion, no new error
      }
      String closest = closest(wanted, names);
      if (closest != null) {
        out.add("did you mean " + closest + "?");
      } else if (names.isEmpty()) {
        out.add("there are no pipelines; create one with `lightspeed pipelines create --file"
            + " SPEC.json`");
      } else {
        out.add("`lightspeed pipelines list` shows the " + names.size() + " pipelines");
      }
    }
    return out;
  }

  /** The name nearest to {@code wanted} by edit distance, if near enough to be a typo. */
  static String closest(String wanted, List<String> names) {
    if (wanted.isEmpty()) {
      return null;
    }
    String lower = wanted.toLowerCase(Locale.ROOT);
    return names.stream()
        .filter(n -> !n.equals(wanted))
        .min(Comparator.comparingInt(n -> distance(lower, n.toLowerCase(Locale.ROOT))))
        .filter(n -> distance(lower, n.toLowerCase(Locale.ROOT))
            <= Math.max(2, wanted.length() / 3))
        .orElse(null);
  }

  /** Levenshtein distance. */
  static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitute = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(substitute, Math.min(prev[j] + 1, cur[j - 1] + 1));
      }
      int[] swap = prev;
      prev = cur;
      cur = swap;
    }
    return prev[b.length()];
  }
}
