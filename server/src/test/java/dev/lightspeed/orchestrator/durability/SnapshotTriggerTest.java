package dev.lightspeed.orchestrator.durability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SnapshotTriggerTest {
  private static final long MIB = 1 << 20;
  private final SnapshotTrigger trigger = new SnapshotTrigger(100_000, 256 * MIB, 1.0);

  @Test
  void smallState_isSnapshottedEverySoManyRecordsOrBytes_asBefore() {
    assertThat(trigger.due(99_999, 10 * MIB, 1 * MIB)).isFalse();
    assertThat(trigger.due(100_000, 10 * MIB, 1 * MIB)).isTrue();
    assertThat(trigger.due(5_000, 256 * MIB, 1 * MIB)).as("few, large records").isTrue();
    assertThat(trigger.due(100_000, 10 * MIB, 0)).as("no snapshot yet").isTrue();
  }

  @Test
  void largeState_waitsUntilTheJournalSinceIsAsLargeAsTheLastSnapshot() {
    long snapshot = 225 * MIB;
    assertThat(trigger.due(1_000_000, 224 * MIB, snapshot)).isFalse();
    assertThat(trigger.due(1_000_000, 225 * MIB, snapshot)).isTrue();
    long huge = 2048 * MIB;
    assertThat(trigger.due(10_000_000, 1024 * MIB, huge)).as("256 MiB is not enough either").isFalse();
    assertThat(trigger.due(10_000_000, 2048 * MIB, huge)).isTrue();
  }

  @Test
  void nothingNew_isNeverDue() {
    assertThat(new SnapshotTrigger(1, 1, 0).due(0, 0, 0)).isFalse();
    assertThat(new SnapshotTrigger(1, 1, 0).due(1, 0, 0)).isTrue();
  }

  @Test
  void nonsense_isRefused() {
    assertThatThrownBy(() -> new SnapshotTrigger(0, 1, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new SnapshotTrigger(1, 1, -1)).isInstanceOf(IllegalArgumentException.class);
  }
}
