package dev.lightspeed.orchestrator.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.host.ServerReason;
import dev.lightspeed.orchestrator.core.Batch;
import dev.lightspeed.orchestrator.core.DeadLetterRecord;
import dev.lightspeed.orchestrator.core.ItemResults;
import dev.lightspeed.orchestrator.core.ProcessOutcome;
import dev.lightspeed.orchestrator.core.ProcessResult;
import dev.lightspeed.orchestrator.core.Reason;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.core.RetryRecord;
import dev.lightspeed.orchestrator.core.RunSummary;
import dev.lightspeed.orchestrator.core.StartResult;
import dev.lightspeed.orchestrator.core.StartedBatch;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A cluster apply's reply survives the trip to the node that took the call, value for value. */
class ReplyCodecTest {
  private static Object roundTrip(Object value) {
    return ReplyCodec.decode(ReplyCodec.ok(value));
  }

  @Test
  void recordsAndScalarsComeBackEqual() {
    List<Object> values = List.of(
        true, 42L, "paused stage load",
        new ProcessOutcome.Processed(new ProcessResult("b1", "load", 10, 2, 7, 1_000, 2_000)),
        new ProcessOutcome.RetryScheduled(new RetryRecord("b1", 3, "timeout", 5_000)),
        new ProcessOutcome.DeadLettered(new DeadLetterRecord("b1", "dlq", "poison", 6_000)),
        new ProcessOutcome.FailureRejected("stale attempt"),
        new RunSummary(1, 2, 3, 4, 5, 6, 7), Optional.of(new RunSummary(1, 2, 3, 4, 5, 6, 7)),
        Optional.empty());
    for (Object v : values) {
      assertThat(roundTrip(v)).as("%s", v).isEqualTo(v);
    }
    assertThat(roundTrip(null)).isNull();
    assertThat((byte[]) roundTrip(new byte[] {1, 2, 3})).containsExactly(1, 2, 3);
  }

  /**
   * The bytes themselves, as the DataOutputStream-based encoder of before wrote them: nodes of
   * two builds exchange replies during a rolling restart, so the writer may change, the format not.
   */
  @Test
  void theFormatIsByteForByteTheOneEarlierBuildsWrote() {
    Object value = ItemResults.of(List.of(
        new ProcessOutcome.Processed(new ProcessResult("b1", "load", 10, 2, 7, 1_000, 2_000)),
        new RunSummary(1, 2, 3, 4, 5, 6, 7), Optional.of(-5L), "é", true));
    assertThat(java.util.HexFormat.of().formatHex(ReplyCodec.ok(value))).isEqualTo(
        "490000000550000000026231000000046c6f6164000000000000000a0000000200000000000000070000"
            + "0000000003e800000000000007d0550000000000000001000000000000000200000000000000030000"
            + "0000000000040000000000000005000000000000000600000000000000074f014afffffffffffffffb"
            + "5300000002c3a95a01");
  }

  @Test
  void aTruncatedOrCorruptReplyIsRefusedWithAMessage_neverAHugeAllocation() {
    byte[] whole = ReplyCodec.ok("paused stage load");
    byte[] truncated = java.util.Arrays.copyOf(whole, whole.length - 3);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ReplyCodec.decode(truncated))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("a cluster reply cannot be read");
    // 'S' then a length of 2^31 - 1: refused before allocating it.
    byte[] huge = {'S', 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff, 'x'};
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ReplyCodec.decode(huge))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("a cluster reply cannot be read");
    byte[] negative = {'S', (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xfe};
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ReplyCodec.decode(negative))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("a length of -2");
  }

  @Test
  void startedBatchesKeepEveryField() {
    StartResult result = new StartResult(
        List.of(new StartedBatch(new Batch("b1", "extract", 10, 5, "idem-b1", 1), 1, 100, 30_100,
            0), new StartedBatch(new Batch("b2", "load", 3, 0, "", 0), 2, 200, 0, 9)),
        List.of(new ProcessOutcome.RetryScheduled(new RetryRecord("b0", 2, "lease expired", 9))));
    StartResult back = (StartResult) roundTrip(result);
    assertThat(back.started()).isEqualTo(result.started());
    assertThat(back.expired()).isEqualTo(result.expired());
  }

  @Test
  void refusalsKeepReasonFieldMessageAndMetadata() {
    Rejection field = Rejection.ofField(Reason.INVALID_BATCH, "records", "must be ≥ 1");
    Rejection server = Rejection.withMetadata(ServerReason.EVENTS_EXPIRED, "resume after 9",
        Map.of("oldest_event_id", "10"));
    for (Rejection r : List.of(field, server, Rejection.of(ServerReason.PIPELINE_NOT_FOUND, "x"))) {
      Rejection back = (Rejection) ReplyCodec.decode(ReplyCodec.refused(r));
      assertThat(back.reason()).isEqualTo(r.reason());
      assertThat(back.field()).isEqualTo(r.field());
      assertThat(back.getMessage()).isEqualTo(r.getMessage());
      assertThat(back.metadata()).isEqualTo(r.metadata());
    }
  }

  @Test
  void bulkResultsKeepEachItemsValueOrRefusal() {
    Rejection full = Rejection.of(Reason.QUEUE_FULL, "queue full");
    ItemResults<Boolean> results = ItemResults.of(List.of(true, full, false));
    @SuppressWarnings("unchecked")
    ItemResults<Boolean> back = (ItemResults<Boolean>) roundTrip(results);
    assertThat(back.size()).isEqualTo(3);
    assertThat(back.value(0)).isTrue();
    assertThat(back.refusal(1).reason()).isEqualTo(Reason.QUEUE_FULL);
    assertThat(back.value(2)).isFalse();
  }
}
