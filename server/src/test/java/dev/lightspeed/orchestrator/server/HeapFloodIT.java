package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.Boundary;
import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.DeletePipelineRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesResponse;
import dev.lightspeed.orchestrator.v1.GetStatusRequest;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceBlockingStub;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.StatusProto;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A flood of queued batches against the real server jar with a small heap (-Xmx256m) and a
 * pipeline whose max_queued would let it hold millions: before the heap guard, such a server
 * spent its time in full collections and stopped answering (OutOfMemoryError in its threads);
 * with it, the flood is refused RESOURCE_EXHAUSTED QUEUE_FULL naming the heap, nothing accepted
 * is lost, the server keeps answering, and once the pipeline is deleted it takes batches again.
 */
class HeapFloodIT {
  private static final int ITEMS_PER_CALL = 1_000;
  /** 3M batches: far beyond what 256 MiB holds (about 1 KiB each, twice: live and shadow). */
  private static final int MAX_CALLS = 3_000;

  @TempDir Path dir;

  @Test
  void aHeapFlood_isRefusedQueueFull_losesNothing_andTheServerRecovers() throws Exception {
    try (ServerProcess server = ServerProcess.start(dir, List.of("-Xmx256m"),
        "--data-dir", dir.resolve("data").toString())) {
      ManagedChannel channel =
          NettyChannelBuilder.forAddress("127.0.0.1", server.port).usePlaintext().build();
      try {
        OrchestratorServiceBlockingStub stub = OrchestratorServiceGrpc.newBlockingStub(channel);
        stub.withDeadlineAfter(10, TimeUnit.SECONDS).createPipeline(CreatePipelineRequest
            .newBuilder().setSpec(pipeline("flood", "s")
                .setBoundary(Boundary.newBuilder().setMaxQueued(100_000_000))).build());
        long accepted = 0;
        com.google.rpc.Status refusal = null;
        for (int call = 0; call < MAX_CALLS && refusal == null; call++) {
          EnqueueBatchesRequest.Builder req = EnqueueBatchesRequest.newBuilder().setPipeline("flood");
          for (int i = 0; i < ITEMS_PER_CALL; i++) {
            String key = "k-" + call + "-" + i;
            req.addBatches(Batch.newBuilder().setKey(key).setStage("s").setRecords(1)
                .setIdempotencyKey(key));
          }
          try {
            EnqueueBatchesResponse r =
                stub.withDeadlineAfter(30, TimeUnit.SECONDS).enqueueBatches(req.build());
            accepted += r.getResultsList().stream().filter(x -> !x.hasError()).count();
          } catch (StatusRuntimeException e) {
            assertThat(e.getStatus().getCode()).as(server.log())
                .isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
            refusal = StatusProto.fromThrowable(e);
          }
        }
        assertThat(refusal).as("no refusal after %d batches", accepted).isNotNull();
        assertThat(refusal.getMessage()).contains("heap").contains("--max-heap-percent");
        assertThat(RpcErrors.errorInfo(refusal).getReason()).isEqualTo("QUEUE_FULL");
        // Still answering, and every accepted batch is there (the refused call added nothing).
        long queued = stub.withDeadlineAfter(30, TimeUnit.SECONDS)
            .getStatus(GetStatusRequest.newBuilder().setPipeline("flood").build())
            .getQueuedCount();
        assertThat(queued).isEqualTo(accepted);
        assertThat(server.log()).contains("event=heap_full").doesNotContain("OutOfMemoryError");

        stub.withDeadlineAfter(30, TimeUnit.SECONDS).deletePipeline(
            DeletePipelineRequest.newBuilder().setName("flood").setForce(true).build());
        // Room again once a collection frees the deleted pipeline's batches: a bounded poll.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        boolean created = false;
        while (!created) {
          try {
            stub.withDeadlineAfter(10, TimeUnit.SECONDS).createPipeline(CreatePipelineRequest
                .newBuilder().setSpec(pipeline("after", "s")).build());
            created = true;
          } catch (StatusRuntimeException e) {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
            assertThat(System.nanoTime()).as("still refused 60 s after the delete:\n%s",
                server.log()).isLessThan(deadline);
            Thread.sleep(200);
          }
        }
        assertThat(server.log()).contains("event=heap_ok");
        assertThat(server.isAlive()).isTrue();
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }
}
