package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.GetStatusRequest;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Reads of one pipeline do not queue behind another's: while a GetStatus of a large pipeline
 * computes its signature (O(state), after every change), a GetStatus of a small one answers.
 * Before, every GetStatus ran on one shared thread, so the small one waited the whole time.
 */
class ReadIsolationTest {
  private static final int LARGE_BATCHES = 100_000;

  @RegisterExtension final GrpcServerExtension grpc = GrpcServerExtension.netty();

  @Test
  void getStatusOfASmallPipeline_doesNotWaitForALargeOnesStatus() throws Exception {
    PipelineClient large = PipelineClient.create(grpc.blocking(), pipeline("large", "s")
        .setBoundary(dev.lightspeed.orchestrator.v1.Boundary.newBuilder()
            .setMaxQueued(LARGE_BATCHES * 2))
        .build());
    List<Batch.Builder> chunk = new ArrayList<>();
    for (int i = 1; i <= LARGE_BATCHES; i++) {
      chunk.add(batch("k" + i, "s", i));
      if (chunk.size() == 1000) {
        large.enqueueAll(chunk);
        chunk.clear();
      }
    }
    PipelineClient small = PipelineClient.create(grpc.blocking(), pipeline("small", "s").build());
    small.enqueue(batch("only", "s", 1));
    var blocking = grpc.blocking().withDeadlineAfter(60, TimeUnit.SECONDS);
    blocking.getStatus(GetStatusRequest.newBuilder().setPipeline("small").build());

    var separate = OrchestratorServiceGrpc.newBlockingStub(grpc.newChannel());
    long seq = LARGE_BATCHES;
    int smallFirst = 0;
    List<String> rounds = new ArrayList<>();
    for (int round = 0; round < 5; round++) {
      large.enqueue(batch("extra" + round, "s", ++seq)); // the large status must be recomputed
      long started = System.nanoTime();
      CompletableFuture<Long> largeDone = CompletableFuture.supplyAsync(() -> {
        separate.withDeadlineAfter(60, TimeUnit.SECONDS)
            .getStatus(GetStatusRequest.newBuilder().setPipeline("large").build());
        return System.nanoTime();
      });
      // Let the large read begin, but ask well before it can end: on a quiet machine the large
      // status took 98-184 ms, and a 100 ms pause let it finish first in 2 of 5 rounds (CI).
      Thread.sleep(30);
      blocking.getStatus(GetStatusRequest.newBuilder().setPipeline("small").build());
      long smallDone = System.nanoTime();
      long largeAt = largeDone.get(60, TimeUnit.SECONDS);
      if (smallDone < largeAt) {
        smallFirst++;
      }
      rounds.add("small " + (smallDone - started) / 1_000_000 + " ms / large "
          + (largeAt - started) / 1_000_000 + " ms");
    }
    System.out.printf("GetStatus of a small pipeline while a large one (%d batches) computes"
        + " its status, since the large call began: %s%n", LARGE_BATCHES, rounds);
    // Before, the small one always came after the large one (one shared thread). A round where
    // the large request reached the server late is no evidence either way: 4 of 5 suffice.
    assertThat(smallFirst).as("rounds where the small status came first: %s", rounds)
        .isGreaterThanOrEqualTo(4);
  }
}
