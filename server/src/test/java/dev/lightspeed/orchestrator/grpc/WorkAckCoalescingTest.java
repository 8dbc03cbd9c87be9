package dev.lightspeed.orchestrator.grpc;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static dev.lightspeed.orchestrator.server.RpcErrors.assertStatus;
import static dev.lightspeed.orchestrator.server.RpcErrors.violatedFields;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.durability.Durability;
import dev.lightspeed.orchestrator.host.PipelineHandle;
import dev.lightspeed.orchestrator.server.FaultyDisk;
import dev.lightspeed.orchestrator.server.OrchestratorServer;
import dev.lightspeed.orchestrator.server.PipelineClient;
import dev.lightspeed.orchestrator.server.ServerSettings;
import dev.lightspeed.orchestrator.server.WorkClient;
import dev.lightspeed.orchestrator.journal.FaultyFiles;
import dev.lightspeed.orchestrator.v1.BatchState;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.RetryPolicy;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import dev.lightspeed.orchestrator.v1.WorkAck;
import dev.lightspeed.orchestrator.v1.WorkRequest;
import dev.lightspeed.orchestrator.v1.WorkResult;
import io.grpc.ManagedChannel;
import io.grpc.Status.Code;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Work stream applies the acks that arrive while earlier ones are being applied as one bulk ack
 * (one journal record), and still answers each with its own result, in order, with the outcome or
 * refusal it would have had alone. A durable server on loopback with a real journal; the test holds
 * the pipeline's lock (as a busy pipeline would) until the server has read every request, so what
 * is gathered does not depend on timing; each fsync is slowed, as on a loaded disk.
 */
class WorkAckCoalescingTest {
  @TempDir Path dir;

  private Durability durability;
  private OrchestratorServer server;
  private ManagedChannel channel;
  private PipelineClient orders;

