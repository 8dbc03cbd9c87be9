package dev.lightspeed.orchestrator.grpc;

import dev.lightspeed.orchestrator.core.Page;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.host.ServerReason;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.zip.CRC32C;

/**
 * AIP-158 paging: page sizes and opaque page tokens. A token is the base64url text {@code
 * <scope>:<cursor>.<crc>}: the scope names the pipeline and the listing (with its filter) that
 * issued it, and the CRC32C of the rest catches a token edited by hand or cut short. A token of
 * another pipeline or listing, a damaged one, or a negative cursor is refused (INVALID_ARGUMENT,
 * INVALID_REQUEST, field page_token) instead of silently skipping or repeating items. The CRC is a
 * checksum, not a MAC: a token is no secret (any reader may list every page anyway).
 */
final class Paging {
  static final int DEFAULT_PAGE_SIZE = 100;
  static final int MAX_PAGE_SIZE = 1000;

  private Paging() {}

  /** 0 = the default, larger than the maximum = the maximum, negative = INVALID_REQUEST. */
  static int pageSize(int requested) {
    if (requested < 0) {
      throw Rejection.ofField(
          ServerReason.INVALID_REQUEST,
          "page_size",
          "must be ≥ 0 (got " + requested + "); 0 means the default of " + DEFAULT_PAGE_SIZE);
    }
    return requested == 0 ? DEFAULT_PAGE_SIZE : Math.min(requested, MAX_PAGE_SIZE);
  }

  /** The scope of a pipeline's listing: tokens of one pipeline are refused on another. */
  static String scope(String pipeline, String listing) {
    return listing + "@" + pipeline;
  }

  /** The cursor a token carries, or {@link Page#START} for an empty token. */
  static long cursor(String token, String listing) {
    String text = text(token, listing);
    if (text == null) {
      return Page.START;
    }
    long cursor;
    try {
      cursor = Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw badToken(listing);
    }
    if (cursor < 0) {
      throw badToken(listing); // the server never issues one
    }
    return cursor;
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
    int dot = decoded.lastIndexOf('.');
    if (dot < 0 || !decoded.substring(dot + 1).equals(checksum(decoded.substring(0, dot)))) {
      throw badToken(listing);
    }
    decoded = decoded.substring(0, dot);
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
    String body = listing + ":" + text;
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString((body + "." + checksum(body)).getBytes(StandardCharsets.UTF_8));
  }

  private static String checksum(String body) {
    CRC32C crc = new CRC32C();
    crc.update(body.getBytes(StandardCharsets.UTF_8));
    return Long.toHexString(crc.getValue());
  }

  private static Rejection badToken(String listing) {
    return Rejection.ofField(
        ServerReason.INVALID_REQUEST,
        "page_token",
        "is not a token this listing issued (another pipeline's or listing's, or damaged);"
            + " pass the next_page_token of the previous " + listingName(listing)
            + " page with the same other fields, or leave it empty to start over");
  }

  /** The listing's name in messages, without the pipeline name (it is in the ErrorInfo). */
  private static String listingName(String scope) {
    int at = scope.indexOf('@');
    return at < 0 ? scope : scope.substring(0, at);
  }
}
