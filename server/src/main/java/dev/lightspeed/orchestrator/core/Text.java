package dev.lightspeed.orchestrator.core;

/** The text rules shared by keys, idempotency keys and names. */
final class Text {
  /** The longest key or idempotency key, in bytes of UTF-8. */
  static final int MAX_KEY_BYTES = 256;

  private Text() {}

  /** The UTF-8 length of {@code s}, counting an unpaired surrogate as 3 bytes (it is sent as U+FFFD). */
  static int utf8Length(String s) {
    int bytes = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        bytes += 1;
      } else if (c < 0x800) {
        bytes += 2;
      } else if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        bytes += 4;
        i++;
      } else {
        bytes += 3;
      }
    }
    return bytes;
  }

  /** True if {@code s} holds a C0 or C1 control character (U+0000–U+001F, U+007F–U+009F). */
  static boolean hasControlCharacter(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c <= 0x1F || (c >= 0x7F && c <= 0x9F)) {
        return true;
      }
    }
    return false;
  }

  /** {@code s} with control characters escaped, shortened for an error message. */
  static String printable(String s) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < s.length() && out.length() < 80; i++) {
      char c = s.charAt(i);
      if (c <= 0x1F || (c >= 0x7F && c <= 0x9F)) {
        out.append(String.format("\\u%04X", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.length() < 80 ? out.toString() : out + "…";
  }
}
