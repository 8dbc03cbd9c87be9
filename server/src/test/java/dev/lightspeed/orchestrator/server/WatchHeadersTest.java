package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import dev.lightspeed.orchestrator.v1.WatchStartedRequest;
import dev.lightspeed.orchestrator.v1.WatchStartedResponse;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A WatchStarted stream sends its response headers as soon as the watcher is registered, so a
 * client that has seen them knows every later start reaches it: no probe batches needed.
 */
class WatchHeadersTest {
  @RegisterExtension final GrpcServerExtension grpc = GrpcServerExtension.netty();

  @Test
  void watchStarted_sendsHeadersOnRegistration_thenEveryLaterStartArrives() throws Exception {
    PipelineClient orders =
        PipelineClient.create(grpc.blocking(), pipeline("orders", "extract").build());
    ManagedChannel channel = grpc.newChannel();
    CountDownLatch headers = new CountDownLatch(1);
    BlockingQueue<WatchStartedResponse> received = new LinkedBlockingQueue<>();
    ClientCall<WatchStartedRequest, WatchStartedResponse> call =
        channel.newCall(OrchestratorServiceGrpc.getWatchStartedMethod(), CallOptions.DEFAULT);
    call.start(
        new ClientCall.Listener<>() {
          @Override
          public void onHeaders(Metadata metadata) {
            headers.countDown();
          }

          @Override
          public void onMessage(WatchStartedResponse message) {
            received.add(message);
            call.request(1);
          }

          @Override
          public void onClose(Status status, Metadata trailers) {}
        },
        new Metadata());
    call.sendMessage(WatchStartedRequest.newBuilder().setPipeline("orders").build());
    call.halfClose();
    call.request(1);

    assertThat(headers.await(10, TimeUnit.SECONDS))
        .as("headers arrive before any batch was started")
        .isTrue();
    orders.enqueue(batch("b1", "extract", 1));
    List<StartedBatch> started = orders.start(0);
    WatchStartedResponse first = received.poll(10, TimeUnit.SECONDS);
    assertThat(first).isNotNull();
    assertThat(first.getStarted()).isEqualTo(started.get(0));
    call.cancel("done", null);
  }
}
