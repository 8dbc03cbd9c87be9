package dev.lightspeed.orchestrator.client.history;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The plain checks on a history and one final read (ListBatches after every other call
 * ended), with messages that name keys: no acknowledged enqueue, ack or cancel lost, and no
 * batch present that no client sent. The linearizability check implies them; these say the
 * common failures in words.
 */
final class LostOrInventedBatches {
  private LostOrInventedBatches() {}

  /** The problems found, empty when none. */
  static List<String> find(List<JsonObject> history, String pipeline, Set<String> finallyListed) {
    Set<String> sent = new HashSet<>();
    Set<String> accepted = new TreeSet<>();
    Set<String> mayHaveLeft = new HashSet<>(); // an ack or cancel that succeeded or may have
    Set<String> left = new TreeSet<>(); // an ack or cancel that succeeded
    for (JsonObject line : history) {
      if (!line.has("input") || !pipeline.equals(line.get("pipeline").getAsString())) {
        continue;
      }
      String op = line.get("op").getAsString();
      String key = line.getAsJsonObject("input").get("key").getAsString();
      JsonElement output = line.get("output");
      boolean unknown = output.isJsonPrimitive();
      boolean refused = !unknown && output.getAsJsonObject().has("error");
      switch (op) {
        case "enqueue" -> {
          sent.add(key);
          if (!unknown && !refused) {
            accepted.add(key);
          }
        }
        case "ack", "cancel" -> {
          boolean acked = op.equals("cancel") || (!unknown && !refused && "processed".equals(
              output.getAsJsonObject().get("outcome").getAsString()));
          if (unknown || (!refused && acked)) {
            mayHaveLeft.add(key);
          }
          if (!unknown && !refused && acked) {
            left.add(key);
          }
        }
        default -> { }
      }
    }
    List<String> problems = new ArrayList<>();
    Set<String> invented = new TreeSet<>(finallyListed);
    invented.removeAll(sent);
    if (!invented.isEmpty()) {
      problems.add("batches present that no client sent: " + invented);
    }
    Set<String> lost = new TreeSet<>(accepted);
    lost.removeAll(mayHaveLeft);
    lost.removeAll(finallyListed);
    if (!lost.isEmpty()) {
      problems.add(lost.size() + " acknowledged enqueues lost (never acked or cancelled, not"
          + " listed at the end): " + abbreviate(lost));
    }
    Set<String> back = new TreeSet<>(left);
    back.retainAll(finallyListed);
    if (!back.isEmpty()) {
      problems.add("acknowledged acks or cancels lost (the batch is live again): "
          + abbreviate(back));
    }
    return problems;
  }

  private static String abbreviate(Set<String> keys) {
    List<String> list = new ArrayList<>(keys);
    return list.size() <= 20 ? list.toString()
        : list.subList(0, 20) + " and " + (list.size() - 20) + " more";
  }
}
