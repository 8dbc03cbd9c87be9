package dev.lightspeed.orchestrator.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.core.Command;
import dev.lightspeed.orchestrator.core.StartResult;
import dev.lightspeed.orchestrator.core.StartedBatch;
import dev.lightspeed.orchestrator.durability.Durability;
import dev.lightspeed.orchestrator.durability.Recovery;
import dev.lightspeed.orchestrator.grpc.ProtoMapper;
import dev.lightspeed.orchestrator.host.PipelineHandle;
import dev.lightspeed.orchestrator.host.PipelineRegistry;
import dev.lightspeed.orchestrator.journal.InMemoryCommandLog;
import dev.lightspeed.orchestrator.journal.SnapshotStore;
import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.Boundary;
import dev.lightspeed.orchestrator.v1.Connector;
import dev.lightspeed.orchestrator.v1.ConnectorKind;
import dev.lightspeed.orchestrator.v1.PipelineSpec;
import dev.lightspeed.orchestrator.v1.RetryPolicy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Snapshots taken from the log: they never wait for a pipeline's or the registry's lock, and
 * each one recovers exactly the live pipelines as they were at its floor index — including
 * pipelines created and deleted between snapshots.
 */
class ShadowSnapshotTest {
  private static final long NOW = 1_700_000_000_000L;

  @TempDir Path dir;

  private Durability durability;
  private final ExecutorService threads = Executors.newCachedThreadPool();

  @AfterEach
  void close() throws Exception {
    threads.shutdownNow();
    if (durability != null) {
      durability.close();
    }
  }

