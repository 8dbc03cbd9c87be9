package dev.lightspeed.orchestrator.grpc;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The streams this node relays to a member of their pipeline's group ({@link StreamRelay}), on
 * {@code /metrics} (docs/operations.md, "Cluster metrics"): a relayed stream is one call on this
 * node and one on the member, so without these an operator sees the member's calls and this
 * node's but not that one carries the other. Label {@code method}: WatchStarted, WatchEvents or
 * Work.
 */
final class RelayMetrics implements MultiCollector {
  /** Per method: opened (reached a member), active now, lost (member gone), unplaced (none). */
  private static final class Counts {
    final AtomicLong opened = new AtomicLong();
    final AtomicLong active = new AtomicLong();
    final AtomicLong lost = new AtomicLong();
    final AtomicLong unplaced = new AtomicLong();
  }

  private final Map<String, Counts> byMethod = new ConcurrentHashMap<>();

  /** Every relayable method, so that its series exist (at 0) before the first stream. */
  RelayMetrics(List<String> methods) {
    methods.forEach(m -> byMethod.put(m, new Counts()));
  }

  private Counts of(String method) {
    return byMethod.computeIfAbsent(method, m -> new Counts());
  }

  /** The stream reached a member: it is relayed from now on. */
  void opened(String method) {
    Counts c = of(method);
    c.opened.incrementAndGet();
    c.active.incrementAndGet();
  }

  /** A stream that {@link #opened} ended, however; {@code lost}: its member went away. */
  void ended(String method, boolean lost) {
    Counts c = of(method);
    c.active.decrementAndGet();
    if (lost) {
      c.lost.incrementAndGet();
    }
  }

  /** No member of the group could be reached: the caller got UNAVAILABLE at once. */
  void unplaced(String method) {
    of(method).unplaced.incrementAndGet();
  }

  @Override
  public MetricSnapshots collect() {
    return MetricSnapshots.of(
        counter("lightspeed_relay_streams_opened", "Streams this node relayed to a member of"
            + " their pipeline's group (it holds no replica of it), since it started.",
            c -> c.opened),
        gauge("lightspeed_relay_streams_active", "Streams this node relays to a member now.",
            c -> c.active),
        counter("lightspeed_relay_streams_lost", "Relayed streams that ended UNAVAILABLE because"
            + " their member went away: its connection ended, or it ended them UNAVAILABLE itself"
            + " (a member stopping); the caller reopens them.", c -> c.lost),
        counter("lightspeed_relay_streams_unplaced", "Streams to relay that no member of the"
            + " group could take (refused UNAVAILABLE at once).", c -> c.unplaced));
  }

  private CounterSnapshot counter(String name, String help, Function<Counts, AtomicLong> value) {
    CounterSnapshot.Builder b = CounterSnapshot.builder().name(name).help(help);
    byMethod.forEach((method, c) -> b.dataPoint(CounterDataPointSnapshot.builder()
        .labels(Labels.of("method", method)).value(value.apply(c).get()).build()));
    return b.build();
  }

  private GaugeSnapshot gauge(String name, String help, Function<Counts, AtomicLong> value) {
    GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(name).help(help);
    byMethod.forEach((method, c) -> b.dataPoint(GaugeDataPointSnapshot.builder()
        .labels(Labels.of("method", method)).value(value.apply(c).get()).build()));
    return b.build();
  }
}
