package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static dev.lightspeed.orchestrator.server.RpcErrors.assertStatus;
import static dev.lightspeed.orchestrator.server.RpcErrors.violatedFields;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.grpc.WorkStreams;
import dev.lightspeed.orchestrator.v1.BatchState;
import dev.lightspeed.orchestrator.v1.ProcessOutcome;
import dev.lightspeed.orchestrator.v1.RetryPolicy;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import dev.lightspeed.orchestrator.v1.WorkAck;
import dev.lightspeed.orchestrator.v1.WorkRequest;
import dev.lightspeed.orchestrator.v1.WorkResult;
import io.grpc.Status.Code;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The Work stream's protocol (SPEC 4.2): open, pushed starts, slots, requests and results. */
class WorkStreamTest {
  @RegisterExtension final GrpcServerExtension grpc = GrpcServerExtension.inProcess();

  private PipelineClient orders;

  @BeforeEach
  void setUp() {
    orders = PipelineClient.create(grpc.blocking(), pipeline("orders", "extract", "load", WatchRecorder.PROBE_STAGE)
        .setRetry(RetryPolicy.newBuilder().setInitialBackoffMs(5_000).setMaxAttempts(5))
        .build());
  }

  private WorkClient open(int capacity, String... stages) {
    return WorkClient.open(grpc.async(), "orders", capacity, stages);
  }

  private static List<String> keys(List<StartedBatch> started) {
    return started.stream().map(s -> s.getBatch().getKey()).toList();
  }

  private static com.google.rpc.Status endStatus(WorkClient c, Code code, String reason)
      throws Exception {
    Throwable t = c.endedWith();
    assertThat(t).isInstanceOf(StatusRuntimeException.class);
    assertThat(Status.fromThrowable(t).getCode()).isEqualTo(code);
    return assertStatus(StatusProto.fromThrowable(t), code, reason);
  }

  // ---- open ----------------------------------------------------------------------------------

  @Test
  void aFirstRequestOtherThanOpen_endsTheStreamInvalidRequest() throws Exception {
    orders.enqueue(batch("b1", "extract", 1));
    WorkClient c = new WorkClient(grpc.async());
    c.ack(1, "b1", 0);

    var status = endStatus(c, Code.INVALID_ARGUMENT, "INVALID_REQUEST");
    assertThat(status.getMessage()).contains("open");
    assertThat(orders.state("b1")).isEqualTo(BatchState.BATCH_STATE_QUEUED);
  }

  @Test
  void openOfAnUnknownPipeline_isNotFound() throws Exception {
    endStatus(WorkClient.open(grpc.async(), "nope", 1), Code.NOT_FOUND, "PIPELINE_NOT_FOUND");
  }

  @Test
  void capacityOutsideOneToTheServerMaximum_isInvalidRequest() throws Exception {
    for (int capacity : new int[] {0, -1, WorkStreams.MAX_CAPACITY + 1}) {
      var status = endStatus(open(capacity), Code.INVALID_ARGUMENT, "INVALID_REQUEST");
      assertThat(violatedFields(status)).containsExactly("open.capacity");
    }
  }

  @Test
  void anUnknownStage_isUnknownStage() throws Exception {
    var status = endStatus(open(1, "extract", "nope"), Code.FAILED_PRECONDITION, "UNKNOWN_STAGE");
    assertThat(status.getMessage()).contains("nope");
  }

  @Test
  void aSecondOpen_endsTheStream() throws Exception {
    WorkClient c = open(1);
    c.send(WorkRequest.newBuilder().setOpen(
        dev.lightspeed.orchestrator.v1.WorkOpen.newBuilder().setPipeline("orders")
            .setCapacity(1)).build());
    endStatus(c, Code.INVALID_ARGUMENT, "INVALID_REQUEST");
  }

  // ---- pushed starts and slots ---------------------------------------------------------------

  @Test
  void startsArePushed_neverMoreThanCapacity_andAnAckFreesASlot() throws Exception {
    for (int i = 1; i <= 5; i++) {
      orders.enqueue(batch("b" + i, "extract", i));
    }
    WorkClient c = open(2);
    List<StartedBatch> first = c.nextStarted(2);
    assertThat(keys(first)).containsExactly("b1", "b2");

    // A second stream takes the rest: proof that the pump ran and the first stream was full.
    WorkClient other = open(3);
    assertThat(keys(other.nextStarted(3))).containsExactly("b3", "b4", "b5");
    assertThat(c.drainStarted()).isEmpty();

    orders.enqueue(batch("b6", "extract", 6));
    c.ack(7, "b1", first.get(0).getAttempt());
    WorkResult r = c.nextResult();
    assertThat(r.getRequestId()).isEqualTo(7);
    assertThat(r.getOutcome().getOutcomeCase()).isEqualTo(ProcessOutcome.OutcomeCase.PROCESSED);
    assertThat(keys(c.nextStarted(1))).containsExactly("b6");
    assertThat(orders.status().getInFlightCount()).isEqualTo(5);
  }

