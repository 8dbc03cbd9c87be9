package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.lightspeed.orchestrator.v1.AckBatchesRequest;
import dev.lightspeed.orchestrator.v1.AckItem;
import dev.lightspeed.orchestrator.v1.Boundary;
import dev.lightspeed.orchestrator.v1.DeletePipelineRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesRequest;
import dev.lightspeed.orchestrator.v1.GetStatusRequest;
import dev.lightspeed.orchestrator.v1.RetryPolicy;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The /metrics endpoint: pipeline gauges, call counters, rejections by reason, latencies, JVM. */
class MetricsTest {
  @RegisterExtension
  final GrpcServerExtension grpc =
      GrpcServerExtension.netty().settings(s -> s.withMetrics("127.0.0.1", 0));

  private MetricsScrape scrape() throws Exception {
    return MetricsScrape.of(grpc.server().metricsPort());
  }

  @Test
  void metricsPort_isOff_byDefault() throws Exception {
    var server = new OrchestratorServer(
        io.grpc.inprocess.InProcessServerBuilder.forName("metrics-off").directExecutor(),
        java.time.Clock.systemUTC(), 16);
    assertThat(server.metricsPort()).isEqualTo(-1);
    assertThat(server.metrics()).isNull();
  }

  @Test
  void pipelineGauges_andCallCounters_followTheCalls() throws Exception {
    PipelineClient p = PipelineClient.create(grpc.blocking(), pipeline("orders", "s", "t")
        .setBoundary(Boundary.newBuilder().setLeaseMs(1_000))
        .setRetry(RetryPolicy.newBuilder().setMaxAttempts(2).setInitialBackoffMs(60_000))
        .build());
    p.enqueue(batch("a", "s", 1));
    p.enqueue(batch("b", "s", 2));
    p.enqueue(batch("c", "t", 1));
    assertThat(p.enqueue(batch("c", "t", 1))).as("deduplicated").isTrue();
    catchThrowable(() -> p.enqueue(batch("old", "s", 1))); // SEQUENCE_REGRESSION
    catchThrowable(() -> p.enqueue(batch("old2", "s", 1))); // SEQUENCE_REGRESSION
    grpc.blocking().enqueueBatches(EnqueueBatchesRequest.newBuilder().setPipeline("orders")
        .addBatches(batch("d", "t", 2)).addBatches(batch("e", "nostage", 1)).build());

    List<StartedBatch> started = p.start(3, "s", "t"); // a, b, c
    assertThat(started).hasSize(3);
    p.ackProcessed("a", 1);
    p.fail("b", 1, "boom", false); // retry in 60 s
    grpc.blocking().ackBatches(AckBatchesRequest.newBuilder().setPipeline("orders")
        .addAcks(AckItem.newBuilder().setKey("nope")).build());
    grpc.clock().advance(5_000); // c's lease (1 s) has expired; d has waited 5 s

    MetricsScrape m = scrape();
    assertThat(m.value("lightspeed_pipelines")).isEqualTo(1);
    assertThat(m.value("lightspeed_pipeline_queued_batches", "pipeline", "orders")).isEqualTo(1);
    assertThat(m.value("lightspeed_pipeline_in_flight_batches", "pipeline", "orders")).isEqualTo(1);
    assertThat(m.value("lightspeed_pipeline_retry_waiting_batches", "pipeline", "orders"))
        .isEqualTo(1);
    assertThat(m.value("lightspeed_pipeline_oldest_ready_batch_age_seconds", "pipeline", "orders"))
        .isEqualTo(5.0);
    assertThat(m.value("lightspeed_pipeline_mode", "pipeline", "orders", "mode", "running"))
        .isEqualTo(1);
    assertThat(m.value("lightspeed_pipeline_mode", "pipeline", "orders", "mode", "paused"))
        .isEqualTo(0);
    assertThat(m.value("lightspeed_batches_enqueued_total", "pipeline", "orders")).isEqualTo(4);
    assertThat(m.value("lightspeed_batches_deduplicated_total", "pipeline", "orders"))
        .isEqualTo(1);
    assertThat(m.value("lightspeed_batches_started_total", "pipeline", "orders")).isEqualTo(3);
    assertThat(m.value("lightspeed_batches_failed_total", "pipeline", "orders")).isEqualTo(1);
    assertThat(m.value("lightspeed_batches_retried_total", "pipeline", "orders")).isEqualTo(1);
    assertThat(m.value("lightspeed_stage_acked_batches_total", "pipeline", "orders", "stage", "s"))
        .isEqualTo(1);
    assertThat(m.value("lightspeed_stage_acked_records_total", "pipeline", "orders", "stage", "s"))
        .isEqualTo(10);
    assertThat(m.value("lightspeed_rejections_total", "method", "EnqueueBatch",
        "code", "FAILED_PRECONDITION", "reason", "SEQUENCE_REGRESSION")).isEqualTo(2);
    assertThat(m.value("lightspeed_rejections_total", "method", "EnqueueBatches",
        "reason", "UNKNOWN_STAGE")).as("a refused item").isEqualTo(1);
    assertThat(m.value("lightspeed_rejections_total", "method", "AckBatches",
        "code", "NOT_FOUND", "reason", "BATCH_NOT_FOUND")).isEqualTo(1);
    assertThat(m.value("lightspeed_rpc_duration_seconds_count", "method", "EnqueueBatch",
        "code", "OK")).isEqualTo(4);
    assertThat(m.value("lightspeed_rpc_duration_seconds_count", "method", "EnqueueBatch",
        "code", "FAILED_PRECONDITION")).isEqualTo(2);
    assertThat(m.sum("lightspeed_rpc_duration_seconds_bucket", "method", "EnqueueBatch",
        "le", "+Inf")).isEqualTo(6);

    p.start(0, "s", "t"); // expires c's lease: a retry (attempt 1 of 2), and d starts
    m = scrape();
    assertThat(m.value("lightspeed_leases_expired_total", "pipeline", "orders")).isEqualTo(1);
    assertThat(m.value("lightspeed_batches_retried_total", "pipeline", "orders")).isEqualTo(2);
    assertThat(m.value("lightspeed_batches_started_total", "pipeline", "orders")).isEqualTo(4);
  }