  @Test
  void snapshot_whileAPipelineLockAndTheRegistryLockAreHeld_completesAndRecoversTheLiveState()
      throws Exception {
    durability = Durability.open(Durability.Options.defaults(dir).withSegmentBytes(4096));
    PipelineRegistry live = durability.registry();
    create(live, "a");
    create(live, "b");
    lifecycles(live.get("a"), "a", 30);
    lifecycles(live.get("b"), "b", 30);
    durability.snapshot();
    long first = latestFloor();
    // Between two snapshots: a pipeline created, one deleted, one changed.
    create(live, "c");
    lifecycles(live.get("c"), "c", 20);
    live.delete("a", true, NOW).join();
    lifecycles(live.get("b"), "b2-", 25);
    Map<String, String> expected = signatures(live);
    assertThat(expected).containsOnlyKeys("b", "c");

    // Hold pipeline b's monitor, and make a DeletePipeline hold the registry's lock while it
    // waits for b's: the old snapshot needed both and would wait here until they are released.
    PipelineHandle b = live.get("b");
    CountDownLatch holding = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    threads.submit(() -> {
      synchronized (b) {
        holding.countDown();
        release.await();
      }
      return null;
    });
    holding.await();
    AtomicBoolean deleting = new AtomicBoolean();
    Future<?> delete = threads.submit(() -> {
      deleting.set(true);
      return live.delete("b", true, NOW).join();
    });
    while (!deleting.get()) {
      Thread.onSpinWait();
    }
    Thread.sleep(50); // the delete now holds the registry lock, blocked on b's monitor
    assertThat(delete.isDone()).isFalse();
    try {
      Future<?> snapshot = threads.submit(() -> {
        durability.snapshot();
        return null;
      });
      snapshot.get(30, TimeUnit.SECONDS);
    } finally {
      release.countDown();
    }
    delete.get(30, TimeUnit.SECONDS);

    long floor = latestFloor();
    assertThat(floor).isGreaterThan(first);
    assertThat(recover(floor)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "the snapshotter follows the journal = {0}")
  @ValueSource(booleans = {true, false})
  void snapshotsInALoop_whileOneThreadChangesPipelines_eachRecoversTheStateAtItsFloor(
      boolean follow) throws Exception {
    // fsync=never: the records are still written to the segment files before they count as
    // durable, which is all that snapshots read; it keeps thousands of changes quick.
    durability = Durability.open(Durability.Options.defaults(dir).withSegmentBytes(8192)
        .withFsync(dev.lightspeed.orchestrator.journal.FsyncMode.NEVER)
        .withSnapshotFollow(follow));
    PipelineRegistry live = durability.registry();
    History history = new History(live);
    AtomicBoolean done = new AtomicBoolean();
    List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
    Future<?> mutator = threads.submit(() -> {
      try {
        // The only thread that appends, so the journal's last index after a change is its record.
        for (int round = 0; round < 9; round++) {
          String name = "p" + round;
          create(live, name);
          history.changed(name);
          for (int i = 0; i < 25; i++) {
            for (PipelineHandle h : live.all()) {
              step(h, h.name() + "-" + round + "-" + i, () -> history.changed(h.name()));
            }
          }
          if (round % 3 == 2) {
            String gone = "p" + (round - 2);
            live.delete(gone, true, NOW).join();
            history.deleted(gone);
          }
        }
      } catch (Throwable e) {
        failures.add(e);
      } finally {
        done.set(true);
      }
    });
    List<Long> floors = new ArrayList<>();
    while (!done.get()) {
      durability.snapshot();
      long floor = latestFloor();
      if (floor > 0 && (floors.isEmpty() || floor != floors.get(floors.size() - 1))) {
        floors.add(floor);
        assertThat(recover(floor)).as("snapshot at %d", floor).isEqualTo(history.at(floor));
      }
    }
    mutator.get();
    assertThat(failures).isEmpty();
    assertThat(floors).as("snapshots taken while the pipelines changed").hasSizeGreaterThan(3);
    long last = live.log().lastIndex();
    durability.snapshot();
    assertThat(latestFloor()).isEqualTo(last);
    assertThat(recover(last)).isEqualTo(signatures(live)).isEqualTo(history.at(last));
  }

  @Test
  void followingSnapshotter_appliesTheJournalBetweenSnapshots_andSnapshotsWhatItFollowed()
      throws Exception {
    durability = Durability.open(Durability.Options.defaults(dir).withSegmentBytes(4096)
        .withSnapshotEveryRecords(Long.MAX_VALUE)); // no snapshot falls due by itself
    PipelineRegistry live = durability.registry();
    create(live, "a");
    lifecycles(live.get("a"), "a", 40);
    long written = live.log().durableIndex();
    awaitCopyAt(written);
    assertThat(latestFloor()).as("following takes no snapshot").isZero();

    create(live, "b");
    lifecycles(live.get("b"), "b", 40);
    live.delete("a", true, NOW).join();
    written = live.log().durableIndex();
    awaitCopyAt(written);
    Map<String, String> expected = signatures(live);
    durability.snapshot();
    assertThat(latestFloor()).isEqualTo(written);
    assertThat(recover(written)).isEqualTo(expected);
    assertThat(durability.snapshotterCopyIndex()).isEqualTo(written);
  }

  /**
   * A snapshot keeps the server's event retention (--event-retention), not the default 100,000:
   * the snapshotter's copy of the state writes the events it kept. Without it given the live
   * setting, this snapshot held all 123 events, and a retention above 100,000 was cut to 100,000
   * by the next restart.
   */
  @ParameterizedTest(name = "the snapshotter follows the journal = {0}")
  @ValueSource(booleans = {true, false})
  void aSnapshotKeepsTheServersEventRetention(boolean follow) throws Exception {
    Durability.Options options = Durability.Options.defaults(dir).withSegmentBytes(4096)
        .withSnapshotEveryRecords(Long.MAX_VALUE).withSnapshotFollow(follow);
    durability = Durability.open(options);
    PipelineRegistry live = durability.registry();
    live.eventRetention(10);
    create(live, "a");
    lifecycles(live.get("a"), "a", 40);
    long written = live.log().durableIndex();
    if (follow) {
      awaitCopyAt(written);
    }
    durability.snapshot();
    assertThat(latestFloor()).isEqualTo(written);
    durability.close();

    // Recovery keeps every event of the snapshot (the server sets its retention afterwards).
    durability = Durability.open(options);
    PipelineHandle a = durability.registry().get("a");
    long retained = a.<Long>read(q -> q.nextEventId() - q.oldestEventId());
    assertThat(retained).isEqualTo(10);
  }

  @Test
  void snapshotterThatDoesNotFollow_keepsNoCopyBetweenSnapshots() throws Exception {
    durability = Durability.open(Durability.Options.defaults(dir).withSegmentBytes(4096)
        .withSnapshotEveryRecords(Long.MAX_VALUE).withSnapshotFollow(false));
    PipelineRegistry live = durability.registry();
    create(live, "a");
    lifecycles(live.get("a"), "a", 40);
    Thread.sleep(3 * Durability.TURN_MILLIS);
    assertThat(durability.snapshotterCopyIndex()).isEqualTo(-1);
    Map<String, String> expected = signatures(live);
    long written = live.log().durableIndex();
    durability.snapshot();
    assertThat(recover(written)).isEqualTo(expected);
    assertThat(durability.snapshotterCopyIndex()).as("freed after the snapshot").isEqualTo(-1);
  }

  @Test
  void failingSnapshots_areRetriedLessAndLessOften_andResumeOnceTheCauseIsGone()
      throws Exception {
    assertThat(java.util.stream.IntStream.rangeClosed(1, 8)
            .mapToLong(Durability::retryDelayMillis).boxed().toList())
        .containsExactly(1_000L, 2_000L, 4_000L, 8_000L, 16_000L, 32_000L, 60_000L, 60_000L);
    durability = Durability.open(Durability.Options.defaults(dir).withSegmentBytes(4096)
        .withSnapshotEveryRecords(1));
    PipelineRegistry live = durability.registry();
    create(live, "a");
    // The snapshots directory becomes a file: every snapshot fails from now on.
    Path snapshots = dir.resolve("snapshots");
    try (var files = java.nio.file.Files.walk(snapshots)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    }
    java.nio.file.Files.writeString(snapshots, "not a directory");
    lifecycles(live.get("a"), "a", 10);
    Thread.sleep(2_600);
    assertThat(durability.snapshotterFailuresInARow())
        .as("a turn every 250 ms would have failed about 10 times; retries wait 1 s, then 2 s")
        .isBetween(1, 3);

    java.nio.file.Files.delete(snapshots);
    java.nio.file.Files.createDirectories(snapshots);
    long written = live.log().durableIndex();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (durability.snapshotterFailuresInARow() > 0 || latestFloor() < written) {
      assertThat(System.nanoTime()).as("a snapshot succeeds again within 20 s").isLessThan(deadline);
      Thread.sleep(20);
    }
    assertThat(recover(latestFloor())).isEqualTo(signatures(live));
  }

  private void awaitCopyAt(long index) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (durability.snapshotterCopyIndex() != index) {
      assertThat(System.nanoTime())
          .as("the snapshotter's copy reaches record %d within 20 s (at %d)", index,
              durability.snapshotterCopyIndex())
          .isLessThan(deadline);
      Thread.sleep(10);
    }
  }

