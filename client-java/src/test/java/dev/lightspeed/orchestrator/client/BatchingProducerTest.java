package dev.lightspeed.orchestrator.client;

import static dev.lightspeed.orchestrator.client.ServerExtension.batch;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.client.errors.ErrorReason;
import dev.lightspeed.orchestrator.client.errors.OrchestratorException;
import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.ListBatchesRequest;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.ProcessOutcome;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.MethodDescriptor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** BatchingProducer and BatchingAcker against the real server. */
class BatchingProducerTest {
  @RegisterExtension static final ServerExtension server = new ServerExtension();

  private final OrchestratorClient client = server.client();

  @Test
  void manyEnqueues_goInFewCalls_eachGetsItsOwnResult_andOrderIsKept() throws Exception {
    String p = server.createPipeline("produce", 3, 30_000);
    AtomicInteger calls = new AtomicInteger();
    try (OrchestratorClient counted = server.clientBuilder().intercept(count(calls)).build();
        BatchingProducer producer = new BatchingProducer(counted, p,
            new BatchingOptions(100, Duration.ofMillis(20), 1 << 20))) {
      List<CompletableFuture<Boolean>> results = new ArrayList<>();
      for (int i = 1; i <= 500; i++) {
        results.add(producer.enqueue(batch("b" + i, i)));
      }
      results.add(producer.enqueue(
          batch("b1", 501).toBuilder().setIdempotencyKey("again").build())); // live key
      results.add(producer.enqueue(batch("b502", 502)));
      producer.flush().get(20, TimeUnit.SECONDS);

      for (int i = 0; i < 500; i++) {
        assertThat(results.get(i).get()).as("b%d deduplicated", i + 1).isFalse();
      }
      ExecutionException refused = org.assertj.core.api.Assertions.catchThrowableOfType(
          ExecutionException.class, () -> results.get(500).get());
      assertThat(((OrchestratorException) refused.getCause()).reason())
          .isEqualTo(ErrorReason.BATCH_KEY_EXISTS);
      assertThat(results.get(501).get()).isFalse();
      // 502 items of at most 100 per call: at least 6 calls, far fewer than 502
      assertThat(calls.get()).isBetween(6, 60);
    }
    // Sequences accepted in enqueue order: the stage's batches are listed in that order.
    var listed = client.listBatches(
        ListBatchesRequest.newBuilder().setPipeline(p).setPageSize(1000).build()).getBatchesList();
    assertThat(listed).hasSize(501);
    for (int i = 1; i < listed.size(); i++) {
      assertThat(listed.get(i).getBatch().getSequence())
          .isGreaterThan(listed.get(i - 1).getBatch().getSequence());
    }
  }

  @Test
  void asManyItemsAsTheLastCallReturned_leaveWithoutWaitingForTheTimer() throws Exception {
    String p = server.createPipeline("refill", 3, 30_000);
    AtomicInteger calls = new AtomicInteger();
    // A timer that never fires within the test: only flush() or the refill rule sends.
    try (OrchestratorClient counted = server.clientBuilder().intercept(count(calls)).build();
        BatchingProducer producer = new BatchingProducer(counted, p,
            new BatchingOptions(100, Duration.ofHours(1), 1 << 20))) {
      for (int i = 1; i <= 8; i++) {
        producer.enqueue(batch("a" + i, i));
      }
      producer.flush().get(20, TimeUnit.SECONDS); // one call of 8 returned
      List<CompletableFuture<Boolean>> refill = new ArrayList<>();
      for (int i = 9; i <= 16; i++) {
        refill.add(producer.enqueue(batch("a" + i, i)));
      }
      // No flush: the 8th item makes a call as large as the one that returned.
      CompletableFuture.allOf(refill.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
      assertThat(calls.get()).isEqualTo(2);
      producer.flush().get(20, TimeUnit.SECONDS); // nothing waits; the call has fully returned
      // Fewer than that wait for the timer (or a flush), as before.
      CompletableFuture<Boolean> alone = producer.enqueue(batch("a17", 17));
      assertThat(alone).isNotDone();
      producer.flush().get(20, TimeUnit.SECONDS);
      assertThat(alone.get()).isFalse();
    }
  }

  @Test
  void unbatched_sendsEachItemAlone() throws Exception {
    String p = server.createPipeline("single", 3, 30_000);
    AtomicInteger calls = new AtomicInteger();
    try (OrchestratorClient counted = server.clientBuilder().intercept(count(calls)).build();
        BatchingProducer producer =
            new BatchingProducer(counted, p, BatchingOptions.unbatched())) {
      List<CompletableFuture<Boolean>> results = new ArrayList<>();
      for (int i = 1; i <= 5; i++) {
        results.add(producer.enqueue(batch("b" + i, i)));
      }
      CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
    }
    assertThat(calls.get()).isEqualTo(5);
  }

  @Test
  void batchingAcker_acksEachBatch_andReportsEachError() throws Exception {
    String p = server.createPipeline("acks", 3, 30_000);
    List<Batch> batches = new ArrayList<>();
    for (int i = 1; i <= 50; i++) {
      batches.add(batch("b" + i, i));
    }
    client.enqueueBatches(p, batches);
    List<StartedBatch> started = client.startAvailable(p, 0);
    assertThat(started).hasSize(50);
    try (BatchingAcker acker = new BatchingAcker(client, p)) {
      List<CompletableFuture<ProcessOutcome>> outcomes = new ArrayList<>();
      for (StartedBatch s : started) {
        outcomes.add(acker.ack(s.getBatch().getKey(), s.getAttempt()));
      }
      CompletableFuture<ProcessOutcome> unknown = acker.ack("nope", 0);
      acker.flush().get(10, TimeUnit.SECONDS);
      for (CompletableFuture<ProcessOutcome> o : outcomes) {
        assertThat(o.get().hasProcessed()).isTrue();
      }
      ExecutionException refused = org.assertj.core.api.Assertions.catchThrowableOfType(
          ExecutionException.class, unknown::get);
      assertThat(((OrchestratorException) refused.getCause()).reason())
          .isEqualTo(ErrorReason.BATCH_NOT_FOUND);
    }
    assertThat(client.getStatus(p).getInFlightCount()).isZero();
  }

  /** Counts EnqueueBatches calls. */
  private static ClientInterceptor count(AtomicInteger calls) {
    return new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(
          MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        if (method.equals(OrchestratorServiceGrpc.getEnqueueBatchesMethod())) {
          calls.incrementAndGet();
        }
        return next.newCall(method, options);
      }
    };
  }
}
