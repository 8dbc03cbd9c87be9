package dev.lightspeed.orchestrator.bench;

import dev.lightspeed.orchestrator.v1.EnqueueBatchRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesRequest;
import dev.lightspeed.orchestrator.v1.EnqueueResult;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceStub;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import dev.lightspeed.orchestrator.v1.WorkAck;
import dev.lightspeed.orchestrator.v1.WorkOpen;
import dev.lightspeed.orchestrator.v1.WorkRequest;
import dev.lightspeed.orchestrator.v1.WorkResponse;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Life cycles on the Work stream (SPEC 4.2): each client owns a stage and one Work stream on it
 * (capacity = the unit's size); a unit is an enqueue (EnqueueBatch, or EnqueueBatches of
 * {@code size}), the server pushing the started batches, and one ack per batch on the stream.
 * Compared with the unary and bulk cases, StartAvailable and the ack RPCs are gone: the starts
 * come by themselves.
 *
 * <p>The started messages may arrive before the enqueue's reply (they are sent once durable,
 * like the reply): the unit ends when the reply and every ack's result are in, whatever the
 * order. All callbacks of one client run one after the other on its channel's event loop, but
 * the enqueue reply and the stream are two calls, so the counters are guarded.
 */
final class StreamWorkers {
  private StreamWorkers() {}

  static final class Stream extends Workers.Lifecycles {
    private final int size;
    private final StreamObserver<WorkRequest> requests;
    private long nextRequestId;
    // guarded by this
    private int acksAnswered;
    private boolean enqueued;
    private long ackStartNanos;

    Stream(AtomicLong progress, OrchestratorServiceStub stub, String pipeline, String stage,
        String keyPrefix, int size) {
      super(progress, stub, pipeline, stage, keyPrefix);
      this.size = size;
      this.requests = stub.work(new StreamObserver<>() {
        @Override
        public void onNext(WorkResponse r) {
          if (r.hasStarted()) {
            ack(r.getStarted());
          } else if (r.getResult().hasError()) {
            fail(new IllegalStateException("ack refused: " + r.getResult().getError()));
          } else {
            acked();
          }
        }

        @Override
        public void onError(Throwable t) {
          fail(new IllegalStateException("Work stream failed: " + t, t));
        }

        @Override
        public void onCompleted() {
          fail(new IllegalStateException("Work stream ended"));
        }
      });
      requests.onNext(WorkRequest.newBuilder().setOpen(WorkOpen.newBuilder()
          .setPipeline(pipeline).addStages(stage).setCapacity(size)).build());
    }

    @Override
    int unitSize() {
      return size;
    }

    @Override
    void startUnit() {
      synchronized (this) {
        acksAnswered = 0;
        enqueued = false;
      }
      long t0 = System.nanoTime();
      ackStartNanos = t0;
      if (size == 1) {
        stub.enqueueBatch(
            EnqueueBatchRequest.newBuilder().setPipeline(pipeline).setBatch(nextBatch()).build(),
            reply("EnqueueBatch", t0, r -> enqueuedDone()));
        return;
      }
      EnqueueBatchesRequest.Builder request = EnqueueBatchesRequest.newBuilder().setPipeline(pipeline);
      for (int i = 0; i < size; i++) {
        request.addBatches(nextBatch());
      }
      stub.enqueueBatches(request.build(), reply("EnqueueBatches", t0, r -> {
        for (EnqueueResult e : r.getResultsList()) {
          if (e.hasError() || e.getDeduplicated()) {
            throw new IllegalStateException("enqueue of " + e.getKey() + " refused: " + e);
          }
        }
        enqueuedDone();
      }));
    }

    private synchronized void ack(StartedBatch s) {
      requests.onNext(WorkRequest.newBuilder().setAck(WorkAck.newBuilder()
          .setRequestId(++nextRequestId)
          .setKey(s.getBatch().getKey())
          .setAttempt(s.getAttempt())).build());
    }

    private void acked() {
      boolean done;
      synchronized (this) {
        done = ++acksAnswered == size && enqueued;
      }
      if (done) {
        stats.record("Work ack", ackStartNanos);
        unitDone();
      }
    }

    private void enqueuedDone() {
      boolean done;
      synchronized (this) {
        enqueued = true;
        done = acksAnswered == size;
      }
      if (done) {
        unitDone();
      }
    }

    /** Ends the stream after the case (its batches are all acked by then). */
    void close() {
      synchronized (this) {
        requests.onCompleted();
      }
    }
  }
}