  @BeforeEach
  void start() throws Exception {
    FaultyFiles files = new FaultyFiles();
    files.delayForces(20);
    durability = Durability.open(FaultyDisk.options(dir), files);
    server = new OrchestratorServer(
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).directExecutor(),
        Clock.systemUTC(), durability, ServerSettings.defaults()).start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    orders = PipelineClient.create(OrchestratorServiceGrpc.newBlockingStub(channel),
        pipeline("orders", "extract")
            // A failed batch waits a minute: it is not started again while the test runs.
            .setRetry(RetryPolicy.newBuilder().setInitialBackoffMs(60_000).setMaxAttempts(5))
            .build());
  }

  @AfterEach
  void stop() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.stop(5, TimeUnit.SECONDS);
  }

  private List<StartedBatch> startOnAStream(WorkClient c, int n) throws InterruptedException {
    for (int i = 1; i <= n; i++) {
      orders.enqueue(batch("b" + i, "extract", i));
    }
    return c.nextStarted(n);
  }

  private long journalRecords() {
    return durability.registry().log().lastIndex();
  }

  /**
   * Runs {@code send} while the pipeline's lock is held, and releases it only once the stream has
   * read {@code requests} requests: whatever the first apply took is held on the lock, the rest
   * is queued behind it.
   */
  private void sendWhileThePipelineIsBusy(int requests, Runnable send) throws Exception {
    PipelineHandle handle = durability.registry().get("orders");
    WorkStream stream = handle.<WorkDispatcher>workDispatcher(() -> null).streams().get(0);
    synchronized (handle) {
      send.run();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WorkClient.WAIT_S);
      while (stream.requestsRead() < requests) {
        assertThat(System.nanoTime() - deadline)
            .as("the server read %d requests within %d s", requests, WorkClient.WAIT_S)
            .isNegative();
        Thread.sleep(5);
      }
    }
  }

  private static List<WorkResult> results(WorkClient c, int n) throws InterruptedException {
    List<WorkResult> results = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      results.add(c.nextResult());
    }
    return results;
  }

  @Test
  void acksArrivingWhileOneIsApplied_areOneJournalRecord_eachAnsweredInOrder() throws Exception {
    int n = 20;
    WorkClient c = WorkClient.open(OrchestratorServiceGrpc.newStub(channel), "orders", n);
    List<StartedBatch> started = startOnAStream(c, n);
    long before = journalRecords();

    sendWhileThePipelineIsBusy(n + 3, () -> {
      for (int i = 0; i < n; i++) {
        c.ack(100 + i, started.get(i).getBatch().getKey(), started.get(i).getAttempt());
        if (i == 4) {
          c.ack(200, started.get(i).getBatch().getKey(), started.get(i).getAttempt() + 1);
        } else if (i == 9) {
          c.send(WorkRequest.newBuilder().setAck(WorkAck.newBuilder().setRequestId(201)
              .setKey("b1").setAttempt(-1)).build());
        } else if (i == 14) {
          c.ack(202, "nope", 0);
        }
      }
    });

    List<WorkResult> results = results(c, n + 3);
    List<Long> expectedIds = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      expectedIds.add(100L + i);
      if (i == 4) {
        expectedIds.add(200L);
      } else if (i == 9) {
        expectedIds.add(201L);
      } else if (i == 14) {
        expectedIds.add(202L);
      }
    }
    assertThat(results).extracting(WorkResult::getRequestId).containsExactlyElementsOf(expectedIds);
    for (WorkResult r : results) {
      if (r.getRequestId() == 200) {
        assertStatus(r.getError(), Code.ABORTED, "STALE_ATTEMPT");
      } else if (r.getRequestId() == 201) {
        assertStatus(r.getError(), Code.INVALID_ARGUMENT, "INVALID_REQUEST");
        assertThat(violatedFields(r.getError())).containsExactly("ack.attempt");
      } else if (r.getRequestId() == 202) {
        assertStatus(r.getError(), Code.NOT_FOUND, "BATCH_NOT_FOUND");
      } else {
        int i = (int) (r.getRequestId() - 100);
        assertThat(r.getOutcome().getProcessed().getBatchKey())
            .isEqualTo(started.get(i).getBatch().getKey());
        assertThat(r.getOutcome().getProcessed().getAttempt())
            .isEqualTo(started.get(i).getAttempt());
      }
    }
    // Applied one by one, the 20 acks were 20 records; gathered, the first apply's and the rest.
    assertThat(journalRecords() - before).isBetween(1L, 2L);
    assertThat(orders.status().getInFlightCount()).isZero();
    assertThat(c.drainStarted()).isEmpty();
    assertThat(c.ended).isNotDone();
  }

  @Test
  void failsAndExtendsBetweenAcks_keepTheirPlace_andTheirOutcomes() throws Exception {
    WorkClient c = WorkClient.open(OrchestratorServiceGrpc.newStub(channel), "orders", 6);
    List<StartedBatch> s = startOnAStream(c, 6);

    sendWhileThePipelineIsBusy(7, () -> {
      c.ack(1, s.get(0).getBatch().getKey(), s.get(0).getAttempt());
      c.ack(2, s.get(1).getBatch().getKey(), s.get(1).getAttempt());
      c.extend(3, s.get(2).getBatch().getKey(), s.get(2).getAttempt());
      c.fail(4, s.get(2).getBatch().getKey(), s.get(2).getAttempt(), "boom");
      c.ack(5, s.get(3).getBatch().getKey(), s.get(3).getAttempt());
      c.ack(6, s.get(2).getBatch().getKey(), s.get(2).getAttempt()); // failed just before
      c.ack(7, s.get(4).getBatch().getKey(), s.get(4).getAttempt());
    });

    List<WorkResult> r = results(c, 7);
    assertThat(r).extracting(WorkResult::getRequestId).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L);
    assertThat(r.get(0).getOutcome().hasProcessed()).isTrue();
    assertThat(r.get(1).getOutcome().hasProcessed()).isTrue();
    assertThat(r.get(2).getLeaseDeadlineMs()).isPositive();
    assertThat(r.get(3).getOutcome().hasRetryScheduled()).isTrue();
    assertThat(r.get(4).getOutcome().hasProcessed()).isTrue();
    assertStatus(r.get(5).getError(), Code.FAILED_PRECONDITION, "NOT_IN_FLIGHT");
    assertThat(r.get(6).getOutcome().hasProcessed()).isTrue();
    assertThat(orders.state(s.get(5).getBatch().getKey())).isEqualTo(BatchState.BATCH_STATE_IN_FLIGHT);
  }

  @Test
  void halfClose_answersEveryQueuedRequest_thenEnds() throws Exception {
    int n = 10;
    WorkClient c = WorkClient.open(OrchestratorServiceGrpc.newStub(channel), "orders", n);
    List<StartedBatch> started = startOnAStream(c, n);

    sendWhileThePipelineIsBusy(n, () -> {
      for (int i = 0; i < n; i++) {
        c.ack(i + 1, started.get(i).getBatch().getKey(), started.get(i).getAttempt());
      }
      c.halfClose();
    });

    assertThat(results(c, n)).extracting(WorkResult::getRequestId)
        .containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
    assertThat(c.endedWith()).isNull();
    assertThat(orders.status().getInFlightCount()).isZero();
  }
}
