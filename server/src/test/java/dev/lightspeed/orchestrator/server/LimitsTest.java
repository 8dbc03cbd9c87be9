package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static dev.lightspeed.orchestrator.server.RpcErrors.assertRefused;
import static dev.lightspeed.orchestrator.server.RpcErrors.assertStatus;
import static dev.lightspeed.orchestrator.server.RpcErrors.violatedFields;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.lightspeed.orchestrator.host.Limits;
import dev.lightspeed.orchestrator.v1.AckBatchesRequest;
import dev.lightspeed.orchestrator.v1.AckItem;
import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesRequest;
import dev.lightspeed.orchestrator.v1.WatchStartedRequest;
import dev.lightspeed.orchestrator.v1.WatchStartedResponse;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The service's limits: items per bulk call, watchers per pipeline, pipelines per server. */
class LimitsTest {
  @RegisterExtension
  final GrpcServerExtension grpc =
      GrpcServerExtension.inProcess().settings(s -> s.withLimits(new Limits(3, 2, 2)));

  @Test
  void enqueueBatches_withMoreItemsThanTheLimit_isRefusedWhole_tooManyItems() {
    PipelineClient p = PipelineClient.create(grpc.blocking(), pipeline("orders", "s").build());
    String before = p.status().getSignature();
    EnqueueBatchesRequest.Builder four = EnqueueBatchesRequest.newBuilder().setPipeline("orders");
    for (int i = 1; i <= 4; i++) {
      four.addBatches(batch("b" + i, "s", i));
    }

    var status = assertRefused(() -> grpc.blocking().enqueueBatches(four.build()),
        Status.Code.INVALID_ARGUMENT, "TOO_MANY_ITEMS");
    assertThat(status.getMessage()).contains("4 items").contains("at most 3")
        .contains("--max-items-per-call");
    assertThat(violatedFields(status)).containsExactly("batches");
    assertThat(p.status().getSignature()).isEqualTo(before);

    four.removeBatches(3);
    assertThat(grpc.blocking().enqueueBatches(four.build()).getResultsList())
        .allSatisfy(r -> assertThat(r.hasError()).isFalse());
  }

  @Test
  void ackBatches_withMoreItemsThanTheLimit_isRefusedWhole_tooManyItems() {
    PipelineClient p = PipelineClient.create(grpc.blocking(), pipeline("orders", "s").build());
    AckBatchesRequest.Builder acks = AckBatchesRequest.newBuilder().setPipeline("orders");
    for (int i = 0; i < 4; i++) {
      acks.addAcks(AckItem.newBuilder().setKey("k" + i));
    }
    assertRefused(() -> grpc.blocking().ackBatches(acks.build()),
        Status.Code.INVALID_ARGUMENT, "TOO_MANY_ITEMS");
    assertThat(p.status().getValid()).isTrue();
  }

  @Test
  void anUnknownPipeline_isStillPipelineNotFound_beforeTheItemLimit() {
    EnqueueBatchesRequest.Builder many = EnqueueBatchesRequest.newBuilder().setPipeline("nope");
    for (int i = 1; i <= 10; i++) {
      many.addBatches(batch("b" + i, "s", i));
    }
    assertRefused(() -> grpc.blocking().enqueueBatches(many.build()),
        Status.Code.NOT_FOUND, "PIPELINE_NOT_FOUND");
  }

  @Test
  void createPipeline_beyondTheLimit_isTooManyPipelines_untilOneIsDeleted() {
    PipelineClient.create(grpc.blocking(), pipeline("one", "s").build());
    PipelineClient.create(grpc.blocking(), pipeline("two", "s").build());
    var three = CreatePipelineRequest.newBuilder().setSpec(pipeline("three", "s")).build();

    var status = assertRefused(() -> grpc.blocking().createPipeline(three),
        Status.Code.RESOURCE_EXHAUSTED, "TOO_MANY_PIPELINES");
    assertThat(status.getMessage()).contains("--max-pipelines");
    assertRefused(
        () -> grpc.blocking().createPipeline(
            CreatePipelineRequest.newBuilder().setSpec(pipeline("one", "s")).build()),
        Status.Code.ALREADY_EXISTS, "PIPELINE_EXISTS");

    grpc.blocking().deletePipeline(
        dev.lightspeed.orchestrator.v1.DeletePipelineRequest.newBuilder().setName("two").build());
    assertThat(grpc.blocking().createPipeline(three).getPipeline().getName()).isEqualTo("three");
  }

  /** A watch the test can cancel. */
  private static final class Watch
      implements ClientResponseObserver<WatchStartedRequest, WatchStartedResponse> {
    final WatchRecorder recorder = new WatchRecorder();
    volatile ClientCallStreamObserver<WatchStartedRequest> call;

    @Override
    public void beforeStart(ClientCallStreamObserver<WatchStartedRequest> requestStream) {
      call = requestStream;
    }

    @Override
    public void onNext(WatchStartedResponse value) {
      recorder.onNext(value);
    }

    @Override
    public void onError(Throwable t) {
      recorder.onError(t);
    }

    @Override
    public void onCompleted() {
      recorder.onCompleted();
    }
  }

  private Watch watch() {
    Watch w = new Watch();
    grpc.async().watchStarted(WatchStartedRequest.newBuilder().setPipeline("orders").build(), w);
    return w;
  }

  @Test
  void watchStarted_beyondTheLimit_isTooManyWatchers_untilOneIsCancelled() throws Exception {
    PipelineClient p = PipelineClient.create(grpc.blocking(),
        pipeline("orders", "s", WatchRecorder.PROBE_STAGE).build());
    List<Watch> open = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      Watch w = watch();
      w.recorder.awaitEstablished(p);
      open.add(w);
    }

    Throwable refused = watch().recorder.awaitEnd();
    assertStatus(StatusProto.fromThrowable(refused), Status.Code.RESOURCE_EXHAUSTED,
        "TOO_MANY_WATCHERS");
    assertThat(refused).hasMessageContaining("--max-watchers-per-pipeline");

    open.get(0).call.cancel("done watching", null);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      Watch again = watch();
      Thread.sleep(20);
      if (!again.recorder.hasEnded()) {
        again.recorder.awaitEstablished(p);
        break;
      }
      assertThat(System.nanoTime()).as("a watch slot is free again within 10 s")
          .isLessThan(deadline);
    }
  }

  @Test
  void limits_refuseValuesBelowOne() throws InvalidProtocolBufferException {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new Limits(0, 1, 1))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
