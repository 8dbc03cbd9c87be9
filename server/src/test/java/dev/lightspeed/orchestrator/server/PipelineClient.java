package dev.lightspeed.orchestrator.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.v1.AckBatchRequest;
import dev.lightspeed.orchestrator.v1.AckBatchesRequest;
import dev.lightspeed.orchestrator.v1.AckItem;
import dev.lightspeed.orchestrator.v1.AckResult;
import dev.lightspeed.orchestrator.v1.ApplyActionRequest;
import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.BatchState;
import dev.lightspeed.orchestrator.v1.BatchView;
import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesRequest;
import dev.lightspeed.orchestrator.v1.EnqueueResult;
import dev.lightspeed.orchestrator.v1.ExtendLeaseRequest;
import dev.lightspeed.orchestrator.v1.FailBatchRequest;
import dev.lightspeed.orchestrator.v1.GetStatusRequest;
import dev.lightspeed.orchestrator.v1.GetStatusResponse;
import dev.lightspeed.orchestrator.v1.ListBatchesRequest;
import dev.lightspeed.orchestrator.v1.ListBatchesResponse;
import dev.lightspeed.orchestrator.v1.OperatorAction;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceBlockingStub;
import dev.lightspeed.orchestrator.v1.PipelineSpec;
import dev.lightspeed.orchestrator.v1.ProcessOutcome;
import dev.lightspeed.orchestrator.v1.ProcessResult;
import dev.lightspeed.orchestrator.v1.StartAvailableRequest;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The blocking stub bound to one pipeline, with the calls tests make over and over. */
public final class PipelineClient {
  final OrchestratorServiceBlockingStub stub;
  final String pipeline;

  PipelineClient(OrchestratorServiceBlockingStub stub, String pipeline) {
    this.stub = stub;
    this.pipeline = pipeline;
  }

  /** Creates {@code spec} and returns a client for it. */
  public static PipelineClient create(OrchestratorServiceBlockingStub stub, PipelineSpec spec) {
    stub.createPipeline(CreatePipelineRequest.newBuilder().setSpec(spec).build());
    return new PipelineClient(stub, spec.getName());
  }

  public boolean enqueue(Batch.Builder batch) {
    return stub.enqueueBatch(
            EnqueueBatchRequest.newBuilder().setPipeline(pipeline).setBatch(batch).build())
        .getDeduplicated();
  }

  /** EnqueueBatches; every item must be accepted. */
  public void enqueueAll(List<Batch.Builder> batches) {
    EnqueueBatchesRequest.Builder req = EnqueueBatchesRequest.newBuilder().setPipeline(pipeline);
    batches.forEach(req::addBatches);
    for (EnqueueResult r : stub.enqueueBatches(req.build()).getResultsList()) {
      assertThat(r.hasError()).as("enqueue of %s: %s", r.getKey(), r.getError()).isFalse();
    }
  }

  /** AckBatches of {@code started}; every item must come back processed. */
  public List<ProcessResult> ackAll(List<StartedBatch> started) {
    AckBatchesRequest.Builder req = AckBatchesRequest.newBuilder().setPipeline(pipeline);
    started.forEach(
        s -> req.addAcks(
            AckItem.newBuilder().setKey(s.getBatch().getKey()).setAttempt(s.getAttempt())));
    List<ProcessResult> results = new ArrayList<>();
    for (AckResult r : stub.ackBatches(req.build()).getResultsList()) {
      assertThat(r.getOutcome().getOutcomeCase())
          .as("ack of %s: %s", r.getKey(), r.getError())
          .isEqualTo(ProcessOutcome.OutcomeCase.PROCESSED);
      results.add(r.getOutcome().getProcessed());
    }
    return results;
  }

  /** StartAvailable, read to its end. */
  public List<StartedBatch> start(int maxBatches, String... stages) {
    List<StartedBatch> started = new ArrayList<>();
    stub.startAvailable(
            StartAvailableRequest.newBuilder()
                .setPipeline(pipeline)
                .setMaxBatches(maxBatches)
                .addAllStages(Arrays.asList(stages))
                .build())
        .forEachRemaining(r -> started.add(r.getStarted()));
    return started;
  }

  public List<StartedBatch> startAll() {
    return start(0);
  }

  /** Starts exactly one batch, which must be {@code key}. */
  public StartedBatch startOne(String key) {
    List<StartedBatch> started = start(1);
    assertThat(started).extracting(s -> s.getBatch().getKey()).containsExactly(key);
    return started.get(0);
  }

  public ProcessOutcome ack(String key, int attempt) {
    return stub.ackBatch(
            AckBatchRequest.newBuilder()
                .setPipeline(pipeline)
                .setKey(key)
                .setAttempt(attempt)
                .build())
        .getOutcome();
  }

  public ProcessResult ackProcessed(String key, int attempt) {
    ProcessOutcome outcome = ack(key, attempt);
    assertThat(outcome.getOutcomeCase()).isEqualTo(ProcessOutcome.OutcomeCase.PROCESSED);
    return outcome.getProcessed();
  }

  public ProcessOutcome fail(String key, int attempt, String reason, boolean nonRetryable) {
    return stub.failBatch(
            FailBatchRequest.newBuilder()
                .setPipeline(pipeline)
                .setKey(key)
                .setAttempt(attempt)
                .setReason(reason)
                .setNonRetryable(nonRetryable)
                .build())
        .getOutcome();
  }

  long extendLease(String key, int attempt) {
    return stub.extendLease(
            ExtendLeaseRequest.newBuilder()
                .setPipeline(pipeline)
                .setKey(key)
                .setAttempt(attempt)
                .build())
        .getLeaseDeadlineMs();
  }

  public void apply(OperatorAction action) {
    stub.applyAction(
        ApplyActionRequest.newBuilder().setPipeline(pipeline).setAction(action).build());
  }

  public GetStatusResponse status() {
    return stub.getStatus(GetStatusRequest.newBuilder().setPipeline(pipeline).build());
  }

  /** Every live batch, page after page. */
  public List<BatchView> batches() {
    List<BatchView> all = new ArrayList<>();
    String token = "";
    do {
      ListBatchesResponse page =
          stub.listBatches(
              ListBatchesRequest.newBuilder().setPipeline(pipeline).setPageToken(token).build());
      all.addAll(page.getBatchesList());
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    return all;
  }

  /** The live batch {@code key}, which must exist. */
  public BatchView batch(String key) {
    return batches().stream()
        .filter(v -> v.getBatch().getKey().equals(key))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no live batch " + key));
  }

  public BatchState state(String key) {
    return batch(key).getState();
  }
}
