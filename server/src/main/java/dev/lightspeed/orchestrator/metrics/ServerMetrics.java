package dev.lightspeed.orchestrator.metrics;

import dev.lightspeed.orchestrator.core.PipelineMode;
import dev.lightspeed.orchestrator.core.PipelineQueries;
import dev.lightspeed.orchestrator.core.ProcessOutcome;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.core.StartResult;
import dev.lightspeed.orchestrator.host.PipelineHandle;
import dev.lightspeed.orchestrator.host.PipelineRegistry;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The server's Prometheus metrics (Prometheus Java client 1.x), served as text on {@code
 * /metrics} of a separate HTTP port. The core has no metrics code:
 *
 * <ul>
 *   <li>per-pipeline gauges (queued, retry-waiting, in flight, dead letters, the age of the
 *       longest-waiting ready batch, mode, watchers) and the per-stage acked counters are read at
 *       scrape time from {@link PipelineQueries}, one short hold of each pipeline's lock per
 *       scrape;
 *   <li>call counters, rejections by reason and latency histograms come from {@link
 *       MetricsInterceptor}, which sees every call's request, responses and status;
 *   <li>starts and lease expiries, which no response shows in full, are reported by the service
 *       through {@link #started}.
 * </ul>
 *
 * Labels never take a value from a refused request (its pipeline name could be anything): the
 * {@code pipeline} label only names pipelines that accepted a call, and a pipeline's series are
 * removed when it is deleted.
 */
public final class ServerMetrics {
  /** Latency buckets, seconds: 100 µs .. 10 s. */
  private static final double[] LATENCY_BUCKETS = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
  };

  public final PrometheusRegistry registry = new PrometheusRegistry();
  final Counter enqueued = perPipeline("lightspeed_batches_enqueued",
      "Batches accepted by EnqueueBatch(es) (not counting deduplicated repeats).");
  final Counter deduplicated = perPipeline("lightspeed_batches_deduplicated",
      "Enqueues answered deduplicated=true (a repeated idempotency key; nothing changed).");
  final Counter started = perPipeline("lightspeed_batches_started",
      "Batches started by StartAvailable (first attempts and retries).");
  final Counter failed = perPipeline("lightspeed_batches_failed",
      "Failures reported by FailBatch and accepted (retried or dead-lettered).");
  final Counter leaseExpired = perPipeline("lightspeed_leases_expired",
      "In-flight batches failed because their lease expired.");
  final Counter retried = perPipeline("lightspeed_batches_retried",
      "Retries scheduled, after a reported failure or a lease expiry.");
  final Counter deadLettered = perPipeline("lightspeed_batches_dead_lettered",
      "Batches dead-lettered, after a reported failure or a lease expiry.");
  final Counter staleFailures = perPipeline("lightspeed_fail_reports_rejected",
      "FailBatch reports answered failure_rejected (stale attempt, or batch not in flight).");
  public final Counter rejections = Counter.builder()
      .name("lightspeed_rejections")
      .help("Refused calls and refused items of bulk calls, by RPC, status code and ErrorInfo"
          + " reason.")
      .labelNames("method", "code", "reason")
      .withoutExemplars()
      .register(registry);
  final Histogram latency = Histogram.builder()
      .name("lightspeed_rpc_duration_seconds")
      .help("OrchestratorService call duration, from its headers to its status, by RPC and status"
          + " code (for the streaming RPCs: the stream's lifetime).")
      .unit(Unit.SECONDS)
      .labelNames("method", "code")
      .classicOnly()
      .classicUpperBounds(LATENCY_BUCKETS)
      .withoutExemplars()
      .register(registry);

  private final List<Counter> pipelineCounters =
      List.of(enqueued, deduplicated, started, failed, leaseExpired, retried, deadLettered,
          staleFailures);
  private HTTPServer http;
  private ExecutorService httpExecutor;

  public ServerMetrics(PipelineRegistry pipelines, Clock clock) {
    this(pipelines::all, clock);
  }

  /**
   * Per-pipeline gauges of the pipelines {@code pipelines} lists at each scrape: a single server's
   * registry, or a cluster node's replicas (the groups it is a member of, as it has applied them).
   */
  public ServerMetrics(
      java.util.function.Supplier<? extends Iterable<PipelineHandle>> pipelines, Clock clock) {
    registry.register(new PipelineCollector(pipelines, clock));
    JvmMetrics.builder().register(registry);
  }

  private Counter perPipeline(String name, String help) {
    return Counter.builder().name(name).help(help).labelNames("pipeline").withoutExemplars()
        .register(registry);
  }

  /** What one StartAvailable did: its starts and the lease expiries it handled first. */
  public void started(String pipeline, StartResult result) {
    if (!result.started().isEmpty()) {
      started.labelValues(pipeline).inc(result.started().size());
    }
    if (!result.expired().isEmpty()) {
      leaseExpired.labelValues(pipeline).inc(result.expired().size());
      for (ProcessOutcome o : result.expired()) {
        if (o instanceof ProcessOutcome.RetryScheduled) {
          retried.labelValues(pipeline).inc();
        } else if (o instanceof ProcessOutcome.DeadLettered) {
          deadLettered.labelValues(pipeline).inc();
        }
      }
    }
  }

  /** Drops the series of a deleted pipeline. */
  void forget(String pipeline) {
    for (Counter c : pipelineCounters) {
      c.remove(pipeline);
    }
  }

  /** Serves {@code /metrics} on {@code bind:port} (port 0 = a free one); returns the port. */
  public int serve(String bind, int port) throws IOException {
    httpExecutor = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "metrics-http");
      t.setDaemon(true);
      return t;
    });
    http = HTTPServer.builder()
        .hostname(bind)
        .port(port)
        .registry(registry)
        .executorService(httpExecutor)
        .buildAndStart();
    return http.getPort();
  }

  public void close() {
    if (http != null) {
      http.close();
      httpExecutor.shutdownNow();
      http = null;
    }
  }

  /** Reads every pipeline once per scrape. */
  private static final class PipelineCollector implements MultiCollector {
    private final java.util.function.Supplier<? extends Iterable<PipelineHandle>> pipelines;
    private final Clock clock;

    PipelineCollector(
        java.util.function.Supplier<? extends Iterable<PipelineHandle>> pipelines, Clock clock) {
      this.pipelines = pipelines;
      this.clock = clock;
    }

    private record Reading(
        String name, long queued, long retryWaiting, long inFlight, long deadLetters,
        long oldestReadyAtMs, PipelineMode mode, List<PipelineQueries.StageCounters> stages,
        int watchers) {}

    @Override
    public MetricSnapshots collect() {
      long now = clock.millis();
      List<Reading> readings = new ArrayList<>();
      for (PipelineHandle h : pipelines.get()) {
        try {
          int watchers = h.watcherCount();
          readings.add(h.read(q -> new Reading(
              h.name(), q.queuedCount() - q.retryWaitCount(), q.retryWaitCount(),
              q.inFlightCount(), q.deadLetterCount(), q.oldestReadyAtMs(now), q.mode(),
              q.stageCounters(), watchers)));
        } catch (Rejection deletedMeanwhile) {
          // not part of this scrape
        }
      }
      GaugeSnapshot.Builder queued = gauge("lightspeed_pipeline_queued_batches",
          "Batches QUEUED (waiting for their first start or redriven), per pipeline.");
      GaugeSnapshot.Builder retryWaiting = gauge("lightspeed_pipeline_retry_waiting_batches",
          "Batches in RETRY_WAIT, per pipeline.");
      GaugeSnapshot.Builder inFlight = gauge("lightspeed_pipeline_in_flight_batches",
          "Batches IN_FLIGHT, per pipeline.");
      GaugeSnapshot.Builder deadLetters = gauge("lightspeed_pipeline_dead_letter_batches",
          "Batches DEAD_LETTERED, per pipeline.");
      GaugeSnapshot.Builder oldest = gauge("lightspeed_pipeline_oldest_ready_batch_age_seconds",
          "How long the longest-waiting batch that may start has been ready (QUEUED, or"
              + " RETRY_WAIT and due; in an ordered stage the batch next in line); 0 when none.")
          .unit(Unit.SECONDS);
      GaugeSnapshot.Builder mode = gauge("lightspeed_pipeline_mode",
          "1 for the pipeline's current mode (running, paused, draining, drained), 0 for the"
              + " others.");
      GaugeSnapshot.Builder watchers = gauge("lightspeed_pipeline_watchers",
          "Open WatchStarted streams, per pipeline.");
      CounterSnapshot.Builder ackedBatches = CounterSnapshot.builder()
          .name("lightspeed_stage_acked_batches")
          .help("Batches acked, per pipeline and stage (kept in the pipeline's state: survives"
              + " restarts, starts over when the pipeline is re-created).");
      CounterSnapshot.Builder ackedRecords = CounterSnapshot.builder()
          .name("lightspeed_stage_acked_records")
          .help("Records of the acked batches, per pipeline and stage.");
      for (Reading r : readings) {
        Labels p = Labels.of("pipeline", r.name);
        queued.dataPoint(point(p, r.queued));
        retryWaiting.dataPoint(point(p, r.retryWaiting));
        inFlight.dataPoint(point(p, r.inFlight));
        deadLetters.dataPoint(point(p, r.deadLetters));
        oldest.dataPoint(point(p,
            r.oldestReadyAtMs < 0 ? 0 : Math.max(0, now - r.oldestReadyAtMs) / 1000.0));
        watchers.dataPoint(point(p, r.watchers));
        for (PipelineMode m : PipelineMode.values()) {
          mode.dataPoint(point(
              Labels.of("mode", m.name().toLowerCase(java.util.Locale.ROOT), "pipeline", r.name),
              m == r.mode ? 1 : 0));
        }
        for (PipelineQueries.StageCounters s : r.stages) {
          Labels ps = Labels.of("pipeline", r.name, "stage", s.stage());
          ackedBatches.dataPoint(
              CounterDataPointSnapshot.builder().labels(ps).value(s.batchesProcessed()).build());
          ackedRecords.dataPoint(
              CounterDataPointSnapshot.builder().labels(ps).value(s.recordsProcessed()).build());
        }
      }
      GaugeSnapshot count = gauge("lightspeed_pipelines",
          "Pipelines hosted by this server (a cluster node: by its replicas).")
          .dataPoint(point(Labels.EMPTY, readings.size()))
          .build();
      return MetricSnapshots.builder()
          .metricSnapshot(count)
          .metricSnapshot(queued.build())
          .metricSnapshot(retryWaiting.build())
          .metricSnapshot(inFlight.build())
          .metricSnapshot(deadLetters.build())
          .metricSnapshot(oldest.build())
          .metricSnapshot(mode.build())
          .metricSnapshot(watchers.build())
          .metricSnapshot(ackedBatches.build())
          .metricSnapshot(ackedRecords.build())
          .build();
    }

    private static GaugeSnapshot.Builder gauge(String name, String help) {
      return GaugeSnapshot.builder().name(name).help(help);
    }

    private static GaugeDataPointSnapshot point(Labels labels, double value) {
      return GaugeDataPointSnapshot.builder().labels(labels).value(value).build();
    }
  }
}
