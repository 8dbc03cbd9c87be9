package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.rpc.ErrorInfo;
import dev.lightspeed.orchestrator.v1.AckBatchRequest;
import dev.lightspeed.orchestrator.v1.BatchState;
import dev.lightspeed.orchestrator.v1.BatchView;
import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesResponse;
import dev.lightspeed.orchestrator.v1.EnqueueResult;
import dev.lightspeed.orchestrator.v1.GetStatusRequest;
import dev.lightspeed.orchestrator.v1.ListBatchesRequest;
import dev.lightspeed.orchestrator.v1.StartAvailableRequest;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.StatusProto;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An OK means durable on every path: a reply that changes nothing (a deduplicated enqueue, a
 * repeated ack) and a read wait for the change they report; after a journal failure the server
 * refuses everything with UNAVAILABLE JOURNAL_UNAVAILABLE and reports NOT_SERVING until it is
 * restarted. Real Netty server on loopback, real files under a fault-injecting layer.
 */
class DurableRepliesTest {
  /** How long the slow disk holds each journal write: longer than the first call's deadline. */
  private static final long SLOW_WRITE_MS = 1_500;

  @TempDir Path dir;
  private FaultyDisk disk;

  @AfterEach
  void stop() throws InterruptedException {
    if (disk != null) {
      disk.close();
    }
  }

  private FaultyDisk startWithPipeline() throws Exception {
    disk = new FaultyDisk(FaultyDisk.options(dir)).start();
    disk.stub.createPipeline(
        CreatePipelineRequest.newBuilder().setSpec(pipeline("p", "s")).build());
    return disk;
  }

  private static EnqueueBatchesRequest twoHundred() {
    EnqueueBatchesRequest.Builder req = EnqueueBatchesRequest.newBuilder().setPipeline("p");
    for (int i = 1; i <= 200; i++) {
      req.addBatches(batch("k" + i, "s", i));
    }
    return req.build();
  }

  private static String reason(StatusRuntimeException e) throws Exception {
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    assertThat(status).as("rich status of %s", e).isNotNull();
    return status.getDetails(0).unpack(ErrorInfo.class).getReason();
  }

  /** Sends the enqueue of {@code key} again: deduplicated if the server has it. */
  private boolean redelivered(String key, long sequence) {
    return disk.stub.enqueueBatch(EnqueueBatchRequest.newBuilder().setPipeline("p")
        .setBatch(batch(key, "s", sequence)).build()).getDeduplicated();
  }

  // (a) the journal's disk fills: the resent request must not be "deduplicated"