  /** Each pipeline's signature from each journal index on, recorded by the only appender. */
  private static final class History {
    private final PipelineRegistry live;
    /** pipeline -> journal index -> its signature from that record on (null: deleted). */
    private final Map<String, TreeMap<Long, String>> changes = new HashMap<>();
    private volatile long recordedUpTo;

    History(PipelineRegistry live) {
      this.live = live;
    }

    void changed(String name) {
      put(name, live.get(name).read(q -> q.signature()));
    }

    void deleted(String name) {
      put(name, null);
    }

    private synchronized void put(String name, String signature) {
      long index = live.log().lastIndex();
      changes.computeIfAbsent(name, n -> new TreeMap<>()).put(index, signature);
      recordedUpTo = index;
    }

    /** The live pipelines and their signatures right after journal record {@code index}. */
    Map<String, String> at(long index) {
      while (recordedUpTo < index) {
        Thread.onSpinWait(); // the record is durable; the appender records it right after
      }
      Map<String, String> out = new TreeMap<>();
      synchronized (this) {
        changes.forEach((name, byIndex) -> {
          var at = byIndex.floorEntry(index);
          if (at != null && at.getValue() != null) {
            out.put(name, at.getValue());
          }
        });
      }
      return out;
    }
  }

  // ---- helpers -------------------------------------------------------------------------------

