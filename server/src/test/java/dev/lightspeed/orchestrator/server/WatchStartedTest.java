package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static dev.lightspeed.orchestrator.server.RpcErrors.assertRefused;
import static dev.lightspeed.orchestrator.server.RpcErrors.errorInfo;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.v1.DeletePipelineRequest;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import dev.lightspeed.orchestrator.v1.WatchStartedRequest;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** WatchStarted on an in-process server (the Netty cases are in {@link NettyServerTest}). */
class WatchStartedTest {
  @RegisterExtension final GrpcServerExtension grpc = GrpcServerExtension.inProcess();

  private PipelineClient orders;

  @BeforeEach
  void setUp() {
    orders =
        PipelineClient.create(
            grpc.blocking(), pipeline("orders", "extract", WatchRecorder.PROBE_STAGE).build());
  }

  private WatchRecorder watch(String pipeline) {
    WatchRecorder w = new WatchRecorder();
    grpc.async().watchStarted(WatchStartedRequest.newBuilder().setPipeline(pipeline).build(), w);
    return w;
  }

  @Test
  void watchStarted_seesEveryStartInStartOrder_withTheSameFieldsAsStartAvailable()
      throws InterruptedException {
    orders.enqueue(batch("before", "extract", 1));
    orders.startOne("before");
    WatchRecorder w = watch("orders");
    w.awaitEstablished(orders);

    for (int i = 2; i <= 4; i++) {
      orders.enqueue(batch("b" + i, "extract", i));
    }
    List<StartedBatch> started = orders.start(0, "extract");
    orders.fail("b3", 1, "boom", false);
    grpc.clock().advance(1_000);
    StartedBatch retried = orders.startOne("b3");

    assertThat(w.next(4)).containsExactly(
        started.get(0), started.get(1), started.get(2), retried);
    assertThat(w.hasEnded()).isFalse();
  }

  @Test
  void watchStarted_whenThePipelineIsDeleted_endsWithPipelineNotFound()
      throws InterruptedException {
    WatchRecorder w = watch("orders");
    w.awaitEstablished(orders);
    orders.enqueue(batch("b1", "extract", 1));

    grpc.blocking().deletePipeline(
        DeletePipelineRequest.newBuilder().setName("orders").setForce(true).build());

    Throwable end = w.awaitEnd();
    assertThat(Status.fromThrowable(end).getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(errorInfo(StatusProto.fromThrowable(end)).getReason())
        .isEqualTo("PIPELINE_NOT_FOUND");
  }

  @Test
  void watchStarted_ofAnUnknownPipeline_isNotFoundPipelineNotFound() {
    assertRefused(
        () -> grpc.blocking()
            .watchStarted(WatchStartedRequest.newBuilder().setPipeline("nope").build())
            .hasNext(),
        Status.Code.NOT_FOUND,
        "PIPELINE_NOT_FOUND");
  }

  @Test
  void watchStarted_whenTheClientCancels_laterStartsStillSucceed() throws InterruptedException {
    var ctx = io.grpc.Context.current().withCancellation();
    WatchRecorder w = new WatchRecorder();
    ctx.run(() -> grpc.async().watchStarted(
        WatchStartedRequest.newBuilder().setPipeline("orders").build(), w));
    w.awaitEstablished(orders);

    ctx.cancel(null);

    assertThat(Status.fromThrowable(w.awaitEnd()).getCode()).isEqualTo(Status.Code.CANCELLED);
    orders.enqueue(batch("b1", "extract", 1));
    assertThat(orders.startOne("b1").getAttempt()).isEqualTo(1);
  }
}
