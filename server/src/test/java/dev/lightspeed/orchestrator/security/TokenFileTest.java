package dev.lightspeed.orchestrator.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.EnumSet;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** The token file format: parsing, refusals that name the line (never the token), matching. */
class TokenFileTest {
  private static final String A = "a-token-that-is-long-enough-1";
  private static final String B = "b-token-that-is-long-enough-2";

  @Test
  void parse_readsTokensRolesAndNames_skippingCommentsAndBlankLines() {
    TokenFile file = TokenFile.parse(
        "# tokens\n\n" + A + " producer,reader ingest\r\n  " + B + "\tadmin  \n", "t");

    assertThat(file.size()).isEqualTo(2);
    assertThat(file.authenticate(A)).isEqualTo(
        new TokenFile.Principal("ingest", EnumSet.of(Role.PRODUCER, Role.READER)));
    assertThat(file.authenticate(B)).isEqualTo(
        new TokenFile.Principal("line-4", EnumSet.of(Role.ADMIN)));
    assertThat(file.authenticate(A + "x")).isNull();
    assertThat(file.authenticate("")).isNull();
  }

  @Test
  void aSha256Line_matchesTheTokenWhoseHashItIs() {
    String hash = HexFormat.of().formatHex(TokenFile.sha256(A)).toUpperCase();
    TokenFile file = TokenFile.parse("sha256:" + hash + " worker w", "t");

    assertThat(file.authenticate(A).name()).isEqualTo("w");
    assertThat(file.authenticate("sha256:" + hash)).isNull();
  }

  @Test
  void badLines_areRefusedNamingTheLine_neverTheToken() {
    String shortToken = "short-secret";
    String[][] cases = {
      {A + " writer", "line 1", "unknown role 'writer'"},
      {A + " producer reader x y", "line 1", "expected TOKEN ROLE[,ROLE...] [NAME]"},
      {A, "line 1", "got 1 fields"},
      {"# c\n" + shortToken + " reader", "line 2", "16 to 512 visible ASCII"},
      {A + " reader\n" + A + " admin", "line 2", "listed twice"},
      {A + " reader x\n" + B + " admin x", "line 2", "name 'x' is used twice"},
      {"sha256:abc reader", "line 1", "64 hex digits"},
      {"# nothing\n\n", "tokens.txt", "lists no token"},
      {A + " producer,", "line 1", "unknown role ''"},
    };
    for (String[] c : cases) {
      Throwable thrown = catchThrowable(() -> TokenFile.parse(c[0], "tokens.txt"));
      assertThat(thrown).as(c[0]).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(c[1]).hasMessageContaining(c[2]);
      assertThat(thrown.getMessage()).doesNotContain(A).doesNotContain(shortToken);
    }
  }

  @Test
  void wellFormed_isLengthAndVisibleAscii() {
    assertThat(TokenFile.wellFormed("x".repeat(16))).isTrue();
    assertThat(TokenFile.wellFormed("x".repeat(15))).isFalse();
    assertThat(TokenFile.wellFormed("x".repeat(513))).isFalse();
    assertThat(TokenFile.wellFormed("x".repeat(15) + " ")).isFalse();
    assertThat(TokenFile.wellFormed("x".repeat(15) + "é")).isFalse();
  }

  @Test
  void rolesParse_fromTheirLowerCaseLabels() {
    for (Role r : Role.values()) {
      assertThat(Role.parse(r.label())).isEqualTo(r);
    }
    assertThat(Role.parse("ADMIN")).isNull();
  }
}
