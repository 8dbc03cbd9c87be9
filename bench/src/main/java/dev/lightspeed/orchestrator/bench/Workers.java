package dev.lightspeed.orchestrator.bench;

import dev.lightspeed.orchestrator.v1.AckBatchRequest;
import dev.lightspeed.orchestrator.v1.AckBatchesRequest;
import dev.lightspeed.orchestrator.v1.AckBatchesResponse;
import dev.lightspeed.orchestrator.v1.AckItem;
import dev.lightspeed.orchestrator.v1.AckResult;
import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.EnqueueBatchRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesResponse;
import dev.lightspeed.orchestrator.v1.EnqueueResult;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceStub;
import dev.lightspeed.orchestrator.v1.StartAvailableRequest;
import dev.lightspeed.orchestrator.v1.StartAvailableResponse;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc.HealthStub;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/** The units of work of the load generator. */
final class Workers {
  private Workers() {}

  /** The empty-RPC baseline: grpc.health.v1.Health/Check, which does nothing on the server. */
  static final class HealthCheck extends Worker {
    private static final HealthCheckRequest REQUEST = HealthCheckRequest.getDefaultInstance();
    private final HealthStub stub;

    HealthCheck(AtomicLong progress, HealthStub stub) {
      super(progress);
      this.stub = stub;
    }

    @Override
    int unitSize() {
      return 1;
    }

    @Override
    boolean lifecycleLatency() {
      return false;
    }

    @Override
    void startUnit() {
      long t0 = System.nanoTime();
      stub.check(REQUEST, reply("Health/Check", t0, r -> unitDone()));
    }
  }

  /**
   * A client that owns one stage of the pipeline (so its sequence numbers grow by themselves) and
   * runs whole life cycles on it: enqueue, StartAvailable (its stage only), ack.
   */
  abstract static class Lifecycles extends Worker {
    final OrchestratorServiceStub stub;
    final String pipeline;
    final String stage;
    final String keyPrefix;
    long sequence;
    long keyCounter;

    Lifecycles(
        AtomicLong progress, OrchestratorServiceStub stub, String pipeline, String stage,
        String keyPrefix) {
      super(progress);
      this.stub = stub;
      this.pipeline = pipeline;
      this.stage = stage;
      this.keyPrefix = keyPrefix;
    }

    Batch nextBatch() {
      String key = keyPrefix + (keyCounter++);
      return Batch.newBuilder()
          .setKey(key)
          .setStage(stage)
          .setRecords(10)
          .setIdempotencyKey(key)
          .setSequence(++sequence)
          .build();
    }

    /** StartAvailable(max, [stage]); checks that exactly {@code expected} batches started. */
    void startAvailable(int expected, Consumer<List<StartedBatch>> then) {
      long t0 = System.nanoTime();
      StartAvailableRequest request = StartAvailableRequest.newBuilder()
          .setPipeline(pipeline)
          .setMaxBatches(expected)
          .addStages(stage)
          .build();
      stub.startAvailable(request, new StreamObserver<StartAvailableResponse>() {
        private final List<StartedBatch> started = new ArrayList<>(expected);

        @Override
        public void onNext(StartAvailableResponse r) {
          started.add(r.getStarted());
        }

        @Override
        public void onError(Throwable t) {
          fail(new IllegalStateException("StartAvailable failed: " + t, t));
        }

        @Override
        public void onCompleted() {
          stats.record("StartAvailable", t0);
          if (started.size() != expected) {
            fail(new IllegalStateException(
                "StartAvailable started " + started.size() + " batches, expected " + expected));
            return;
          }
          try {
            then.accept(started);
          } catch (RuntimeException e) {
            fail(e);
          }
        }
      });
    }
  }

  /** Unary calls: EnqueueBatch, StartAvailable (max 1), AckBatch — 3 RPCs per life cycle. */
  static final class Unary extends Lifecycles {
    Unary(AtomicLong progress, OrchestratorServiceStub stub, String pipeline, String stage,
        String keyPrefix) {
      super(progress, stub, pipeline, stage, keyPrefix);
    }

    @Override
    int unitSize() {
      return 1;
    }

    @Override
    void startUnit() {
      Batch batch = nextBatch();
      long t0 = System.nanoTime();
      stub.enqueueBatch(
          EnqueueBatchRequest.newBuilder().setPipeline(pipeline).setBatch(batch).build(),
          reply("EnqueueBatch", t0, r -> {
            if (r.getDeduplicated()) {
              throw new IllegalStateException("enqueue of " + batch.getKey() + " deduplicated");
            }
            startAvailable(1, started -> ack(started.get(0)));
          }));
    }

    private void ack(StartedBatch s) {
      long t0 = System.nanoTime();
      stub.ackBatch(
          AckBatchRequest.newBuilder()
              .setPipeline(pipeline)
              .setKey(s.getBatch().getKey())
              .setAttempt(s.getAttempt())
              .build(),
          reply("AckBatch", t0, r -> {
            if (!r.getOutcome().hasProcessed()) {
              throw new IllegalStateException("ack answered " + r.getOutcome());
            }
            unitDone();
          }));
    }
  }

  /**
   * Bulk calls: EnqueueBatches of {@code size}, StartAvailable (max size) streaming them back,
   * AckBatches of size — 3 RPCs per {@code size} life cycles.
   */
  static final class Bulk extends Lifecycles {
    private final int size;

    Bulk(AtomicLong progress, OrchestratorServiceStub stub, String pipeline, String stage,
        String keyPrefix, int size) {
      super(progress, stub, pipeline, stage, keyPrefix);
      this.size = size;
    }

    @Override
    int unitSize() {
      return size;
    }

    @Override
    void startUnit() {
      EnqueueBatchesRequest.Builder request = EnqueueBatchesRequest.newBuilder().setPipeline(pipeline);
      for (int i = 0; i < size; i++) {
        request.addBatches(nextBatch());
      }
      long t0 = System.nanoTime();
      stub.enqueueBatches(request.build(), reply("EnqueueBatches", t0, r -> {
        checkEnqueued(r);
        startAvailable(size, this::ack);
      }));
    }

    private void checkEnqueued(EnqueueBatchesResponse r) {
      for (EnqueueResult e : r.getResultsList()) {
        if (e.hasError() || e.getDeduplicated()) {
          throw new IllegalStateException("enqueue of " + e.getKey() + " refused: " + e);
        }
      }
    }

    private void ack(List<StartedBatch> started) {
      AckBatchesRequest.Builder request = AckBatchesRequest.newBuilder().setPipeline(pipeline);
      for (StartedBatch s : started) {
        request.addAcks(AckItem.newBuilder().setKey(s.getBatch().getKey()).setAttempt(s.getAttempt()));
      }
      long t0 = System.nanoTime();
      stub.ackBatches(request.build(), reply("AckBatches", t0, (AckBatchesResponse r) -> {
        for (AckResult a : r.getResultsList()) {
          if (a.hasError() || !a.getOutcome().hasProcessed()) {
            throw new IllegalStateException("ack of " + a.getKey() + " refused: " + a);
          }
        }
        unitDone();
      }));
    }
  }
}
