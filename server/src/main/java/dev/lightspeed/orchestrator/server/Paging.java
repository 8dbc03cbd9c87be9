package dev.lightspeed.orchestrator.server;

import dev.lightspeed.orchestrator.core.Page;
import dev.lightspeed.orchestrator.core.Reason;
import dev.lightspeed.orchestrator.core.Rejection;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * AIP-158 paging: page sizes and opaque page tokens. A token is the base64url text {@code
 * <listing>:<cursor>}, bound to the listing (and its filter) that issued it, so a token from
 * another listing is refused instead of silently skipping items.
 */
final class Paging {
  static final int DEFAULT_PAGE_SIZE = 100;
  static final int MAX_PAGE_SIZE = 1000;

  private Paging() {}

  /** 0 = the default, larger than the maximum = the maximum, negative = INVALID_REQUEST. */
  static int pageSize(int requested) {
    if (requested < 0) {
      throw Rejection.ofField(
          Reason.INVALID_REQUEST,
          "page_size",
          "must be ≥ 0 (got " + requested + "); 0 means the default of " + DEFAULT_PAGE_SIZE);
    }
    return requested == 0 ? DEFAULT_PAGE_SIZE : Math.min(requested, MAX_PAGE_SIZE);
  }

  /** The cursor a token carries, or {@link Page#START} for an empty token. */
  static long cursor(String token, String listing) {
    String text = text(token, listing);
    if (text == null) {
      return Page.START;
    }
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw badToken(listing);
    }
  }

  /** The text a token carries, or null for an empty token. */
  static String text(String token, String listing) {
    if (token.isEmpty()) {
      return null;
    }
    String decoded;
    try {
      decoded = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw badToken(listing);
    }
    String prefix = listing + ":";
    if (!decoded.startsWith(prefix)) {
      throw badToken(listing);
    }
    return decoded.substring(prefix.length());
  }

  static String token(String listing, long cursor) {
    return cursor < 0 ? "" : token(listing, Long.toString(cursor));
  }

  static String token(String listing, String text) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString((listing + ":" + text).getBytes(StandardCharsets.UTF_8));
  }

  private static Rejection badToken(String listing) {
    return Rejection.ofField(
        Reason.INVALID_REQUEST,
        "page_token",
        "is not a token this listing issued; pass the next_page_token of the previous "
            + listing + " page with the same other fields, or leave it empty to start over");
  }
}