  @Test
  void jvmMetrics_areServed() throws Exception {
    MetricsScrape m = scrape();
    assertThat(m.value("jvm_threads_current")).isPositive();
    assertThat(m.value("jvm_memory_used_bytes", "area", "heap")).isPositive();
  }

  @Test
  void refusedCalls_neverPutTheirPipelineNameInALabel_andDeletedPipelinesLeave()
      throws Exception {
    PipelineClient p = PipelineClient.create(grpc.blocking(), pipeline("gone", "s").build());
    p.enqueue(batch("a", "s", 1));
    for (int i = 0; i < 5; i++) {
      int n = i;
      catchThrowable(() -> grpc.blocking().getStatus(
          GetStatusRequest.newBuilder().setPipeline("random-name-" + n).build()));
    }
    MetricsScrape before = scrape();
    assertThat(before.text).doesNotContain("random-name-");
    assertThat(before.value("lightspeed_rejections_total", "method", "GetStatus",
        "reason", "PIPELINE_NOT_FOUND")).isEqualTo(5);
    assertThat(before.value("lightspeed_batches_enqueued_total", "pipeline", "gone")).isEqualTo(1);

    grpc.blocking().deletePipeline(
        DeletePipelineRequest.newBuilder().setName("gone").setForce(true).build());

    MetricsScrape after = scrape();
    assertThat(after.text).doesNotContain("pipeline=\"gone\"");
    assertThat(after.value("lightspeed_pipelines")).isEqualTo(0);
  }
}
