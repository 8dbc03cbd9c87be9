package dev.lightspeed.orchestrator.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parts of the BENCHMARKS.md being rewritten that this run has no results for. The result
 * files live in {@code bench/results/} (not committed), so a run of one suite ({@code make
 * bench-peer}, or {@code make bench-jmh} alone) used to wipe the tables of the others; now each
 * generated part sits between {@code <!-- report:KEY -->} markers, and a part this run did not
 * produce is copied from the old file unchanged, with the command and machine it was measured
 * with.
 */
final class Kept {
  private final Map<String, String> blocks;
  private final Map<String, String> targetRows;

  private Kept(Map<String, String> blocks, Map<String, String> targetRows) {
    this.blocks = blocks;
    this.targetRows = targetRows;
  }

  /** What {@code previous} holds (nothing if it does not exist yet). */
  static Kept of(Path previous) throws IOException {
    String text = Files.exists(previous) ? Files.readString(previous) : "";
    return new Kept(blocks(text), targetRows(text));
  }

  static String open(String key) {
    return "<!-- report:" + key + " -->\n";
  }

  static String close(String key) {
    return "<!-- /report:" + key + " -->\n";
  }

  /**
   * Appends {@code generated} between the markers of {@code key}; if this run generated nothing
   * for it, the old file's block instead (or nothing, if it had none).
   */
  void block(StringBuilder md, String key, CharSequence generated) {
    if (generated.length() > 0) {
      md.append(open(key)).append(generated).append(close(key));
    } else if (blocks.containsKey(key)) {
      md.append(open(key)).append(blocks.get(key)).append(close(key));
    }
  }

  /**
   * The targets table with this run's rows, and the old file's row for each target this run did
   * not measure ("not run", or no row at all), in the old file's order.
   */
  String targets(String generated) {
    List<String> header = new ArrayList<>();
    Map<String, String> rows = new LinkedHashMap<>();
    StringBuilder before = new StringBuilder();
    for (String line : generated.split("\n", -1)) {
      if (isRow(line)) {
        rows.put(rowKey(line), line);
      } else if (line.startsWith("|")) {
        header.add(line);
      } else if (rows.isEmpty() && header.isEmpty()) {
        before.append(line).append('\n');
      }
    }
    StringBuilder out = new StringBuilder(before);
    header.forEach(h -> out.append(h).append('\n'));
    for (Map.Entry<String, String> old : targetRows.entrySet()) {
      String fresh = rows.remove(old.getKey());
      out.append(fresh == null || fresh.contains("| not run") ? old.getValue() : fresh).append('\n');
    }
    rows.values().forEach(r -> out.append(r).append('\n'));
    return out.append('\n').toString();
  }

  private static Map<String, String> blocks(String text) {
    Map<String, String> found = new LinkedHashMap<>();
    int at = 0;
    while ((at = text.indexOf("<!-- report:", at)) >= 0) {
      int keyEnd = text.indexOf(" -->\n", at);
      if (keyEnd < 0) {
        break;
      }
      String key = text.substring(at + "<!-- report:".length(), keyEnd);
      int bodyStart = keyEnd + " -->\n".length();
      int end = text.indexOf(close(key), bodyStart);
      if (end < 0) {
        break;
      }
      found.put(key, text.substring(bodyStart, end));
      at = end + close(key).length();
    }
    return found;
  }

  private static Map<String, String> targetRows(String text) {
    Map<String, String> rows = new LinkedHashMap<>();
    int start = text.indexOf("## Targets\n");
    if (start < 0) {
      return rows;
    }
    int end = text.indexOf("\n## ", start + 1);
    for (String line : text.substring(start, end < 0 ? text.length() : end).split("\n")) {
      if (isRow(line)) {
        rows.put(rowKey(line), line);
      }
    }
    return rows;
  }

  private static boolean isRow(String line) {
    return line.startsWith("| ") && !line.startsWith("| target |");
  }

  /** "Core", "Server, durable, 64 clients, bulk", ...: the target's name, before its bar. */
  static String rowKey(String row) {
    String first = row.substring(2, Math.max(2, row.indexOf(" | ")));
    int colon = first.indexOf(':');
    return colon < 0 ? first : first.substring(0, colon);
  }
}
