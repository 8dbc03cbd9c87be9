package dev.lightspeed.orchestrator.client.errors;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The client's {@link ErrorReason} names exactly the values of the generated API enum {@link
 * dev.lightspeed.orchestrator.v1.ErrorReason} (error_reason.proto), plus its own UNKNOWN: a reason
 * added to the proto fails here until it has its constant.
 */
class ErrorReasonTest {
  @Test
  void theClientsReasons_areTheProtosValues() {
    List<String> proto = new ArrayList<>();
    for (var v : dev.lightspeed.orchestrator.v1.ErrorReason.values()) {
      if (v != dev.lightspeed.orchestrator.v1.ErrorReason.ERROR_REASON_UNSPECIFIED
          && v != dev.lightspeed.orchestrator.v1.ErrorReason.UNRECOGNIZED) {
        proto.add(v.name());
      }
    }
    List<String> client = new ArrayList<>();
    for (ErrorReason r : ErrorReason.values()) {
      if (r != ErrorReason.UNKNOWN) {
        client.add(r.name());
        assertThat(r.toProto().name()).isEqualTo(r.name());
      }
    }
    assertThat(client).containsExactlyInAnyOrderElementsOf(proto);
  }

  @Test
  void unknown_isTheProtosUnspecifiedValue() {
    assertThat(ErrorReason.UNKNOWN.toProto())
        .isEqualTo(dev.lightspeed.orchestrator.v1.ErrorReason.ERROR_REASON_UNSPECIFIED);
    assertThat(ErrorReason.of("NOT_A_REASON")).isEqualTo(ErrorReason.UNKNOWN);
    assertThat(ErrorReason.of("QUEUE_FULL")).isEqualTo(ErrorReason.QUEUE_FULL);
  }
}
