package dev.lightspeed.orchestrator.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.core.Reason;
import dev.lightspeed.orchestrator.core.RefusalReason;
import dev.lightspeed.orchestrator.grpc.ErrorMapper;
import dev.lightspeed.orchestrator.host.ServerReason;
import dev.lightspeed.orchestrator.v1.ErrorReason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The server's reasons and the API's {@link ErrorReason} enum (error_reason.proto, generated into
 * every client) cannot drift apart: each reason the server refuses with, the core's or its own,
 * is a value of the same name; each value is a reason of the server; and each value's comment
 * starts with the status code the server sends with it.
 */
class ErrorReasonProtoTest {
  private static final Path PROTO =
      Path.of("../proto/lightspeed/orchestrator/v1/error_reason.proto");

  /** The values that are no reason: the zero value, and protobuf-java's stand-in for unknowns. */
  private static final List<ErrorReason> NOT_REASONS =
      List.of(ErrorReason.ERROR_REASON_UNSPECIFIED, ErrorReason.UNRECOGNIZED);

  @Test
  void everyReasonOfTheServer_isTheProtoValueOfTheSameName() {
    for (RefusalReason r : Reasons.all()) {
      assertThat(Stream.of(ErrorReason.values()).map(ErrorReason::name))
          .as("error_reason.proto has a value %s", r.name())
          .contains(r.name());
      assertThat(ErrorMapper.errorReason(r).name()).isEqualTo(r.name());
    }
  }

  @Test
  void everyProtoValue_isAReasonOfTheServer() {
    for (ErrorReason v : ErrorReason.values()) {
      if (!NOT_REASONS.contains(v)) {
        assertThat(Reasons.named(v.name())).as("a reason of the server named %s", v).isNotNull();
      }
    }
  }

  @Test
  void theCoreAndTheServer_neverNameTheSameReason() {
    for (Reason r : Reason.values()) {
      assertThat(Stream.of(ServerReason.values()).map(ServerReason::name)).doesNotContain(r.name());
    }
  }

  @Test
  void everyProtoValue_isDocumentedWithTheCodeTheServerSends() throws IOException {
    Map<String, String> firstWord = documentedCodes(Files.readString(PROTO));
    List<String> values = new ArrayList<>();
    for (ErrorReason v : ErrorReason.values()) {
      if (!NOT_REASONS.contains(v)) {
        values.add(v.name());
        assertThat(firstWord.get(v.name()))
            .as("the comment of %s in %s starts with its code", v, PROTO)
            .isEqualTo(ErrorMapper.code(Reasons.named(v.name())).name());
      }
    }
    assertThat(firstWord.keySet()).containsExactlyInAnyOrderElementsOf(values);
  }

  /** Per value of the proto file (not the zero value): the first word of its leading comment. */
  private static Map<String, String> documentedCodes(String proto) {
    Pattern value =
        Pattern.compile("((?:^ *//[^\\n]*\\n)+) *([A-Z][A-Z0-9_]*) = (\\d+);", Pattern.MULTILINE);
    Map<String, String> codes = new HashMap<>();
    Matcher m = value.matcher(proto);
    while (m.find()) {
      if (!m.group(3).equals("0")) {
        String comment = m.group(1).replaceFirst("^ *// *", "");
        codes.put(m.group(2), comment.split("[ ,.]", 2)[0]);
      }
    }
    return codes;
  }
}
