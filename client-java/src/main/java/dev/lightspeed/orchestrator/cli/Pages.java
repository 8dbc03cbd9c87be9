package dev.lightspeed.orchestrator.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** Reads every page of a listing (AIP-158 page tokens), 1,000 items per call. */
final class Pages {
  static final int PAGE_SIZE = 1000;

  private Pages() {}

  static <R, T> List<T> all(
      Function<String, R> call, Function<R, List<T>> items, Function<R, String> nextToken) {
    List<T> out = new ArrayList<>();
    String token = "";
    do {
      R page = call.apply(token);
      out.addAll(items.apply(page));
      token = nextToken.apply(page);
    } while (!token.isEmpty());
    return out;
  }
}
