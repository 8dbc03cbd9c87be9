package dev.lightspeed.orchestrator.bench.jmh;

import dev.lightspeed.orchestrator.core.Batch;
import dev.lightspeed.orchestrator.core.Boundary;
import dev.lightspeed.orchestrator.core.Connector;
import dev.lightspeed.orchestrator.core.ConnectorKind;
import dev.lightspeed.orchestrator.core.OperatorAction;
import dev.lightspeed.orchestrator.core.PipelineRuntime;
import dev.lightspeed.orchestrator.core.PipelineSpec;
import dev.lightspeed.orchestrator.core.ProcessOutcome;
import dev.lightspeed.orchestrator.core.RetryPolicy;
import dev.lightspeed.orchestrator.core.StartResult;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The deterministic core ({@link PipelineRuntime}) on one thread, no gRPC, no journal: one
 * benchmark operation is one whole batch life cycle.
 *
 * <ul>
 *   <li>{@code lifecycle}: enqueue_batch, start_available (max 1), ack_batch.
 *   <li>{@code failRetryDeadLetter}: enqueue_batch, start, fail (retry scheduled, backoff 0),
 *       start again, fail (attempts exhausted: dead-lettered), DISCARD_DEAD_LETTER (so the live
 *       set keeps its size).
 * </ul>
 *
 * <p>{@code backlog} live batches are QUEUED before the measurement in a stage that is paused
 * (PAUSE_STAGE), so they are live — in the live set, the enqueue order, the stage's waiting set,
 * the idempotency map — but never started; every start_available still walks past their stage.
 * If per-op cost grows with the live set, 1,000,000 is slower than 10,000.
 *
 * <p>The clock moves 1 ms per life cycle, so with the default dedup window (300,000 ms) about
 * 300,000 acked batches and their idempotency keys are remembered at any time (the steady state
 * of a busy server), and forgetting them is part of the measured cost; {@code dedupWindowMs=1000}
 * shows the same code with short-lived remembered entries. Keys come from a ring of
 * 2^19 pre-built strings (longer than the window), so no key strings are built in the loop; the
 * {@link Batch} record is allocated per life cycle, as the server does.
 *
 * <p>The fork pre-touches its 4 GB heap: without that, the first pass of allocation through a
 * young generation that has grown to 2.4 GB page-faults on every new 4 KB page, and one or two
 * iterations ran at half speed in the kernel (seen with {@code -Xlog:gc} at 1M live batches).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms4g", "-Xmx4g", "-XX:+UseG1GC", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class CoreLifecycleBenchmark {
  private static final int KEY_RING = 1 << 19;
  private static final String WORK = "work";
  private static final String BACKLOG = "backlog";

  @Param({"10000", "1000000"})
  public int backlog;

  /**
   * The clock moves 1 ms per life cycle, so this many acked batches (and their idempotency keys)
   * are remembered at any time: 300000 is the SPEC default (medium-lived objects that every young
   * GC copies), 1000 keeps them short-lived.
   */
  @Param({"300000", "1000"})
  public long dedupWindowMs;

  private PipelineRuntime runtime;
  private String[] keys;
  private String[] idempotencyKeys;
  private long now;
  private long sequence;
  private final Set<String> everyStage = Set.of();

  @Setup(Level.Trial)
  public void setUp() {
    PipelineSpec spec =
        PipelineSpec.builder("bench")
            .stages(BACKLOG, WORK)
            .connectors(
                Connector.of("backlog-src", ConnectorKind.SOURCE, BACKLOG),
                Connector.of("work-src", ConnectorKind.SOURCE, WORK))
            .boundary(Boundary.DEFAULT.withMaxInFlight(1_000).withMaxQueued(backlog + 1_000L))
            .retry(RetryPolicy.DEFAULT.withMaxAttempts(2).withInitialBackoffMs(0))
            .dedupWindowMs(dedupWindowMs)
            .build();
    runtime = PipelineRuntime.create(spec);
    runtime.applyAction(new OperatorAction.PauseStage(BACKLOG), 0);
    for (int i = 0; i < backlog; i++) {
      String key = "backlog-" + i;
      runtime.enqueueBatch(new Batch(key, BACKLOG, 10, 0, key, i), 0);
    }
    keys = new String[KEY_RING];
    idempotencyKeys = new String[KEY_RING];
    for (int i = 0; i < KEY_RING; i++) {
      keys[i] = "batch-" + i;
      idempotencyKeys[i] = "idem-" + i;
    }
    now = 1;
    sequence = 0;
  }

  @TearDown(Level.Trial)
  public void check() {
    var q = runtime.queries();
    if (q.liveCount() != backlog || q.inFlightCount() != 0 || q.deadLetterCount() != 0) {
      throw new IllegalStateException("backlog not intact: live " + q.liveCount() + ", in flight "
          + q.inFlightCount() + ", dead letters " + q.deadLetterCount());
    }
    if (!q.valid()) {
      throw new IllegalStateException("invariant broken: " + q.brokenInvariant());
    }
  }

  /** enqueue, start, ack. */
  @Benchmark
  public ProcessOutcome.Processed lifecycle() {
    int k = (int) (sequence & (KEY_RING - 1));
    long t = ++now;
    String key = keys[k];
    runtime.enqueueBatch(new Batch(key, WORK, 10, 0, idempotencyKeys[k], ++sequence), t);
    started(runtime.startAvailable(t, 1, everyStage));
    return runtime.ackBatch(key, 1, t);
  }

  /** enqueue, start, fail (retry), start, fail (dead letter), discard the dead letter. */
  @Benchmark
  public String failRetryDeadLetter() {
    int k = (int) (sequence & (KEY_RING - 1));
    long t = ++now;
    String key = keys[k];
    runtime.enqueueBatch(new Batch(key, WORK, 10, 0, idempotencyKeys[k], ++sequence), t);
    started(runtime.startAvailable(t, 1, everyStage));
    if (!(runtime.failBatch(key, 1, "sink timeout", false, t)
        instanceof ProcessOutcome.RetryScheduled)) {
      throw new IllegalStateException("expected a retry");
    }
    started(runtime.startAvailable(t, 1, everyStage));
    if (!(runtime.failBatch(key, 2, "sink timeout", false, t)
        instanceof ProcessOutcome.DeadLettered)) {
      throw new IllegalStateException("expected a dead letter");
    }
    return runtime.applyAction(new OperatorAction.DiscardDeadLetter(key), t);
  }

  private static void started(StartResult result) {
    if (result.started().size() != 1) {
      throw new IllegalStateException("expected one started batch, got " + result.started());
    }
  }
}
