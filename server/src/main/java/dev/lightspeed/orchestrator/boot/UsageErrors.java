package dev.lightspeed.orchestrator.boot;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * A command-line mistake in two or three lines (the problem, a did-you-mean, where the help is)
 * instead of picocli's default of the message followed by the whole usage help, which buries the
 * one line that matters under a page of options.
 */
final class UsageErrors {
  static final String HINT =
      "Usage: lightspeed-orchestrator [--port N] [--data-dir DIR] [--config FILE] [OPTIONS];"
          + " --help lists every option.";

  private UsageErrors() {}

  static int handle(ParameterException e, String[] args) {
    CommandLine cmd = e.getCommandLine();
    PrintWriter err = cmd.getErr();
    if (e instanceof UnmatchedArgumentException u && u.isUnknownOption()) {
      String unknown = firstOption(u.getUnmatched()).split("=", 2)[0];
      List<String> names = new ArrayList<>();
      cmd.getCommandSpec().options().forEach(o -> names.addAll(List.of(o.names())));
      err.println("unknown option '" + unknown + "'" + didYouMean(closest(unknown, names)));
    } else {
      err.println(e.getMessage());
    }
    err.println(HINT);
    err.flush();
    return cmd.getCommandSpec().exitCodeOnInvalidInput();
  }

  private static String firstOption(List<String> unmatched) {
    return unmatched.stream().filter(a -> a.startsWith("-")).findFirst()
        .orElse(unmatched.isEmpty() ? "" : unmatched.get(0));
  }

  /**
   * The option names nearest to {@code typed} by edit distance, if near enough to be a typo
   * (picocli's own suggestions only match the first letters, so --prot finds no --port).
   */
  static List<String> closest(String typed, List<String> names) {
    int best = Integer.MAX_VALUE;
    List<String> out = new ArrayList<>();
    for (String name : names) {
      int d = distance(typed, name);
      if (d < best) {
        best = d;
        out.clear();
      }
      if (d == best) {
        out.add(name);
      }
    }
    int allowed = Math.max(2, typed.length() / 4);
    return best <= allowed ? out : List.of();
  }

  /** Levenshtein distance, with a swap of two neighbours counted as one edit. */
  static int distance(String a, String b) {
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) {
      d[i][0] = i;
    }
    for (int j = 0; j <= b.length(); j++) {
      d[0][j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        d[i][j] = Math.min(d[i - 1][j - 1] + cost, Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1));
        if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2)
            && a.charAt(i - 2) == b.charAt(j - 1)) {
          d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.length()][b.length()];
  }

  private static String didYouMean(List<String> suggestions) {
    if (suggestions.isEmpty()) {
      return ".";
    }
    return "; did you mean " + String.join(" or ", suggestions.subList(0,
        Math.min(3, suggestions.size()))) + "?";
  }
}
