package dev.lightspeed.orchestrator.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * The bearer tokens a server accepts (the {@code --token-file}), each with its roles. The file is
 * text, one token per line, fields separated by spaces or tabs:
 *
 * <pre>
 * # comment lines and blank lines are ignored
 * TOKEN  ROLE[,ROLE...]  [NAME]
 * </pre>
 *
 * <ul>
 *   <li>TOKEN: the token as clients send it ({@code authorization: Bearer TOKEN}), 16 to 512
 *       visible ASCII characters; or {@code sha256:} followed by the 64 hex digits of the SHA-256
 *       of the token, so that the file need not hold the secret itself.
 *   <li>ROLE: {@code producer}, {@code worker}, {@code operator}, {@code admin}, {@code reader}
 *       (see {@link Role}); no role implies another.
 *   <li>NAME: a label for logs (default {@code line-N}); the token itself is never logged.
 * </ul>
 *
 * Only SHA-256 hashes of the tokens are kept in memory, and a presented token is compared with
 * every one of them with {@link MessageDigest#isEqual} (constant time, no early exit), so the
 * time a check takes does not tell how much of a guess was right.
 */
public final class TokenFile {
  static final int MIN_TOKEN_LENGTH = 16;
  static final int MAX_TOKEN_LENGTH = 512;
  private static final String HASH_PREFIX = "sha256:";

  /** Who a valid token belongs to, and what it may do. */
  public record Principal(String name, Set<Role> roles) {
    public Principal {
      roles = Set.copyOf(roles);
    }
  }

  private record Entry(byte[] hash, Principal principal) {}

  private final List<Entry> entries;

  private TokenFile(List<Entry> entries) {
    this.entries = List.copyOf(entries);
  }

  /** Reads and checks a token file; the message of a refusal names the line, never the token. */
  public static TokenFile read(Path file) throws IOException {
    return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
  }

  public static TokenFile parse(String text, String source) {
    List<Entry> entries = new ArrayList<>();
    Set<String> hashes = new HashSet<>();
    Set<String> names = new HashSet<>();
    String[] lines = text.split("\r?\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String where = source + " line " + (i + 1) + ": ";
      String[] fields = line.split("[ \t]+");
      if (fields.length < 2 || fields.length > 3) {
        throw new IllegalArgumentException(
            where + "expected TOKEN ROLE[,ROLE...] [NAME], got " + fields.length + " fields");
      }
      byte[] hash = tokenHash(fields[0], where);
      if (!hashes.add(HexFormat.of().formatHex(hash))) {
        throw new IllegalArgumentException(where + "the same token is listed twice");
      }
      Set<Role> roles = EnumSet.noneOf(Role.class);
      for (String label : fields[1].split(",", -1)) {
        Role role = Role.parse(label);
        if (role == null) {
          throw new IllegalArgumentException(
              where + "unknown role '" + label + "'; roles are producer, worker, operator, admin,"
                  + " reader, separated by commas without spaces");
        }
        roles.add(role);
      }
      String name = fields.length == 3 ? fields[2] : "line-" + (i + 1);
      if (!names.add(name)) {
        throw new IllegalArgumentException(where + "the name '" + name + "' is used twice");
      }
      entries.add(new Entry(hash, new Principal(name, roles)));
    }
    if (entries.isEmpty()) {
      throw new IllegalArgumentException(
          source + " lists no token; every call would be refused. Add lines of the form"
              + " TOKEN ROLE[,ROLE...] [NAME]");
    }
    return new TokenFile(entries);
  }

  private static byte[] tokenHash(String field, String where) {
    if (field.startsWith(HASH_PREFIX)) {
      String hex = field.substring(HASH_PREFIX.length());
      if (!hex.matches("[0-9a-fA-F]{64}")) {
        throw new IllegalArgumentException(
            where + "a sha256: token must be followed by 64 hex digits (sha256sum of the token)");
      }
      return HexFormat.of().parseHex(hex.toLowerCase(java.util.Locale.ROOT));
    }
    if (!wellFormed(field)) {
      throw new IllegalArgumentException(
          where + "a token must be " + MIN_TOKEN_LENGTH + " to " + MAX_TOKEN_LENGTH
              + " visible ASCII characters (e.g. openssl rand -hex 32)");
    }
    return sha256(field);
  }

  /** Whether {@code token} could be a token at all (length and characters). */
  public static boolean wellFormed(String token) {
    if (token.length() < MIN_TOKEN_LENGTH || token.length() > MAX_TOKEN_LENGTH) {
      return false;
    }
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (c < 0x21 || c > 0x7e) {
        return false;
      }
    }
    return true;
  }

  /**
   * The principal of {@code token}, or null if no entry matches. Compares the token's hash with
   * every entry, in constant time each, without stopping at a match.
   */
  public Principal authenticate(String token) {
    byte[] presented = sha256(token);
    Principal match = null;
    for (Entry e : entries) {
      if (MessageDigest.isEqual(e.hash, presented)) {
        match = e.principal;
      }
    }
    return match;
  }

  public int size() {
    return entries.size();
  }

  public static byte[] sha256(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
