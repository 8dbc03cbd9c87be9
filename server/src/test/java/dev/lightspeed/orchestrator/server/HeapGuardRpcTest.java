package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static dev.lightspeed.orchestrator.server.RpcErrors.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.RetryInfo;
import dev.lightspeed.orchestrator.host.HeapGuard;
import dev.lightspeed.orchestrator.host.Limits;
import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.DeletePipelineRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesRequest;
import dev.lightspeed.orchestrator.v1.ProcessOutcome;
import io.grpc.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * While the heap guard says the heap is full, calls that add to the state are refused
 * RESOURCE_EXHAUSTED QUEUE_FULL with RetryInfo and change nothing; the calls that drain it go on;
 * once a collection leaves room, the same calls are taken. (The guard is fed by hand here;
 * HeapFloodIT fills a real server's heap.)
 */
class HeapGuardRpcTest {
  private final HeapGuard heap = HeapGuard.of(90, 1_000);

  @RegisterExtension
  final GrpcServerExtension grpc =
      GrpcServerExtension.inProcess().settings(s -> s.withLimits(Limits.DEFAULTS.withHeap(heap)));

  @Test
  void aFullHeapRefusesNewBatchesAndPipelines_butStartsAcksAndDeletesGoOn() {
    PipelineClient p = PipelineClient.create(grpc.blocking(), pipeline("orders", "s").build());
    p.enqueue(batch("a", "s", 1));
    p.enqueue(batch("b", "s", 2));
    heap.afterGc(930);
    String before = p.status().getSignature();

    var one = assertRefused(() -> grpc.blocking().enqueueBatch(EnqueueBatchRequest.newBuilder()
            .setPipeline("orders").setBatch(batch("c", "s", 3)).build()),
        Status.Code.RESOURCE_EXHAUSTED, "QUEUE_FULL");
    assertThat(one.getMessage()).contains("93 % full").contains("--max-heap-percent");
    assertThat(one.getDetailsList()).anySatisfy(d -> assertThat(d.is(RetryInfo.class)).isTrue());
    assertRefused(() -> grpc.blocking().enqueueBatches(EnqueueBatchesRequest.newBuilder()
            .setPipeline("orders").addBatches(batch("c", "s", 3)).build()),
        Status.Code.RESOURCE_EXHAUSTED, "QUEUE_FULL");
    assertRefused(() -> grpc.blocking().createPipeline(CreatePipelineRequest.newBuilder()
            .setSpec(pipeline("more", "s")).build()),
        Status.Code.RESOURCE_EXHAUSTED, "QUEUE_FULL");
    // A missing pipeline is still PIPELINE_NOT_FOUND: the guard comes after that check.
    assertRefused(() -> grpc.blocking().enqueueBatch(EnqueueBatchRequest.newBuilder()
            .setPipeline("nope").setBatch(batch("c", "s", 3)).build()),
        Status.Code.NOT_FOUND, "PIPELINE_NOT_FOUND");
    assertThat(p.status().getSignature()).isEqualTo(before);

    // What drains the heap is never refused.
    var started = p.startOne("a");
    assertThat(p.ack("a", started.getAttempt()).getOutcomeCase())
        .isEqualTo(ProcessOutcome.OutcomeCase.PROCESSED);

    heap.afterGc(840);
    assertThat(p.enqueue(batch("c", "s", 3))).isFalse();
    grpc.blocking().createPipeline(CreatePipelineRequest.newBuilder()
        .setSpec(pipeline("more", "s")).build());
    grpc.blocking().deletePipeline(DeletePipelineRequest.newBuilder().setName("more").build());
  }
}