  @Test
  void anEnqueueAfterOpen_isPushedWithoutPolling_andWatchersSeeTheStart() throws Exception {
    WatchRecorder watch = new WatchRecorder();
    grpc.async().watchStarted(
        dev.lightspeed.orchestrator.v1.WatchStartedRequest.newBuilder().setPipeline("orders")
            .build(), watch);
    watch.awaitEstablished(orders);
    WorkClient c = open(4, "load");
    orders.enqueue(batch("e1", "extract", 1));
    orders.enqueue(batch("l1", "load", 1));

    StartedBatch s = c.nextStarted();
    assertThat(s.getBatch().getKey()).isEqualTo("l1");
    assertThat(watch.next().getBatch().getKey()).isEqualTo("l1");
    assertThat(orders.state("e1")).isEqualTo(BatchState.BATCH_STATE_QUEUED);
  }

  @Test
  void twoStreams_shareStartsRoundRobinByFreeSlot() throws Exception {
    WorkClient a = open(10);
    WorkClient b = open(10);
    // Both are registered once each has been given a batch of the warm-up.
    orders.enqueue(batch("w1", "extract", 1));
    orders.enqueue(batch("w2", "extract", 2));
    awaitStartedTotal(2, a, b);

    var batches = new java.util.ArrayList<dev.lightspeed.orchestrator.v1.Batch.Builder>();
    for (int i = 1; i <= 10; i++) {
      batches.add(batch("b" + i, "extract", 10 + i));
    }
    orders.enqueueAll(batches); // one call: one pump, ten starts dealt out
    List<StartedBatch> all = awaitStartedTotal(10, a, b);
    assertThat(all).hasSize(10);
    assertThat(List.of(countA, countB)).containsExactly(5, 5);
  }

  private int countA;
  private int countB;

  /** Waits until a and b together received {@code n} more batches; counts each one's share. */
  private List<StartedBatch> awaitStartedTotal(int n, WorkClient a, WorkClient b)
      throws InterruptedException {
    countA = 0;
    countB = 0;
    var got = new java.util.ArrayList<StartedBatch>();
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (got.size() < n && System.nanoTime() < deadline) {
      List<StartedBatch> fromA = a.drainStarted();
      List<StartedBatch> fromB = b.drainStarted();
      countA += fromA.size();
      countB += fromB.size();
      got.addAll(fromA);
      got.addAll(fromB);
      Thread.sleep(5);
    }
    return got;
  }

  // ---- requests ------------------------------------------------------------------------------

  @Test
  void perRequestErrors_comeBackAsResults_andTheStreamGoesOn() throws Exception {
    orders.enqueue(batch("b1", "extract", 1));
    WorkClient c = open(1);
    StartedBatch s = c.nextStarted();

    c.ack(1, "b1", s.getAttempt() + 1); // stale attempt
    WorkResult stale = c.nextResult();
    assertThat(stale.getRequestId()).isEqualTo(1);
    assertStatus(stale.getError(), Code.ABORTED, "STALE_ATTEMPT");

    c.extend(2, "nope", 0);
    assertStatus(c.nextResult().getError(), Code.NOT_FOUND, "BATCH_NOT_FOUND");

    c.send(WorkRequest.newBuilder().setAck(WorkAck.newBuilder().setRequestId(3).setKey("b1")
        .setAttempt(-1)).build());
    WorkResult negative = c.nextResult();
    assertStatus(negative.getError(), Code.INVALID_ARGUMENT, "INVALID_REQUEST");
    assertThat(violatedFields(negative.getError())).containsExactly("ack.attempt");

    grpc.clock().advance(100);
    c.extend(4, "b1", s.getAttempt());
    WorkResult extended = c.nextResult();
    assertThat(extended.getRequestId()).isEqualTo(4);
    assertThat(extended.getLeaseDeadlineMs()).isEqualTo(grpc.clock().millis() + 30_000);

    c.ack(5, "b1", s.getAttempt());
    assertThat(c.nextResult().getOutcome().hasProcessed()).isTrue();
    c.ack(6, "b1", s.getAttempt()); // acked again: the state is not IN_FLIGHT
    assertThat(c.nextResult().getOutcome().hasProcessed()).isTrue();
    assertThat(c.ended).isNotDone();
  }

