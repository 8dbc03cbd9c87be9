package dev.lightspeed.orchestrator.journal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.core.Command;
import java.util.Set;
import org.junit.jupiter.api.Test;

class InMemoryCommandLogTest {
  @Test
  void appendingACommandCountsItsIndexWithoutEncodingARecordNobodyReads() {
    InMemoryCommandLog log = new InMemoryCommandLog();
    CommandLog.Appended first = log.append("orders", 1_000, new Command.StartAvailable(4, Set.of()));
    CommandLog.Appended second = log.append("orders", 1_001, new Command.StartRun());
    assertThat(first.index()).isEqualTo(1);
    assertThat(second.index()).isEqualTo(2);
    assertThat(first.durable()).isDone();
    assertThat(log.lastIndex()).isEqualTo(2);
    assertThat(log.durableIndex()).isEqualTo(2);
    // A record appended as bytes is counted; a command was never encoded (a cluster replica, the
    // snapshotter's shadow and recovery journal into this log, and nothing reads it back).
    assertThat(log.appendedBytes()).isZero();
    log.append(new byte[] {1, 2, 3});
    assertThat(log.appendedBytes()).isEqualTo(3);
    assertThat(log.lastIndex()).isEqualTo(3);
  }

  @Test
  void aLogThatKeepsRecordsGetsTheCommandsJournalRecord() {
    java.util.List<byte[]> appended = new java.util.ArrayList<>();
    CommandLog keeping = new CommandLog() {
      @Override
      public Appended append(byte[] command) {
        appended.add(command);
        return new Appended(appended.size(), java.util.concurrent.CompletableFuture.completedFuture(null));
      }
      @Override public long lastIndex() { return appended.size(); }
      @Override public long appendedBytes() { return 0; }
      @Override public long durableIndex() { return appended.size(); }
      @Override public void read(long afterIndex, long upToIndex, RecordConsumer consumer) {}
      @Override public void compactUpTo(long index) {}
      @Override public void close() {}
    };
    Command.StartAvailable start = new Command.StartAvailable(4, Set.of());
    keeping.append("orders", 1_000, start);
    assertThat(appended).singleElement()
        .isEqualTo(JournalCodec.encode("orders", 1_000, start));
  }
}
