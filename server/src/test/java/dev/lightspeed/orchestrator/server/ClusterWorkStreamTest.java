package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static dev.lightspeed.orchestrator.server.RpcErrors.assertStatus;
import static dev.lightspeed.orchestrator.server.RpcErrors.violatedFields;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.v1.GetStatusResponse;
import dev.lightspeed.orchestrator.v1.ProcessOutcome;
import dev.lightspeed.orchestrator.v1.RetryPolicy;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import dev.lightspeed.orchestrator.v1.WorkResult;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The Work stream on cluster nodes (docs/cluster.md, "The Work stream on a cluster"): opened on
 * any node, its starts and its requests are replicated through the pipeline's group and it
 * behaves as on one node; the node learns from its own replica when to try a start, so a retry
 * time is served without client requests and an idle stream writes nothing to the log; a stream
 * whose group lost its majority ends UNAVAILABLE.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ClusterWorkStreamTest extends ClusterTestBase {
  private String leader;
  private String follower;

  /** One group, "orders" created and a batch written, so that the group has a known leader. */
  private PipelineClient startWithOrders(RetryPolicy.Builder retry) throws Exception {
    startCluster(1);
    var spec = pipeline("orders", "extract", "load");
    if (retry != null) {
      spec.setRetry(retry);
    }
    PipelineClient orders = PipelineClient.create(nodes.get("n1").stub(), spec.build());
    for (var e : nodes.entrySet()) {
      if (e.getValue().host().node().isLeader(0)) {
        leader = e.getKey();
      } else if (follower == null) {
        follower = e.getKey();
      }
    }
    assertThat(leader).as("the group has a leader after a write").isNotNull();
    return orders;
  }

  private WorkClient open(String node, int capacity, String... stages) {
    return WorkClient.open(
        dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.newStub(nodes.get(node).channel()),
        "orders", capacity, stages);
  }

  /** Processes {@code n} batches on {@code c}: each started one acked on the stream. */
  private static List<String> process(WorkClient c, int n, long firstRequestId)
      throws InterruptedException {
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      StartedBatch s = c.nextStarted();
      keys.add(s.getBatch().getKey());
      c.ack(firstRequestId + i, s.getBatch().getKey(), s.getAttempt());
      WorkResult r = c.nextResult();
      assertThat(r.getRequestId()).isEqualTo(firstRequestId + i);
      assertThat(r.getOutcome().getOutcomeCase())
          .as("the ack of %s", s.getBatch().getKey())
          .isEqualTo(ProcessOutcome.OutcomeCase.PROCESSED);
    }
    return keys;
  }

  @Test
  void aWorkerOnAFollowerAndOneOnTheLeader_processEnqueuedBatchesToCompletion() throws Exception {
    PipelineClient orders = startWithOrders(null);
    int sequence = 0;
    for (String node : List.of(follower, leader)) {
      WorkClient worker = open(node, 2);
      List<String> keys = new ArrayList<>();
      for (int i = 1; i <= 6; i++) {
        keys.add(node + "-b" + i);
        orders.enqueue(batch(node + "-b" + i, "extract", ++sequence));
      }
      assertThat(process(worker, 6, 100)).as("through %s", node)
          .containsExactlyInAnyOrderElementsOf(keys);
      worker.halfClose();
      assertThat(worker.endedWith()).as("a half-closed stream ends OK").isNull();
    }
    GetStatusResponse status = orders.status();
    assertThat(status.getQueuedCount()).isZero();
    assertThat(status.getInFlightCount()).isZero();
    // every replica applied the same starts and acks
    String signature = status.getSignature();
    for (String node : nodes.keySet()) {
      assertThat(new PipelineClient(nodes.get(node).stub(), "orders").status().getSignature())
          .as("GetStatus through %s", node).isEqualTo(signature);
    }
  }

  @Test
  void twoStreamsOnTwoNodes_shareThePipeline_withinCapacity_andNoBatchStartsTwice()
      throws Exception {
    PipelineClient orders = startWithOrders(null);
    WorkClient a = open(leader, 2);
    WorkClient b = open(follower, 3);
    for (int i = 1; i <= 5; i++) {
      orders.enqueue(batch("b" + i, "extract", i));
    }
    // Five batches, five slots: each stream gets exactly its capacity, only if neither took more.
    List<StartedBatch> onA = a.nextStarted(2);
    List<StartedBatch> onB = b.nextStarted(3);
    Set<String> keys = new HashSet<>();
    for (StartedBatch s : concat(onA, onB)) {
      assertThat(keys.add(s.getBatch().getKey())).as("%s started once", s.getBatch().getKey())
          .isTrue();
    }
    assertThat(keys).hasSize(5);
    assertThat(orders.status().getInFlightCount()).isEqualTo(5);

    // Acks on the streams free the slots; more batches are shared again.
    long id = 1;
    for (StartedBatch s : onA) {
      a.ack(id++, s.getBatch().getKey(), s.getAttempt());
    }
    for (StartedBatch s : onB) {
      b.ack(id++, s.getBatch().getKey(), s.getAttempt());
    }
    for (int i = 0; i < 2; i++) {
      assertThat(a.nextResult().getOutcome().hasProcessed()).isTrue();
    }
    for (int i = 0; i < 3; i++) {
      assertThat(b.nextResult().getOutcome().hasProcessed()).isTrue();
    }
    for (int i = 6; i <= 10; i++) {
      orders.enqueue(batch("b" + i, "extract", i));
    }
    onA = a.nextStarted(2);
    onB = b.nextStarted(3);
    for (StartedBatch s : concat(onA, onB)) {
      assertThat(keys.add(s.getBatch().getKey())).as("%s started once", s.getBatch().getKey())
          .isTrue();
    }
    assertThat(keys).hasSize(10);
    assertThat(a.drainStarted()).isEmpty();
    assertThat(b.drainStarted()).isEmpty();
  }

  @Test
  void aRetryTimeStartsWithoutClientRequests_andAnIdleStreamWritesNothingToTheLog()
      throws Exception {
    PipelineClient orders = startWithOrders(
        RetryPolicy.newBuilder().setInitialBackoffMs(300).setMaxAttempts(5));
    WorkClient worker = open(follower, 1);
    orders.enqueue(batch("b1", "extract", 1));
    StartedBatch first = worker.nextStarted();
    assertThat(first.getAttempt()).isEqualTo(1);
    worker.fail(1, "b1", 1, "flaky");
    WorkResult failed = worker.nextResult();
    assertThat(failed.getOutcome().getOutcomeCase())
        .isEqualTo(ProcessOutcome.OutcomeCase.RETRY_SCHEDULED);
    long retryAt = failed.getOutcome().getRetryScheduled().getRetryAtMs();

    // Nobody asks: the node's timer, armed from its replica, starts the retry at its time.
    StartedBatch retried = worker.nextStarted();
    long lateMs = System.currentTimeMillis() - retryAt;
    assertThat(retried.getBatch().getKey()).isEqualTo("b1");
    assertThat(retried.getAttempt()).isEqualTo(2);
    assertThat(retried.getStartedAtMs()).isGreaterThanOrEqualTo(retryAt);
    System.out.println("cluster Work stream: retry started " + lateMs
        + " ms after its retry time (received; loaded machine, not asserted)");
    worker.ack(2, "b1", 2);
    assertThat(worker.nextResult().getOutcome().hasProcessed()).isTrue();

    // With a free slot and nothing to start, the node's pumps (its timer wakes every second)
    // write no start: the leader's replica (which applied the ack before answering it) applies
    // no further command. (Ratis' own metadata entries do not reach the state.)
    long applied = appliedCommands(leader);
    Thread.sleep(2_500);
    assertThat(appliedCommands(leader)).as("commands written by an idle Work stream")
        .isEqualTo(applied);
  }

  @Test
  void requestsForUnknownBatches_areAnsweredWithTheRefusal_andTheStreamGoesOn() throws Exception {
    PipelineClient orders = startWithOrders(null);
    WorkClient worker = open(follower, 1);
    worker.ack(1, "never-enqueued", 1);
    worker.fail(2, "never-enqueued", 1, "boom");
    worker.extend(3, "never-enqueued", -1);
    WorkResult ack = worker.nextResult();
    assertThat(ack.getRequestId()).isEqualTo(1);
    assertStatus(ack.getError(), Status.Code.NOT_FOUND, "BATCH_NOT_FOUND");
    WorkResult fail = worker.nextResult();
    assertThat(fail.getRequestId()).isEqualTo(2);
    assertStatus(fail.getError(), Status.Code.NOT_FOUND, "BATCH_NOT_FOUND");
    WorkResult extend = worker.nextResult();
    assertThat(extend.getRequestId()).isEqualTo(3);
    assertThat(violatedFields(assertStatus(extend.getError(), Status.Code.INVALID_ARGUMENT,
        "INVALID_REQUEST"))).containsExactly("extend.attempt");

    orders.enqueue(batch("b1", "extract", 1));
    assertThat(process(worker, 1, 10)).containsExactly("b1");
  }

  @Test
  void openIsCheckedAsOnOneNode() throws Exception {
    startWithOrders(null);
    WorkClient missing = WorkClient.open(
        dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.newStub(
            nodes.get(follower).channel()), "nope", 1);
    assertEnded(missing, Status.Code.NOT_FOUND, "PIPELINE_NOT_FOUND");
    assertThat(violatedFields(assertEnded(open(follower, 0), Status.Code.INVALID_ARGUMENT,
        "INVALID_REQUEST"))).containsExactly("open.capacity");
    assertEnded(open(leader, 1, "nope"), Status.Code.FAILED_PRECONDITION, "UNKNOWN_STAGE");
  }

  @Test
  void aStreamWhoseGroupLostItsMajority_endsUnavailable() throws Exception {
    PipelineClient orders = startWithOrders(null);
    WorkClient worker = open(leader, 1);
    orders.enqueue(batch("b1", "extract", 1));
    worker.nextStarted(); // the stream is open and served
    for (String other : new ArrayList<>(nodes.keySet())) {
      if (!other.equals(leader)) {
        nodes.remove(other).stop();
      }
    }
    // Nothing is sent on the stream: the node's probe of its quiet group ends it.
    Throwable ended;
    try {
      worker.ended.get(WAIT.toSeconds() * 2, TimeUnit.SECONDS);
      ended = null;
    } catch (ExecutionException e) {
      ended = e.getCause();
    }
    assertThat(ended).as("the stream ends with an error").isNotNull();
    var status = assertStatus(StatusProto.fromThrowable(ended), Status.Code.UNAVAILABLE,
        "JOURNAL_UNAVAILABLE");
    assertThat(status.getMessage()).contains("has no leader").contains("majority");
  }

  @Test
  void aGracefulStopOfTheNode_endsItsStreamsUnavailable_withoutWaitingForTheGrace()
      throws Exception {
    PipelineClient orders = startWithOrders(null);
    WorkClient worker = open(follower, 1);
    orders.enqueue(batch("b1", "extract", 1));
    worker.nextStarted(); // the stream is open and served
    Node stopping = nodes.remove(follower);
    Thread stop = new Thread(() -> {
      try {
        stopping.server().stop(WAIT.toSeconds() * 4, TimeUnit.SECONDS);
        stopping.channel().shutdownNow();
        stopping.host().close();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    stop.start();
    // Ended by the stop itself ("server shutting down"), not cancelled once the grace is over.
    Throwable ended = worker.endedWith();
    assertThat(ended).as("the stream ends with an error").isNotNull();
    assertThat(Status.fromThrowable(ended).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(Status.fromThrowable(ended).getDescription()).contains("server shutting down");
    stop.join(WAIT.toMillis());
  }

  private com.google.rpc.Status assertEnded(WorkClient c, Status.Code code, String reason)
      throws Exception {
    Throwable t = c.endedWith();
    assertThat(t).as("the stream ends with an error").isNotNull();
    return assertStatus(StatusProto.fromThrowable(t), code, reason);
  }

  /** The log index of the last command (not a Raft-only entry) the node's replica applied. */
  private long appliedCommands(String node) throws java.io.IOException {
    return nodes.get(node).host().node().stateMachine(0).state().lastAppliedIndex();
  }

  private static List<StartedBatch> concat(List<StartedBatch> a, List<StartedBatch> b) {
    List<StartedBatch> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }
}