  @Test
  void aReusedRequestId_isAnsweredAgain_independently() throws Exception {
    orders.enqueue(batch("b1", "extract", 1));
    WorkClient c = open(1);
    StartedBatch s = c.nextStarted();

    c.extend(9, "b1", s.getAttempt());
    c.ack(9, "b1", s.getAttempt());
    WorkResult first = c.nextResult();
    WorkResult second = c.nextResult();
    assertThat(List.of(first.getRequestId(), second.getRequestId())).containsExactly(9L, 9L);
    assertThat(List.of(first.getResultCase(), second.getResultCase())).containsExactlyInAnyOrder(
        WorkResult.ResultCase.LEASE_DEADLINE_MS, WorkResult.ResultCase.OUTCOME);
  }

  @Test
  void anAckForABatchOfAnotherStream_isAccepted_andFreesTheOtherStreamsSlot() throws Exception {
    orders.enqueue(batch("b1", "extract", 1));
    WorkClient a = open(1);
    StartedBatch s = a.nextStarted();
    WorkClient b = open(1);
    orders.enqueue(batch("b2", "extract", 2));
    assertThat(b.nextStarted().getBatch().getKey()).isEqualTo("b2");
    orders.enqueue(batch("b3", "extract", 3));

    b.ack(1, "b1", s.getAttempt());
    assertThat(b.nextResult().getOutcome().hasProcessed()).isTrue();
    // b is still full (b2); a's slot is free again and takes b3.
    assertThat(a.nextStarted().getBatch().getKey()).isEqualTo("b3");
    assertThat(b.drainStarted()).isEmpty();
  }

  @Test
  void failOnTheStream_schedulesARetry_startedAgainWhenItsTimeComes_withoutPolling()
      throws Exception {
    orders.enqueue(batch("b1", "extract", 1));
    WorkClient c = open(1);
    StartedBatch s = c.nextStarted();

    c.fail(1, "b1", s.getAttempt(), "boom");
    WorkResult r = c.nextResult();
    assertThat(r.getOutcome().hasRetryScheduled()).isTrue();
    long retryAt = r.getOutcome().getRetryScheduled().getRetryAtMs();

    grpc.clock().set(retryAt); // nothing else happens: only the stream's timer can start it
    StartedBatch again = c.nextStarted();
    assertThat(again.getBatch().getKey()).isEqualTo("b1");
    assertThat(again.getAttempt()).isEqualTo(s.getAttempt() + 1);
  }

  @Test
  void aStreamCutOffMidFlight_leavesItsBatchesToLeaseExpiry() throws Exception {
    orders.enqueue(batch("b1", "extract", 1));
    WorkClient a = open(1);
    StartedBatch s = a.nextStarted();
    a.cancel();
    assertThat(a.endedWith()).isNotNull();
    assertThat(orders.state("b1")).isEqualTo(BatchState.BATCH_STATE_IN_FLIGHT);

    WorkClient b = open(1);
    grpc.clock().set(s.getLeaseDeadlineMs()); // the lease expires: retry in 5 s
    awaitState("b1", BatchState.BATCH_STATE_RETRY_WAIT);
    grpc.clock().advance(5_000);
    StartedBatch again = b.nextStarted();
    assertThat(again.getBatch().getKey()).isEqualTo("b1");
    assertThat(again.getAttempt()).isEqualTo(2);
  }

  @Test
  void halfClose_answersEveryRequest_thenEnds() throws Exception {
    orders.enqueue(batch("b1", "extract", 1));
    WorkClient c = open(1);
    StartedBatch s = c.nextStarted();
    c.ack(1, "b1", s.getAttempt());
    c.halfClose();
    assertThat(c.nextResult().getRequestId()).isEqualTo(1);
    assertThat(c.endedWith()).isNull();
  }

  @Test
  void deletingThePipeline_endsItsStreamsNotFound() throws Exception {
    WorkClient c = open(1);
    orders.enqueue(batch("b1", "extract", 1));
    c.nextStarted();
    grpc.blocking().deletePipeline(dev.lightspeed.orchestrator.v1.DeletePipelineRequest
        .newBuilder().setName("orders").setForce(true).build());
    endStatus(c, Code.NOT_FOUND, "PIPELINE_NOT_FOUND");
  }

  private void awaitState(String key, BatchState state) throws InterruptedException {
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (orders.state(key) != state && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(orders.state(key)).isEqualTo(state);
  }
}
