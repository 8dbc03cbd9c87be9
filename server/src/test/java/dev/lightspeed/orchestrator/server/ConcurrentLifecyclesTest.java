package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.v1.Connector;
import dev.lightspeed.orchestrator.v1.ConnectorKind;
import dev.lightspeed.orchestrator.v1.GetStatusResponse;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.PipelineMode;
import dev.lightspeed.orchestrator.v1.PipelineSpec;
import dev.lightspeed.orchestrator.v1.ProcessResult;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Eight clients run full lifecycles on one pipeline at once, over Netty. Each client enqueues to
 * its own stage (so its sequence numbers increase per stage, as SPEC 3.1 requires), starts with
 * max_batches 1 across all stages (so it may start another client's batch, and its own may be
 * started by another), and acks whatever it started. At the end every batch is DONE exactly once.
 */
class ConcurrentLifecyclesTest {
  private static final int CLIENTS = 8;
  private static final int LIFECYCLES_PER_CLIENT = 1_000;

  @RegisterExtension final GrpcServerExtension grpc = GrpcServerExtension.netty();

  @Test
  void eightClients_runningLifecyclesAtOnce_finishEveryBatchExactlyOnce() throws Exception {
    PipelineSpec.Builder spec = PipelineSpec.newBuilder().setName("shared");
    for (int c = 0; c < CLIENTS; c++) {
      spec.addStages("s" + c)
          .addConnectors(
              Connector.newBuilder()
                  .setName("in-" + c)
                  .setKind(ConnectorKind.CONNECTOR_KIND_SOURCE)
                  .setStage("s" + c));
    }
    PipelineClient admin = PipelineClient.create(grpc.blocking(), spec.build());
    var stub = OrchestratorServiceGrpc.newBlockingStub(grpc.newChannel());
    Map<String, AtomicInteger> processed = new ConcurrentHashMap<>();
    AtomicInteger startedElsewhere = new AtomicInteger();
    CountDownLatch go = new CountDownLatch(1);
    ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
    List<Future<Integer>> done = new ArrayList<>();
    try {
      for (int c = 0; c < CLIENTS; c++) {
        String stage = "s" + c;
        String prefix = "c" + c + "-";
        done.add(
            clients.submit(
                () -> {
                  PipelineClient p = new PipelineClient(stub, "shared");
                  go.await();
                  int acked = 0;
                  for (int i = 1; i <= LIFECYCLES_PER_CLIENT; i++) {
                    String key = prefix + i;
                    assertThat(p.enqueue(batch(key, stage, i))).isFalse();
                    for (StartedBatch s : p.start(1)) {
                      String started = s.getBatch().getKey();
                      if (!started.startsWith(prefix)) {
                        startedElsewhere.incrementAndGet();
                      }
                      ProcessResult result = p.ackProcessed(started, s.getAttempt());
                      assertThat(result.getBatchKey()).isEqualTo(started);
                      processed
                          .computeIfAbsent(started, k -> new AtomicInteger())
                          .incrementAndGet();
                      acked++;
                    }
                  }
                  return acked;
                }));
      }
      go.countDown();
      int acked = 0;
      for (Future<Integer> f : done) {
        acked += f.get(120, TimeUnit.SECONDS);
      }

      int total = CLIENTS * LIFECYCLES_PER_CLIENT;
      assertThat(acked).isEqualTo(total);
      assertThat(processed).hasSize(total);
      assertThat(processed.entrySet())
          .filteredOn(e -> e.getValue().get() != 1)
          .as("batches processed other than exactly once")
          .isEmpty();
      for (int c = 0; c < CLIENTS; c++) {
        for (int i = 1; i <= LIFECYCLES_PER_CLIENT; i++) {
          assertThat(processed).containsKey("c" + c + "-" + i);
        }
      }
      assertThat(admin.batches()).isEmpty();
      GetStatusResponse status = admin.status();
      assertThat(status.getValid()).as(status.getInvalidReason()).isTrue();
      assertThat(status.getInFlightCount()).isZero();
      assertThat(status.getQueuedCount()).isZero();
      assertThat(status.getDeadLetterCount()).isZero();
      assertThat(status.getMode()).isEqualTo(PipelineMode.PIPELINE_MODE_RUNNING);
      System.out.printf(
          "%d lifecycles by %d clients; %d batches were started by another client%n",
          total, CLIENTS, startedElsewhere.get());
    } finally {
      clients.shutdownNow();
      assertThat(clients.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }
  }
}
