package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.disableConnector;
import static dev.lightspeed.orchestrator.server.Fixtures.drain;
import static dev.lightspeed.orchestrator.server.Fixtures.pause;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static dev.lightspeed.orchestrator.server.RpcErrors.assertRefused;
import static dev.lightspeed.orchestrator.server.RpcErrors.assertStatus;
import static dev.lightspeed.orchestrator.server.RpcErrors.errorInfo;
import static dev.lightspeed.orchestrator.server.RpcErrors.retryInfo;
import static dev.lightspeed.orchestrator.server.RpcErrors.violatedFields;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.Durations;
import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.BatchState;
import dev.lightspeed.orchestrator.v1.BatchView;
import dev.lightspeed.orchestrator.v1.Boundary;
import dev.lightspeed.orchestrator.v1.EnqueueBatchRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesResponse;
import dev.lightspeed.orchestrator.v1.EnqueueResult;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceBlockingStub;
import dev.lightspeed.orchestrator.v1.PipelineMode;
import dev.lightspeed.orchestrator.v1.PipelineSpec;
import io.grpc.Status.Code;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** EnqueueBatch and EnqueueBatches: acceptance, deduplication and every refusal of SPEC 3.1. */
class EnqueueTest {
  @RegisterExtension final GrpcServerExtension grpc = GrpcServerExtension.inProcess();

  private OrchestratorServiceBlockingStub stub;
  private PipelineClient orders;

  @BeforeEach
  void setUp() {
    stub = grpc.blocking();
    orders = PipelineClient.create(stub, pipeline("orders", "extract", "load").build());
  }

  private static EnqueueBatchRequest request(String pipeline, Batch.Builder batch) {
    return EnqueueBatchRequest.newBuilder().setPipeline(pipeline).setBatch(batch).build();
  }

  private com.google.rpc.Status refusedEnqueue(
      PipelineClient p, Batch.Builder batch, Code code, String reason) {
    String before = p.status().getSignature();
    var status = assertRefused(() -> p.enqueue(batch), code, reason);
    assertThat(p.status().getSignature()).as("a refused enqueue changes nothing").isEqualTo(before);
    return status;
  }

  // ---- accepted and deduplicated --------------------------------------------------------------

  @Test
  void enqueueBatch_whenAccepted_isQueuedReadyNowAndNotDeduplicated() {
    Batch.Builder b = batch("b1", "extract", 7).setRecords(42).setLagMs(3);

    assertThat(orders.enqueue(b)).isFalse();

    BatchView view = orders.batch("b1");
    assertThat(view.getBatch()).isEqualTo(b.build());
    assertThat(view.getState()).isEqualTo(BatchState.BATCH_STATE_QUEUED);
    assertThat(view.getAttempt()).isZero();
    assertThat(view.getReadyAtMs()).isEqualTo(grpc.clock().millis());
    assertThat(view.getLeaseDeadlineMs()).isZero();
    assertThat(orders.status().getQueuedCount()).isEqualTo(1);
  }

  @Test
  void enqueueBatch_repeatingAnAcceptedEnqueue_isDeduplicatedAndChangesNothing() {
    orders.enqueue(batch("b1", "extract", 1));
    String signature = orders.status().getSignature();

    assertThat(orders.enqueue(batch("b1", "extract", 1))).isTrue();

    assertThat(orders.status().getSignature()).isEqualTo(signature);
    assertThat(orders.batches()).hasSize(1);
  }

  @Test
  void enqueueBatch_repeatedAfterAckWithinDedupWindow_isDeduplicated_andAfterItIsNew() {
    orders.enqueue(batch("b1", "extract", 1));
    orders.startOne("b1");
    orders.ackProcessed("b1", 1);
    grpc.clock().advance(300_000 - 1);

    assertThat(orders.enqueue(batch("b1", "extract", 1))).as("within the window").isTrue();
    assertThat(orders.batches()).isEmpty();

    grpc.clock().advance(1);
    assertThat(orders.enqueue(batch("b1", "extract", 2)))
        .as("window passed: the idempotency key counts as absent")
        .isFalse();
    assertThat(orders.batches()).hasSize(1);
  }

