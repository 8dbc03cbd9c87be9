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
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Work stream whose client does not read is given nothing more; the others go on. Both the
 * transport's readiness and the started batches not yet handed to it count: without the second,
 * a pump that runs before the first pump's batches reach the transport deals the whole capacity.
 */
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
    String padding = "x".repeat(240); // ~0.5 KB a started batch: 500 are twice the 128 KiB held
    List<Batch.Builder> batches = new ArrayList<>();
    for (int i = 1; i <= total; i++) {
      batches.add(batch("b" + i + "-" + padding, "extract", i).setIdempotencyKey("i" + i + padding));
      if (batches.size() == 500) {
        orders.enqueueAll(batches);
        batches.clear();
        if (i == 500) {
          // The first 500 are dealt to the slow stream before the rest arrive, so no single
          // start can hand it its whole capacity; what follows must be held back.
          awaitInFlight(orders);
        }
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

  /**
   * With a slow fsync the batches started for a stream wait to be durable before they reach the
   * transport, which stays ready meanwhile. Enqueues that arrive in that time must not hand the
   * stream more once it holds {@link WorkStream#MAX_UNSENT_STARTED_BYTES}: before that bound, the
   * three pumps below dealt it its whole capacity (1000) although it never read a byte.
   */
  @Test
  void startedBatchesWaitingForTheirFsync_countAgainstTheStream(@TempDir Path dir)
      throws Exception {
    try (FaultyDisk disk = new FaultyDisk(FaultyDisk.options(dir)).start()) {
      PipelineClient orders = PipelineClient.create(disk.stub, pipeline("orders", "extract")
          .setBoundary(dev.lightspeed.orchestrator.v1.Boundary.newBuilder().setMaxInFlight(5000))
          .build());
      ManagedChannel slowChannel = NettyChannelBuilder
          .forAddress("127.0.0.1", disk.server.port())
          .usePlaintext()
          .flowControlWindow(16 * 1024)
          .build();
      try {
        openNonReading(slowChannel, 1000);
        disk.files.delayForces(500);
        long writesBefore = disk.files.writes.get();
        var async = OrchestratorServiceGrpc.newFutureStub(disk.channel);
        String padding = "x".repeat(240);
        List<com.google.common.util.concurrent.ListenableFuture<?>> replies = new ArrayList<>();
        for (int chunk = 0; chunk < 3; chunk++) {
          var req = dev.lightspeed.orchestrator.v1.EnqueueBatchesRequest.newBuilder()
              .setPipeline("orders");
          for (int i = chunk * 400 + 1; i <= chunk * 400 + 400; i++) {
            req.addBatches(batch("b" + i + "-" + padding, "extract", i)
                .setIdempotencyKey("i" + i + padding));
          }
          replies.add(async.enqueueBatches(req.build()));
          if (chunk == 0) {
            // The first chunk is applied (its record is being written) and its pump is due;
            // the others arrive while that record's fsync takes its half second.
            while (disk.files.writes.get() == writesBefore) {
              Thread.sleep(1);
            }
            Thread.sleep(100);
          }
        }
        for (var r : replies) {
          r.get(60, TimeUnit.SECONDS);
        }
        disk.files.delayForces(0);
        int held = orders.status().getInFlightCount(); // a read waits until the starts are durable
        assertThat(held).as("started for a stream that reads nothing").isBetween(1, 999);
      } finally {
        slowChannel.shutdownNow();
      }
    }
  }

  /** Opens a Work stream of {@code capacity} whose client never reads a message. */
  private static void openNonReading(ManagedChannel channel, int capacity) {
    var stream = OrchestratorServiceGrpc.newStub(channel).work(
        new ClientResponseObserver<WorkRequest, WorkResponse>() {
          @Override
          public void beforeStart(ClientCallStreamObserver<WorkRequest> call) {
            call.disableAutoRequestWithInitial(0);
          }

          @Override
          public void onNext(WorkResponse r) {}

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {}
        });
    stream.onNext(WorkRequest.newBuilder().setOpen(
        WorkOpen.newBuilder().setPipeline("orders").setCapacity(capacity)).build());
  }

  private static void awaitInFlight(PipelineClient orders) throws InterruptedException {
    long until = System.nanoTime() + 20_000_000_000L;
    while (orders.status().getInFlightCount() == 0 && System.nanoTime() < until) {
      Thread.sleep(10);
    }
  }
}
