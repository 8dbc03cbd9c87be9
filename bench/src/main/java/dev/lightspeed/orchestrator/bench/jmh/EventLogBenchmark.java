package dev.lightspeed.orchestrator.bench.jmh;

import dev.lightspeed.orchestrator.core.Batch;
import dev.lightspeed.orchestrator.core.Boundary;
import dev.lightspeed.orchestrator.core.Connector;
import dev.lightspeed.orchestrator.core.ConnectorKind;
import dev.lightspeed.orchestrator.core.Event;
import dev.lightspeed.orchestrator.core.PipelineRuntime;
import dev.lightspeed.orchestrator.core.PipelineSpec;
import dev.lightspeed.orchestrator.core.ProcessOutcome;
import java.util.List;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of the event log (SPEC 3.10) on the core's life cycle (enqueue, start, ack: three
 * events), against {@link CoreLifecycleBenchmark}'s numbers. The core always appends events;
 * {@code eventRetention} 1 keeps almost none (the closest to "events off": each event is still
 * allocated, then dropped), 100000 is the default (the log is full in steady state, so every
 * append also drops the oldest, and retained events are old objects for the GC).
 *
 * <ul>
 *   <li>{@code lifecycle}: the life cycle alone.
 *   <li>{@code lifecycleWithConsumer}: plus a WatchEvents consumer in the core's terms: after
 *       each life cycle it reads the events after the last id it saw (what a stream's publish
 *       hands over).
 * </ul>
 *
 * <p>Target (issue 18): at most 15% below the core's lifecycles/s without retention.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+UseG1GC", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class EventLogBenchmark {
  private static final int KEY_RING = 1 << 19;

  @Param({"1", "100000"})
  public int eventRetention;

  private PipelineRuntime runtime;
  private String[] keys;
  private long now;
  private long lastSeen;
  private final Set<String> everyStage = Set.of();

  @Setup(Level.Trial)
  public void setUp() {
    runtime = PipelineRuntime.create(
        PipelineSpec.builder("bench")
            .stages("work")
            .connectors(Connector.of("work-src", ConnectorKind.SOURCE, "work"))
            .boundary(Boundary.DEFAULT.withMaxInFlight(1_000))
            .dedupWindowMs(1_000)
            .build());
    runtime.setEventRetention(eventRetention);
    keys = new String[KEY_RING];
    for (int i = 0; i < KEY_RING; i++) {
      keys[i] = "batch-" + i;
    }
  }

  @Benchmark
  public ProcessOutcome.Processed lifecycle() {
    String key = keys[(int) (now & (KEY_RING - 1))];
    long t = ++now;
    runtime.enqueueBatch(new Batch(key, "work", 10, 0, key, 0), t);
    runtime.startAvailable(t, 1, everyStage);
    return runtime.ackBatch(key, 1, t);
  }

  @Benchmark
  public int lifecycleWithConsumer() {
    lifecycle();
    List<Event> fresh = runtime.queries().eventsAfter(lastSeen);
    if (!fresh.isEmpty()) {
      lastSeen = fresh.get(fresh.size() - 1).eventId();
    }
    return fresh.size();
  }
}