  @Test
  void enqueueBatch_repeatWhileDraining_isDeduplicatedBeforeTheDrainCheck() {
    orders.enqueue(batch("b1", "extract", 1));
    orders.apply(drain());

    assertThat(orders.enqueue(batch("b1", "extract", 1))).isTrue();
  }

  @Test
  void enqueueBatch_whilePaused_isAccepted() {
    orders.apply(pause());

    assertThat(orders.enqueue(batch("b1", "extract", 1))).isFalse();
    assertThat(orders.status().getMode()).isEqualTo(PipelineMode.PIPELINE_MODE_PAUSED);
  }

  @Test
  void enqueueBatch_withKeyOf256Bytes_isAccepted() {
    String key = "é".repeat(128); // 2 bytes each in UTF-8
    assertThat(orders.enqueue(batch(key, "extract", 1).setIdempotencyKey(key))).isFalse();
  }

  @Test
  void enqueueBatch_toAnUnboundStageWhenAllowed_isAccepted() {
    PipelineClient p =
        PipelineClient.create(
            stub,
            PipelineSpec.newBuilder()
                .setName("free")
                .addStages("s")
                .setAllowUnboundStages(true)
                .build());
    assertThat(p.enqueue(batch("b1", "s", 1))).isFalse();
  }

  // ---- refusals, in the order of SPEC 3.1 -----------------------------------------------------

  @Test
  void enqueueBatch_whenPipelineUnknown_isNotFoundPipelineNotFound_evenForAnInvalidBatch() {
    assertRefused(
        () -> stub.enqueueBatch(request("nope", batch("", "extract", -1))),
        Code.NOT_FOUND,
        "PIPELINE_NOT_FOUND");
  }

  static Stream<Arguments> invalidBatches() {
    return Stream.of(
        invalid("empty key", b -> b.setKey(""), "batch.key"),
        invalid("key of 257 bytes", b -> b.setKey("k".repeat(257)), "batch.key"),
        invalid("key with C0 control", b -> b.setKey("a\u0007b"), "batch.key"),
        invalid("key with C1 control", b -> b.setKey("a\u0085b"), "batch.key"),
        invalid("key with DEL", b -> b.setKey("a\u007fb"), "batch.key"),
        invalid("empty idempotency_key", b -> b.setIdempotencyKey(""), "batch.idempotency_key"),
        invalid("idempotency_key of 257 bytes",
            b -> b.setIdempotencyKey("i".repeat(257)), "batch.idempotency_key"),
        invalid("idempotency_key with newline",
            b -> b.setIdempotencyKey("i\n"), "batch.idempotency_key"),
        invalid("empty stage", b -> b.setStage(""), "batch.stage"),
        invalid("0 records", b -> b.setRecords(0), "batch.records"),
        invalid("negative lag_ms", b -> b.setLagMs(-1), "batch.lag_ms"),
        invalid("negative sequence", b -> b.setSequence(-1), "batch.sequence"),
        invalid("missing batch", b -> b.clear(), "batch.key"));
  }

