package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import dev.lightspeed.orchestrator.v1.WorkOpen;
import dev.lightspeed.orchestrator.v1.WorkRequest;
import dev.lightspeed.orchestrator.v1.WorkResponse;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A Work stream whose client does not read is given nothing more; the others go on. */
class WorkStreamFlowControlTest {
  @RegisterExtension final GrpcServerExtension grpc = GrpcServerExtension.netty();

  @Test
  void aStreamThatDoesNotRead_countsNoFreeSlots_andTheOtherStreamTakesTheRest() throws Exception {
    PipelineClient orders = PipelineClient.create(grpc.blocking(), pipeline("orders", "extract")
        .setBoundary(dev.lightspeed.orchestrator.v1.Boundary.newBuilder().setMaxInFlight(5000))
        .build());
    // A stream of capacity 1000 whose client never reads: its transport stops being ready long
    // before 1000 started batches (of ~1 KB each) are sent to it.
    ManagedChannel slowChannel = grpc.newNettyChannel(b -> b.flowControlWindow(16 * 1024));
    AtomicInteger slowGot = new AtomicInteger();
    var slow = OrchestratorServiceGrpc.newStub(slowChannel).work(
        new ClientResponseObserver<WorkRequest, WorkResponse>() {
          @Override
          public void beforeStart(ClientCallStreamObserver<WorkRequest> call) {
            call.disableAutoRequestWithInitial(0);
          }

          @Override
          public void onNext(WorkResponse r) {
            slowGot.incrementAndGet();
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {}
        });
    slow.onNext(WorkRequest.newBuilder().setOpen(
        WorkOpen.newBuilder().setPipeline("orders").setCapacity(1000)).build());

    int total = 1500;
    String padding = "x".repeat(200);
    List<Batch.Builder> batches = new ArrayList<>();
    for (int i = 1; i <= total; i++) {
      batches.add(batch("b" + i + "-" + padding, "extract", i).setIdempotencyKey("i" + i + padding));
      if (batches.size() == 500) {
        orders.enqueueAll(batches);
        batches.clear();
      }
    }
    // Let the slow stream take what its transport lets through, then a fast one opens.
    long until = System.nanoTime() + 20_000_000_000L;
    int held = -1;
    while (System.nanoTime() < until) {
      int inFlight = orders.status().getInFlightCount();
      if (inFlight == held) {
        break; // stable: the slow stream gets nothing more
      }
      held = inFlight;
      Thread.sleep(300);
    }
    assertThat(held).as("the slow stream was given less than its capacity").isBetween(1, 999);

    WorkClient fast = WorkClient.open(grpc.async(), "orders", 100);
    int acked = 0;
    long requestId = 0;
    while (acked < total - held) {
      StartedBatch s = fast.nextStarted();
      fast.ack(++requestId, s.getBatch().getKey(), s.getAttempt());
      acked++;
    }
    assertThat(acked).isEqualTo(total - held);
    assertThat(orders.status().getQueuedCount()).isZero();
    assertThat(orders.status().getInFlightCount()).isEqualTo(held);
    slow.onError(new RuntimeException("test done"));
  }
}