  private long latestFloor() throws Exception {
    return new SnapshotStore(dir.resolve("snapshots")).latest().map(s -> s.index()).orElse(0L);
  }

  /** The pipelines the newest snapshot file restores to, by name, with their signatures. */
  private Map<String, String> recover(long expectedFloor) throws Exception {
    PipelineRegistry restored = new PipelineRegistry(new InMemoryCommandLog());
    SnapshotStore store = new SnapshotStore(dir.resolve("snapshots"));
    var file = store.latest().orElseThrow();
    assertThat(Recovery.loadSnapshot(store, file, restored.stateMachine()))
        .isEqualTo(expectedFloor);
    return signatures(restored);
  }

  private static Map<String, String> signatures(PipelineRegistry registry) {
    Map<String, String> out = new TreeMap<>();
    for (PipelineHandle h : registry.all()) {
      out.put(h.name(), h.read(q -> q.signature()));
    }
    return out;
  }

  private static void create(PipelineRegistry registry, String name) {
    PipelineSpec spec = PipelineSpec.newBuilder().setName(name)
        .setBoundary(Boundary.newBuilder().setMaxInFlight(100).setLeaseMs(3_600_000))
        .setRetry(RetryPolicy.newBuilder().setMaxAttempts(3).setInitialBackoffMs(0))
        .addStages("s0")
        .addConnectors(Connector.newBuilder().setName("src").setStage("s0")
            .setKind(ConnectorKind.CONNECTOR_KIND_SOURCE))
        .build();
    registry.create(ProtoMapper.toCore(spec), NOW).join();
  }

  /** Enqueue, start, then ack or fail each started batch; {@code n} times. */
  private void lifecycles(PipelineHandle h, String prefix, int n) {
    for (int i = 0; i < n; i++) {
      step(h, prefix + i, () -> { });
    }
  }

  private long sequence;

  /**
   * One step of life cycles, chosen by the key: enqueue it, or start up to 3 batches and ack or
   * fail each; {@code onChange} runs after each command that changed the pipeline, once durable.
   */
  private void step(PipelineHandle h, String key, Runnable onChange) {
    if (Math.floorMod(key.hashCode(), 3) != 2) {
      execute(h, Command.Enqueue.of(new dev.lightspeed.orchestrator.core.Batch(
          key, "s0", 5, 0, key, ++sequence)), onChange);
      return;
    }
    StartResult started =
        execute(h, new Command.StartAvailable(3, java.util.Set.of()), onChange);
    for (StartedBatch s : started.started()) {
      String k = s.batch().key();
      if (Math.floorMod(k.hashCode(), 4) == 0) {
        execute(h, new Command.Fail(k, s.attempt(), "flaky", false), onChange);
      } else {
        execute(h, Command.Ack.of(k, s.attempt()), onChange);
      }
    }
  }

  private static <R> R execute(PipelineHandle h, Command<R> command, Runnable onChange) {
    long before = h.read(q -> q.version());
    PipelineHandle.Executed<R> done = h.execute(command, NOW);
    done.durable().join();
    if (h.read(q -> q.version()) != before) {
      onChange.run();
    }
    return done.result();
  }
}
