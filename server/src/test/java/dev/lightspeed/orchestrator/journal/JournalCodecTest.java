package dev.lightspeed.orchestrator.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lightspeed.orchestrator.core.Batch;
import dev.lightspeed.orchestrator.core.Boundary;
import dev.lightspeed.orchestrator.core.Command;
import dev.lightspeed.orchestrator.core.Connector;
import dev.lightspeed.orchestrator.core.ConnectorKind;
import dev.lightspeed.orchestrator.core.OperatorAction;
import dev.lightspeed.orchestrator.core.PipelineSpec;
import dev.lightspeed.orchestrator.core.RetryPolicy;
import dev.lightspeed.orchestrator.journal.v1.Ack;
import dev.lightspeed.orchestrator.journal.v1.AckItem;
import dev.lightspeed.orchestrator.journal.v1.Enqueue;
import java.io.IOException;
import java.util.LinkedHashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The journal's one codec: every command survives the round trip; the hot path's bytes. */
class JournalCodecTest {
  private static final PipelineSpec SPEC = new PipelineSpec("p", List.of("s0", "s1"),
      List.of(new Connector("src", ConnectorKind.SOURCE, "s0", false, 100, "", true),
          new Connector("sink", ConnectorKind.SINK, "s1", true, 0, "dlq", false)),
      new Boundary(10, 200, 30, 4000, 5000), new RetryPolicy(4, 10, 1000, 1.5), 60_000, true);

  private static Command<?> roundTrip(Command<?> command) throws IOException {
    JournalCodec.Entry entry = JournalCodec.decode(7, JournalCodec.encode("p", 1234, command));
    assertThat(entry.pipeline()).isEqualTo("p");
    assertThat(entry.nowMs()).isEqualTo(1234);
    return entry.command();
  }

  @Test
  void everyCommand_survivesTheRoundTrip() throws IOException {
    List<Command<?>> commands = List.of(
        new Command.CreatePipeline(SPEC),
        new Command.DeletePipeline(),
        new Command.Enqueue(List.of(new Batch("k1", "s0", 5, 3, "i1", 9),
            new Batch("k2", "s1", 1, 0, "", 0), new Batch("", "", 0, 0, "", 0))),
        new Command.StartAvailable(3, new LinkedHashSet<>(List.of("s1", "s0"))),
        new Command.StartAvailable(0, new LinkedHashSet<>()),
        new Command.Ack(new String[] {"a", "b", ""}, new int[] {0, 2, 7}),
        new Command.Fail("k", 2, "why", true),
        new Command.ExtendLease("k", 0),
        new Command.StartRun(),
        new Command.CompleteRun(),
        new Command.ApplyAction(new OperatorAction.SetMaxInFlight(3)),
        new Command.ApplyAction(new OperatorAction.RedriveDeadLetter("k")),
        new Command.ApplyAction(new OperatorAction.Pause()),
        new Command.UpdatePipeline(List.of("boundary.max_queued", "retry"), SPEC));
    for (Command<?> c : commands) {
      assertThat(roundTrip(c)).as("%s", c).isEqualTo(c);
    }
  }

  @Test
  void aConnectorWithoutKind_staysWithoutKind() throws IOException {
    PipelineSpec values = new PipelineSpec("p", List.of("s0"),
        List.of(new Connector("c", null, "s0", false, 0, "", false)),
        Boundary.DEFAULT, RetryPolicy.DEFAULT, 1, false);
    assertThat(roundTrip(new Command.UpdatePipeline(List.of("stages"), values)))
        .isEqualTo(new Command.UpdatePipeline(List.of("stages"), values));
  }

  @Test
  void bulkCommands_areWrittenExactlyAsTheGeneratedMessagesWould() {
    var batches = List.of(new Batch("k1", "s0", 5, 3, "i1", 9), new Batch("é", "s", 1, 0, "", 0));
    var expected = dev.lightspeed.orchestrator.journal.v1.Command.newBuilder()
        .setPipeline("p").setNowMs(1234).setVersion(JournalCodec.VERSION)
        .setEnqueue(Enqueue.newBuilder()
            .addBatches(dev.lightspeed.orchestrator.journal.v1.Batch.newBuilder().setKey("k1")
                .setStage("s0").setRecords(5).setLagMs(3).setIdempotencyKey("i1").setSequence(9))
            .addBatches(dev.lightspeed.orchestrator.journal.v1.Batch.newBuilder().setKey("é")
                .setStage("s").setRecords(1)))
        .build().toByteArray();
    assertThat(JournalCodec.encode("p", 1234, new Command.Enqueue(batches))).isEqualTo(expected);

    var expectedAck = dev.lightspeed.orchestrator.journal.v1.Command.newBuilder()
        .setPipeline("p").setNowMs(1234).setVersion(JournalCodec.VERSION)
        .setAck(Ack.newBuilder().addItems(AckItem.newBuilder().setKey("a"))
            .addItems(AckItem.newBuilder().setKey("b").setAttempt(3)))
        .build().toByteArray();
    assertThat(JournalCodec.encode("p", 1234,
        new Command.Ack(new String[] {"a", "b"}, new int[] {0, 3}))).isEqualTo(expectedAck);
    assertThat(JournalCodec.encode("p", 1234, new Command.Enqueue(List.of()))).isEqualTo(
        dev.lightspeed.orchestrator.journal.v1.Command.newBuilder().setPipeline("p")
            .setNowMs(1234).setVersion(JournalCodec.VERSION)
            .setEnqueue(Enqueue.getDefaultInstance()).build().toByteArray());
  }

  @Test
  void aRecordOfANewerVersion_isRefused_sayingWhatToDo() {
    byte[] newer = dev.lightspeed.orchestrator.journal.v1.Command.newBuilder()
        .setPipeline("p").setNowMs(1).setVersion(JournalCodec.VERSION + 1)
        .setStartRun(dev.lightspeed.orchestrator.journal.v1.StartRun.getDefaultInstance())
        .build().toByteArray();
    assertThatThrownBy(() -> JournalCodec.decode(42, newer))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("journal record 42")
        .hasMessageContaining("version " + (JournalCodec.VERSION + 1))
        .hasMessageContaining("newer server")
        .hasMessageContaining("Start the server version that wrote this data directory");
  }

  @Test
  void aVersion1Record_withoutVersionAndWithAbsentSettings_takesTheDefaults() throws IOException {
    byte[] old = dev.lightspeed.orchestrator.journal.v1.Command.newBuilder()
        .setPipeline("p").setNowMs(5)
        .setUpdatePipeline(dev.lightspeed.orchestrator.journal.v1.UpdatePipeline.newBuilder()
            .setValues(dev.lightspeed.orchestrator.journal.v1.PipelineSpec.newBuilder()
                .setName("p").addStages("s0"))
            .addUpdateMask("boundary"))
        .build().toByteArray();
    var update = (Command.UpdatePipeline) JournalCodec.decode(1, old).command();
    assertThat(update.values().boundary()).isEqualTo(Boundary.DEFAULT);
    assertThat(update.values().retry()).isEqualTo(RetryPolicy.DEFAULT);
    assertThat(update.values().dedupWindowMs()).isEqualTo(PipelineSpec.DEFAULT_DEDUP_WINDOW_MS);
  }
}