  @Test
  void diskFull_resentEnqueue_isRefusedNotDeduplicated_andHealthTurnsNotServing() throws Exception {
    startWithPipeline();
    assertThat(disk.health()).isEqualTo(ServingStatus.SERVING);
    disk.files.spaceLeft(0);

    assertThatThrownBy(() -> disk.stub.enqueueBatches(twoHundred()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    // the identical request again, as the Java client's retry policy sends it
    StatusRuntimeException resent = org.junit.jupiter.api.Assertions.assertThrows(
        StatusRuntimeException.class, () -> disk.stub.enqueueBatches(twoHundred()));
    assertThat(resent.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(reason(resent)).isEqualTo("JOURNAL_UNAVAILABLE");
    assertThat(resent.getStatus().getDescription()).contains("restart");
    // reads would show the refused batches: refused too
    StatusRuntimeException read = org.junit.jupiter.api.Assertions.assertThrows(
        StatusRuntimeException.class,
        () -> disk.stub.getStatus(GetStatusRequest.newBuilder().setPipeline("p").build()));
    assertThat(reason(read)).isEqualTo("JOURNAL_UNAVAILABLE");
    assertThat(disk.health()).isEqualTo(ServingStatus.NOT_SERVING);

    // Recovery: the disk has room again, the operator restarts; nothing refused is there, and
    // the server takes the request now.
    disk.restart();
    assertThat(disk.health()).isEqualTo(ServingStatus.SERVING);
    EnqueueBatchesResponse again = disk.stub.enqueueBatches(twoHundred());
    assertThat(again.getResultsList()).extracting(EnqueueResult::getDeduplicated)
        .containsOnly(false);
    disk.crash();
    disk.start();
    assertThat(disk.stub.getStatus(GetStatusRequest.newBuilder().setPipeline("p").build())
        .getQueuedCount()).isEqualTo(200);
  }

  @Test
  void fsyncFailure_refusesEveryCallUntilRestart_evenWhenALaterFsyncWouldSucceed()
      throws Exception {
    startWithPipeline();
    disk.stub.enqueueBatch(EnqueueBatchRequest.newBuilder().setPipeline("p")
        .setBatch(batch("before", "s", 1)).build());
    var watch = disk.stub.watchStarted(
        dev.lightspeed.orchestrator.v1.WatchStartedRequest.newBuilder().setPipeline("p").build());
    disk.files.failForces(true);
    assertThatThrownBy(() -> disk.stub.enqueueBatch(EnqueueBatchRequest.newBuilder()
            .setPipeline("p").setBatch(batch("lost", "s", 2)).build()))
        .isInstanceOf(StatusRuntimeException.class);
    // an open WatchStarted stream ends too, saying why
    StatusRuntimeException watchEnded = org.junit.jupiter.api.Assertions.assertThrows(
        StatusRuntimeException.class, watch::hasNext);
    assertThat(reason(watchEnded)).isEqualTo("JOURNAL_UNAVAILABLE");
    disk.files.failForces(false); // the disk "works" again: the server must not trust it
    for (Runnable call : List.<Runnable>of(
        () -> disk.stub.enqueueBatch(EnqueueBatchRequest.newBuilder().setPipeline("p")
            .setBatch(batch("lost", "s", 2)).build()),
        () -> disk.stub.enqueueBatch(EnqueueBatchRequest.newBuilder().setPipeline("p")
            .setBatch(batch("after", "s", 3)).build()),
        () -> disk.stub.listBatches(ListBatchesRequest.newBuilder().setPipeline("p").build()),
        () -> disk.stub.getStatus(GetStatusRequest.newBuilder().setPipeline("p").build()))) {
      StatusRuntimeException e =
          org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class, call::run);
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(reason(e)).isEqualTo("JOURNAL_UNAVAILABLE");
    }
    assertThat(disk.health()).isEqualTo(ServingStatus.NOT_SERVING);

    disk.crash(); // the failed fsync's bytes never reached the disk
    disk.start();
    assertThat(redelivered("before", 1)).isTrue();
    assertThat(redelivered("lost", 2)).isFalse();
  }

  // (b) a slow disk: the retry after a deadline must wait for the first call's fsync

  @Test
  void slowDisk_retriedEnqueue_answersDeduplicatedOnlyOnceDurable() throws Exception {
    startWithPipeline();
    disk.files.delayWrites(SLOW_WRITE_MS);
    EnqueueBatchRequest enqueue = EnqueueBatchRequest.newBuilder().setPipeline("p")
        .setBatch(batch("slow", "s", 1)).build();
    assertThatThrownBy(() -> disk.stub.withDeadlineAfter(500, TimeUnit.MILLISECONDS)
            .enqueueBatch(enqueue))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
    // the retry: deduplicated, and only once the first one is on disk
    assertThat(disk.stub.withDeadlineAfter(30, TimeUnit.SECONDS).enqueueBatch(enqueue)
        .getDeduplicated()).isTrue();
    disk.crash(); // kill -9 right after the OK
    disk.start();
    assertThat(redelivered("slow", 1)).as("the acknowledged enqueue survives").isTrue();
  }

  @Test
  void slowDisk_retriedAck_answersOnlyOnceDurable() throws Exception {
    startWithPipeline();
    disk.stub.enqueueBatch(EnqueueBatchRequest.newBuilder().setPipeline("p")
        .setBatch(batch("b", "s", 1)).build());
    List<StartedBatch> startedAll = new java.util.ArrayList<>();
    disk.stub.startAvailable(StartAvailableRequest.newBuilder().setPipeline("p").build())
        .forEachRemaining(r -> startedAll.add(r.getStarted()));
    StartedBatch started = startedAll.get(0);
    disk.files.delayWrites(SLOW_WRITE_MS);
    AckBatchRequest ack = AckBatchRequest.newBuilder().setPipeline("p").setKey("b")
        .setAttempt(started.getAttempt()).build();
    assertThatThrownBy(() -> disk.stub.withDeadlineAfter(500, TimeUnit.MILLISECONDS).ackBatch(ack))
        .isInstanceOf(StatusRuntimeException.class);
    assertThat(disk.stub.withDeadlineAfter(30, TimeUnit.SECONDS).ackBatch(ack).getOutcome()
        .hasProcessed())
        .isTrue();
    disk.crash();
    disk.start();
    List<BatchView> live = disk.stub.listBatches(
        ListBatchesRequest.newBuilder().setPipeline("p").build()).getBatchesList();
    assertThat(live).as("the acknowledged ack survives: b is not IN_FLIGHT again").isEmpty();
  }

  @Test
  void slowDisk_readShowingAcceptedState_answersOnlyOnceDurable() throws Exception {
    startWithPipeline();
    disk.files.delayWrites(SLOW_WRITE_MS);
    EnqueueBatchRequest enqueue = EnqueueBatchRequest.newBuilder().setPipeline("p")
        .setBatch(batch("seen", "s", 1)).build();
    assertThatThrownBy(() -> disk.stub.withDeadlineAfter(300, TimeUnit.MILLISECONDS)
            .enqueueBatch(enqueue))
        .isInstanceOf(StatusRuntimeException.class);
    List<BatchView> listed = disk.stub.withDeadlineAfter(30, TimeUnit.SECONDS).listBatches(
        ListBatchesRequest.newBuilder().setPipeline("p").setState(BatchState.BATCH_STATE_QUEUED)
            .build()).getBatchesList();
    long queued = disk.stub.withDeadlineAfter(30, TimeUnit.SECONDS)
        .getStatus(GetStatusRequest.newBuilder().setPipeline("p").build()).getQueuedCount();
    disk.crash();
    disk.start();
    // what the reads showed is what the disk kept
    assertThat(listed).extracting(v -> v.getBatch().getKey()).containsExactly("seen");
    assertThat(queued).isEqualTo(1);
    assertThat(redelivered("seen", 1)).isTrue();
  }
}
