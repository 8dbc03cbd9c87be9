package dev.lightspeed.orchestrator.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lightspeed.orchestrator.core.Batch;
import dev.lightspeed.orchestrator.core.Command;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.core.StartedBatch;
import dev.lightspeed.orchestrator.grpc.ProtoMapper;
import dev.lightspeed.orchestrator.journal.CommandLog;
import dev.lightspeed.orchestrator.journal.InMemoryCommandLog;
import dev.lightspeed.orchestrator.journal.v1.SnapshotFile;
import dev.lightspeed.orchestrator.v1.Connector;
import dev.lightspeed.orchestrator.v1.ConnectorKind;
import dev.lightspeed.orchestrator.v1.PipelineSpec;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The state-machine contract: the records the live server journals, applied one by one to a
 * fresh machine, give the same pipelines; lastAppliedIndex follows; snapshot and restore give
 * them back; a record the snapshot holds is skipped; a record that cannot be applied is refused
 * naming it.
 */
class PipelinesStateMachineTest {
  private static final long NOW = 1_000_000;

  /** A journal that keeps what is appended, in memory. */
  private static final class RecordingLog extends InMemoryCommandLogDelegate {
    final List<byte[]> records = new ArrayList<>();

    @Override
    public Appended append(byte[] command) {
      records.add(command);
      return super.append(command);
    }
  }

  /** InMemoryCommandLog is final: delegate to it. */
  private static class InMemoryCommandLogDelegate implements CommandLog {
    private final InMemoryCommandLog inner = new InMemoryCommandLog();

    @Override
    public Appended append(byte[] command) {
      return inner.append(command);
    }

    @Override
    public long lastIndex() {
      return inner.lastIndex();
    }

    @Override
    public long appendedBytes() {
      return inner.appendedBytes();
    }

    @Override
    public long durableIndex() {
      return inner.durableIndex();
    }

    @Override
    public void read(long afterIndex, long upToIndex, RecordConsumer consumer) {
      inner.read(afterIndex, upToIndex, consumer);
    }

    @Override
    public void compactUpTo(long index) {}

    @Override
    public void close() {}
  }

  private static PipelinesStateMachine fresh() {
    return new PipelinesStateMachine(new AtomicReference<>(new InMemoryCommandLog()));
  }

  private static String signature(PipelinesStateMachine m, String pipeline) {
    return m.query(pipeline, q -> q.signature());
  }

  /** A live registry with some life cycles on pipeline "p" and a deleted pipeline "gone". */
  private static RecordingLog liveWorkload(PipelineRegistry live) {
    RecordingLog log = (RecordingLog) live.log();
    live.create(ProtoMapper.toCore(PipelineSpec.newBuilder().setName("p").addStages("s0")
        .addConnectors(Connector.newBuilder().setName("src").setStage("s0")
            .setKind(ConnectorKind.CONNECTOR_KIND_SOURCE)).build()), NOW).join();
    PipelineHandle p = live.get("p");
    for (int i = 0; i < 5; i++) {
      p.execute(Command.Enqueue.of(new Batch("k" + i, "s0", 3, 0, "i" + i, 0)), NOW + i);
    }
    p.execute(Command.Enqueue.of(new Batch("k0", "s0", 3, 0, "other", 0)), NOW); // refused
    List<StartedBatch> started =
        p.execute(new Command.StartAvailable(3, Set.of()), NOW + 10).result().started();
    p.execute(Command.Ack.of(started.get(0).batch().key(), 1), NOW + 11);
    p.execute(new Command.Fail(started.get(1).batch().key(), 1, "flaky", false), NOW + 12);
    p.execute(new Command.StartRun(), NOW + 13);
    live.create(ProtoMapper.toCore(PipelineSpec.newBuilder().setName("gone").addStages("s")
        .setAllowUnboundStages(true).build()), NOW).join();
    live.delete("gone", true, NOW + 14).join();
    return log;
  }

  @Test
  void theJournaledRecords_appliedOneByOne_giveTheLivePipelines() throws IOException {
    PipelineRegistry live = new PipelineRegistry(new RecordingLog());
    RecordingLog log = liveWorkload(live);
    PipelinesStateMachine machine = fresh();
    for (int i = 0; i < log.records.size(); i++) {
      machine.apply(i + 1, log.records.get(i));
      assertThat(machine.lastAppliedIndex()).isEqualTo(i + 1);
    }
    assertThat(machine.pipelines().keySet()).containsExactly("p");
    assertThat(signature(machine, "p")).isEqualTo(live.get("p").read(q -> q.signature()));
    assertThat(live.stateMachine().lastAppliedIndex()).isEqualTo(log.records.size());
  }

  @Test
  void snapshotAndRestore_giveTheSameState_andSkipTheRecordsItHolds() throws IOException {
    PipelineRegistry live = new PipelineRegistry(new RecordingLog());
    RecordingLog log = liveWorkload(live);
    PipelinesStateMachine machine = fresh();
    int half = log.records.size() / 2;
    for (int i = 0; i < half; i++) {
      machine.apply(i + 1, log.records.get(i));
    }
    SnapshotFile snapshot = machine.snapshot(machine.lastAppliedIndex());
    PipelinesStateMachine restored = fresh();
    restored.restore(snapshot);
    assertThat(restored.lastAppliedIndex()).isEqualTo(half);
    assertThat(signature(restored, "p")).isEqualTo(signature(machine, "p"));
    // from the start again: the records the snapshot holds are skipped, the rest applied
    for (int i = 1; i < log.records.size(); i++) {
      restored.apply(i + 1, log.records.get(i));
    }
    assertThat(signature(restored, "p")).isEqualTo(live.get("p").read(q -> q.signature()));
  }

  @Test
  void aRecordThatCannotBeApplied_isRefused_namingIt() throws IOException {
    PipelineRegistry live = new PipelineRegistry(new RecordingLog());
    RecordingLog log = liveWorkload(live);
    PipelinesStateMachine machine = fresh();
    // record 2 without record 1: the pipeline it is for does not exist
    assertThatThrownBy(() -> machine.apply(2, log.records.get(1)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("journal record 2 cannot be applied");
    assertThatThrownBy(() -> machine.apply(3, new byte[] {(byte) 0xff, 1, 2}))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("journal record 3");
  }

  @Test
  void query_ofAnUnknownPipeline_isPipelineNotFound() {
    assertThatThrownBy(() -> fresh().query("nope", q -> q.version()))
        .isInstanceOfSatisfying(Rejection.class,
            r -> assertThat(r.reason()).isEqualTo(ServerReason.PIPELINE_NOT_FOUND));
  }

}
