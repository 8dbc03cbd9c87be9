package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static dev.lightspeed.orchestrator.server.RpcErrors.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchRequest;
import dev.lightspeed.orchestrator.v1.GetStatusRequest;
import dev.lightspeed.orchestrator.v1.ListBatchesRequest;
import dev.lightspeed.orchestrator.v1.ListPipelinesRequest;
import io.grpc.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code stale_ok} on a single server: accepted and ignored, every read is current. */
class StaleOkOnSingleServerTest {
  @RegisterExtension final GrpcServerExtension grpc = GrpcServerExtension.netty();

  @Test
  void aStaleOkReadAnswersAsTheSameReadWithoutIt() {
    grpc.blocking().createPipeline(CreatePipelineRequest.newBuilder()
        .setSpec(pipeline("orders", "extract")).build());
    grpc.blocking().enqueueBatch(EnqueueBatchRequest.newBuilder()
        .setPipeline("orders").setBatch(batch("b1", "extract", 1)).build());

    GetStatusRequest status = GetStatusRequest.newBuilder().setPipeline("orders").build();
    assertThat(grpc.blocking().getStatus(status.toBuilder().setStaleOk(true).build()))
        .isEqualTo(grpc.blocking().getStatus(status)).extracting(s -> s.getQueuedCount())
        .isEqualTo(1L);
    ListBatchesRequest batches = ListBatchesRequest.newBuilder().setPipeline("orders").build();
    assertThat(grpc.blocking().listBatches(batches.toBuilder().setStaleOk(true).build()))
        .isEqualTo(grpc.blocking().listBatches(batches));
    assertThat(grpc.blocking().listPipelines(
            ListPipelinesRequest.newBuilder().setStaleOk(true).build()).getPipelinesCount())
        .isEqualTo(1);
    assertRefused(() -> grpc.blocking().getStatus(
            GetStatusRequest.newBuilder().setPipeline("missing").setStaleOk(true).build()),
        Status.Code.NOT_FOUND, "PIPELINE_NOT_FOUND");
  }
}