  private static Arguments invalid(
      String what, UnaryOperator<Batch.Builder> breakIt, String field) {
    return Arguments.of(what, breakIt, field);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidBatches")
  void enqueueBatch_withInvalidField_isInvalidArgumentInvalidBatchWithFieldViolation(
      String what, UnaryOperator<Batch.Builder> breakIt, String field) {
    Batch.Builder b = breakIt.apply(batch("b1", "extract", 1));

    var status = refusedEnqueue(orders, b, Code.INVALID_ARGUMENT, "INVALID_BATCH");

    assertThat(violatedFields(status)).containsExactly(field);
    assertThat(errorInfo(status).getMetadataMap())
        .containsEntry("pipeline", "orders")
        .containsEntry("field", field);
  }

  @Test
  void enqueueBatch_withIdempotencyKeyOfAnotherBatch_isAlreadyExistsIdempotencyConflict() {
    orders.enqueue(batch("b1", "extract", 1));

    for (Batch.Builder other :
        List.of(
            batch("b2", "extract", 2).setIdempotencyKey("idem-b1"),
            batch("b1", "load", 1),
            batch("b1", "extract", 1).setRecords(11),
            batch("b1", "extract", 2))) {
      refusedEnqueue(orders, other, Code.ALREADY_EXISTS, "IDEMPOTENCY_CONFLICT");
    }
  }

  @Test
  void enqueueBatch_whenALiveBatchHasTheKey_isAlreadyExistsBatchKeyExists() {
    orders.enqueue(batch("b1", "extract", 1));

    var status =
        refusedEnqueue(
            orders,
            batch("b1", "extract", 2).setIdempotencyKey("other"),
            Code.ALREADY_EXISTS,
            "BATCH_KEY_EXISTS");
    assertThat(status.getMessage()).contains("b1");
  }

  @Test
  void enqueueBatch_whenTheKeyIsLiveAsADeadLetter_isBatchKeyExists() {
    orders.enqueue(batch("b1", "extract", 1));
    orders.startOne("b1");
    orders.fail("b1", 1, "boom", true);

    refusedEnqueue(
        orders,
        batch("b1", "extract", 2).setIdempotencyKey("other"),
        Code.ALREADY_EXISTS,
        "BATCH_KEY_EXISTS");
  }

  @Test
  void enqueueBatch_toAnUndeclaredStage_isFailedPreconditionUnknownStage() {
    var status =
        refusedEnqueue(
            orders, batch("b1", "nope", 1), Code.FAILED_PRECONDITION, "UNKNOWN_STAGE");
    assertThat(status.getMessage()).contains("nope");
  }

  @Test
  void enqueueBatch_toAStageWithoutConnector_isFailedPreconditionNoConnector() {
    PipelineClient p =
        PipelineClient.create(stub, pipeline("partial", "bound").addStages("unbound").build());

    refusedEnqueue(p, batch("b1", "unbound", 1), Code.FAILED_PRECONDITION, "NO_CONNECTOR");
  }

  @Test
  void enqueueBatch_toAStageWithADisabledConnector_isFailedPreconditionConnectorDisabled() {
    orders.apply(disableConnector("extract-in"));

    refusedEnqueue(
        orders, batch("b1", "extract", 1), Code.FAILED_PRECONDITION, "CONNECTOR_DISABLED");
    assertThat(orders.enqueue(batch("b2", "load", 1))).as("other stages unaffected").isFalse();
  }

  @Test
  void enqueueBatch_aboveTheConnectorsMaxBatchRecords_isFailedPreconditionBatchTooLarge() {
    PipelineSpec.Builder spec = pipeline("small", "s");
    spec.setConnectors(0, spec.getConnectors(0).toBuilder().setMaxBatchRecords(100));
    PipelineClient p = PipelineClient.create(stub, spec.build());

    assertThat(p.enqueue(batch("ok", "s", 1).setRecords(100))).isFalse();
    refusedEnqueue(
        p, batch("big", "s", 2).setRecords(101), Code.FAILED_PRECONDITION, "BATCH_TOO_LARGE");
  }

  @Test
  void enqueueBatch_aboveMaxInFlightRecords_isFailedPreconditionBatchTooLarge() {
    PipelineClient p =
        PipelineClient.create(
            stub,
            pipeline("budget", "s")
                .setBoundary(Boundary.newBuilder().setMaxInFlightRecords(50))
                .build());

    refusedEnqueue(
        p, batch("big", "s", 1).setRecords(51), Code.FAILED_PRECONDITION, "BATCH_TOO_LARGE");
  }

  @Test
  void enqueueBatch_whileDrainingOrDrained_isFailedPreconditionPipelineDraining() {
    orders.enqueue(batch("b1", "extract", 1));
    orders.apply(drain());
    assertThat(orders.status().getMode()).isEqualTo(PipelineMode.PIPELINE_MODE_DRAINING);

    refusedEnqueue(
        orders, batch("b2", "extract", 2), Code.FAILED_PRECONDITION, "PIPELINE_DRAINING");

    orders.startOne("b1");
    orders.ackProcessed("b1", 1);
    assertThat(orders.status().getMode()).isEqualTo(PipelineMode.PIPELINE_MODE_DRAINED);
    refusedEnqueue(
        orders, batch("b2", "extract", 2), Code.FAILED_PRECONDITION, "PIPELINE_DRAINING");
  }

  @Test
  void enqueueBatch_withSequenceNotAboveTheStagesLast_isFailedPreconditionSequenceRegression() {
    orders.enqueue(batch("b1", "extract", 10));

    var equal =
        refusedEnqueue(
            orders, batch("b2", "extract", 10), Code.FAILED_PRECONDITION, "SEQUENCE_REGRESSION");
    var lower =
        refusedEnqueue(
            orders, batch("b3", "extract", 3), Code.FAILED_PRECONDITION, "SEQUENCE_REGRESSION");

    assertThat(equal.getMessage()).contains("10");
    assertThat(lower.getMessage()).contains("3").contains("10");
    assertThat(orders.enqueue(batch("b4", "load", 0)))
        .as("sequences are per stage")
        .isFalse();
    assertThat(orders.enqueue(batch("b5", "extract", 11))).isFalse();
  }

  @Test
  void enqueueBatch_whenQueueFull_isResourceExhaustedWithRetryInfo() {
    PipelineClient p =
        PipelineClient.create(
            stub,
            pipeline("tiny", "s")
                .setBoundary(Boundary.newBuilder().setMaxQueued(2))
                .setRetry(dev.lightspeed.orchestrator.v1.RetryPolicy.newBuilder()
                    .setInitialBackoffMs(1000))
                .build());
    p.enqueue(batch("b1", "s", 1));
    p.enqueue(batch("b2", "s", 2));

    var status =
        refusedEnqueue(p, batch("b3", "s", 3), Code.RESOURCE_EXHAUSTED, "QUEUE_FULL");
    assertThat(retryInfo(status)).as("RetryInfo of %s", status).isPresent();
    assertThat(Durations.toMillis(retryInfo(status).get().getRetryDelay())).isPositive();

    p.startOne("b1");
    p.fail("b1", 1, "boom", false);
    assertThat(p.status().getQueuedCount()).as("RETRY_WAIT counts as queued").isEqualTo(2);
    refusedEnqueue(p, batch("b3", "s", 3), Code.RESOURCE_EXHAUSTED, "QUEUE_FULL");

    p.startOne("b2");
    assertThat(p.enqueue(batch("b3", "s", 3))).as("room again").isFalse();
  }

  @Test
  void enqueueBatch_whenLagExceedsMaxLag_isResourceExhaustedLagExceededWithRetryInfo() {
    PipelineClient p =
        PipelineClient.create(
            stub,
            pipeline("laggy", "s").setBoundary(Boundary.newBuilder().setMaxLagMs(5000)).build());

    assertThat(p.enqueue(batch("ok", "s", 1).setLagMs(5000))).isFalse();
    var status =
        refusedEnqueue(
            p, batch("late", "s", 2).setLagMs(5001), Code.RESOURCE_EXHAUSTED, "LAG_EXCEEDED");
    assertThat(retryInfo(status)).isPresent();
    assertThat(Durations.toMillis(retryInfo(status).get().getRetryDelay())).isPositive();
  }

  // ---- EnqueueBatches -------------------------------------------------------------------------

  @Test
  void enqueueBatches_withRefusedItems_acceptsTheOthersAndAnswersEachInOrder() {
    orders.enqueue(batch("old", "extract", 1));

    EnqueueBatchesResponse resp =
        stub.enqueueBatches(
            EnqueueBatchesRequest.newBuilder()
                .setPipeline("orders")
                .addBatches(batch("a", "extract", 2))
                .addBatches(batch("b", "nope", 3))
                .addBatches(batch("", "extract", 4))
                .addBatches(batch("old", "extract", 1))
                .addBatches(batch("c", "extract", 5))
                .build());

    assertThat(resp.getResultsList())
        .extracting(EnqueueResult::getKey)
        .containsExactly("a", "b", "", "old", "c");
    List<EnqueueResult> r = resp.getResultsList();
    assertThat(r.get(0).hasError()).isFalse();
    assertThat(r.get(0).getDeduplicated()).isFalse();
    assertStatus(r.get(1).getError(), Code.FAILED_PRECONDITION, "UNKNOWN_STAGE");
    assertThat(r.get(1).getDeduplicated()).isFalse();
    var invalid = assertStatus(r.get(2).getError(), Code.INVALID_ARGUMENT, "INVALID_BATCH");
    assertThat(violatedFields(invalid)).containsExactly("batches[2].key");
    assertThat(r.get(3).hasError()).isFalse();
    assertThat(r.get(3).getDeduplicated()).isTrue();
    assertThat(r.get(4).hasError()).isFalse();
    assertThat(orders.batches())
        .extracting(v -> v.getBatch().getKey())
        .containsExactly("old", "a", "c");
  }

  @Test
  void enqueueBatches_laterItemsSeeEarlierAcceptedOnes() {
    EnqueueBatchesResponse resp =
        stub.enqueueBatches(
            EnqueueBatchesRequest.newBuilder()
                .setPipeline("orders")
                .addBatches(batch("a", "extract", 5))
                .addBatches(batch("a", "extract", 6).setIdempotencyKey("other"))
                .addBatches(batch("b", "extract", 5))
                .addBatches(batch("a", "extract", 5))
                .build());

    List<EnqueueResult> r = resp.getResultsList();
    assertThat(r.get(0).hasError()).isFalse();
    assertStatus(r.get(1).getError(), Code.ALREADY_EXISTS, "BATCH_KEY_EXISTS");
    var regression = assertStatus(r.get(2).getError(), Code.FAILED_PRECONDITION,
        "SEQUENCE_REGRESSION");
    assertThat(regression.getMessage()).contains("5");
    assertThat(r.get(3).getDeduplicated()).isTrue();
  }

  @Test
  void enqueueBatches_whenQueueFills_refusesTheRestWithRetryInfo() {
    PipelineClient p =
        PipelineClient.create(
            stub, pipeline("tiny", "s").setBoundary(Boundary.newBuilder().setMaxQueued(1)).build());

    EnqueueBatchesResponse resp =
        stub.enqueueBatches(
            EnqueueBatchesRequest.newBuilder()
                .setPipeline("tiny")
                .addBatches(batch("a", "s", 1))
                .addBatches(batch("b", "s", 2))
                .build());

    assertThat(resp.getResults(0).hasError()).isFalse();
    var full = assertStatus(resp.getResults(1).getError(), Code.RESOURCE_EXHAUSTED, "QUEUE_FULL");
    assertThat(retryInfo(full)).isPresent();
    assertThat(p.batches()).hasSize(1);
  }

  @Test
  void enqueueBatches_whenPipelineUnknown_refusesTheWholeCall() {
    assertRefused(
        () -> stub.enqueueBatches(
            EnqueueBatchesRequest.newBuilder()
                .setPipeline("nope")
                .addBatches(batch("a", "extract", 1))
                .build()),
        Code.NOT_FOUND,
        "PIPELINE_NOT_FOUND");
  }

  @Test
  void enqueueBatches_withNoBatches_answersNoResults() {
    EnqueueBatchesResponse resp =
        stub.enqueueBatches(EnqueueBatchesRequest.newBuilder().setPipeline("orders").build());
    assertThat(resp.getResultsList()).isEmpty();
  }
}
