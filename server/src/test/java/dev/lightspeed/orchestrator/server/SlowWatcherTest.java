package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.GetStatusResponse;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import dev.lightspeed.orchestrator.v1.WatchStartedRequest;
import dev.lightspeed.orchestrator.v1.WatchStartedResponse;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A WatchStarted client that stops reading never slows the pipeline (SPEC 4): over Netty, with a
 * watch buffer of 16, its stream is cut off with RESOURCE_EXHAUSTED, WATCH_BUFFER_FULL while
 * another client keeps completing lifecycles.
 */
class SlowWatcherTest {
  private static final int WATCH_BUFFER = 16;
  /**
   * Lifecycles the other client completes while the watcher reads nothing. Far more than the
   * transport holds for a stuck reader: a 16 KiB client window plus the server's 32 KiB
   * on-ready threshold is about 600 messages of this size, plus the 16 of the watch buffer.
   */
  private static final int LIFECYCLES = 2_000;
  /**
   * Lifecycles per round trip (EnqueueBatches, StartAvailable, AckBatches): fewer than the watch
   * buffer, so one StartAvailable alone never overflows a watcher that keeps reading.
   */
  private static final int GROUP = 8;

  @RegisterExtension
  final GrpcServerExtension grpc = GrpcServerExtension.netty().watchBufferCapacity(WATCH_BUFFER);

  /** A WatchStarted call with manual flow control: it reads only what the test requests. */
  private static final class ManualWatch extends ClientCall.Listener<WatchStartedResponse> {
    final WatchRecorder recorder = new WatchRecorder();
    final CompletableFuture<com.google.rpc.Status> closed = new CompletableFuture<>();

    @Override
    public void onMessage(WatchStartedResponse message) {
      recorder.onNext(message);
    }

    @Override
    public void onClose(Status status, Metadata trailers) {
      closed.complete(StatusProto.fromStatusAndTrailers(status, trailers));
    }
  }

  @Test
  void slowWatcher_isEndedWithWatchBufferFull_whileAnotherClientsLifecyclesKeepCompleting()
      throws Exception {
    PipelineClient worker =
        PipelineClient.create(
            OrchestratorServiceGrpc.newBlockingStub(grpc.newChannel()),
            pipeline("orders", "extract", WatchRecorder.PROBE_STAGE).build());
    ManagedChannel slowChannel = grpc.newNettyChannel(b -> b.flowControlWindow(16 * 1024));
    ClientCall<WatchStartedRequest, WatchStartedResponse> call =
        slowChannel.newCall(OrchestratorServiceGrpc.getWatchStartedMethod(), CallOptions.DEFAULT);
    ManualWatch slow = new ManualWatch();
    call.start(slow, new Metadata());
    call.sendMessage(WatchStartedRequest.newBuilder().setPipeline("orders").build());
    call.halfClose();
    call.request(1); // for the one probe that proves the watch is registered; then nothing
    slow.recorder.awaitEstablished(worker);

    List<String> startOrder = new ArrayList<>();
    for (int i = 1; i <= LIFECYCLES; i += GROUP) {
      List<Batch.Builder> group = new ArrayList<>();
      for (int j = i; j < i + GROUP; j++) {
        group.add(batch("b" + j, "extract", j));
      }
      worker.enqueueAll(group);
      List<StartedBatch> started = worker.start(GROUP, "extract");
      assertThat(started).hasSize(GROUP);
      started.forEach(s -> startOrder.add(s.getBatch().getKey()));
      assertThat(worker.ackAll(started)).hasSize(GROUP);
    }

    GetStatusResponse status = worker.status();
    assertThat(status.getInFlightCount()).isZero();
    assertThat(status.getQueuedCount()).isZero();
    assertThat(slow.closed).as("the stuck watcher has read nothing since the probe").isNotDone();

    call.request(Integer.MAX_VALUE);
    com.google.rpc.Status end = slow.closed.get(10, TimeUnit.SECONDS);

    var refused = RpcErrors.assertStatus(end, Status.Code.RESOURCE_EXHAUSTED, "WATCH_BUFFER_FULL");
    assertThat(refused.getMessage()).contains(String.valueOf(WATCH_BUFFER));
    List<String> seen = new ArrayList<>();
    StartedBatch s;
    while ((s = slow.recorder.poll()) != null) {
      if (!s.getBatch().getStage().equals(WatchRecorder.PROBE_STAGE)) {
        seen.add(s.getBatch().getKey());
      }
    }
    assertThat(seen.size())
        .as("the watcher was cut off: it got %d of %d starts", seen.size(), LIFECYCLES)
        .isLessThan(LIFECYCLES);
    assertThat(startOrder).as("what it got is a prefix of the starts, in start order")
        .startsWith(seen.toArray(String[]::new));
  }
}
