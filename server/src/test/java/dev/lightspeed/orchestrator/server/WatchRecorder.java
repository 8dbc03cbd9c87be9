package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.v1.StartedBatch;
import dev.lightspeed.orchestrator.v1.WatchStartedResponse;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Records a WatchStarted stream: the started batches as they arrive, and how it ended. */
final class WatchRecorder implements StreamObserver<WatchStartedResponse> {
  /** The stage that {@link #awaitEstablished} sends its probe batches to. */
  static final String PROBE_STAGE = "probe";

  private final BlockingQueue<StartedBatch> started = new LinkedBlockingQueue<>();
  private final CountDownLatch ended = new CountDownLatch(1);
  private volatile Throwable error;

  @Override
  public void onNext(WatchStartedResponse value) {
    started.add(value.getStarted());
  }

  @Override
  public void onError(Throwable t) {
    error = t;
    ended.countDown();
  }

  @Override
  public void onCompleted() {
    ended.countDown();
  }

  /** The next started batch that is not a probe, waiting at most 10 s. */
  StartedBatch next() throws InterruptedException {
    while (true) {
      StartedBatch s = started.poll(10, TimeUnit.SECONDS);
      assertThat(s).as("a started batch within 10 s").isNotNull();
      if (!s.getBatch().getStage().equals(PROBE_STAGE)) {
        return s;
      }
    }
  }

  /** The next {@code n} started batches that are not probes. */
  List<StartedBatch> next(int n) throws InterruptedException {
    List<StartedBatch> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(next());
    }
    return out;
  }

  /** The next received started batch (probes too) if one is already here, else null. */
  StartedBatch poll() {
    return started.poll();
  }

  /** How the stream ended, waiting at most 10 s; null if it completed normally. */
  Throwable awaitEnd() throws InterruptedException {
    assertThat(ended.await(10, TimeUnit.SECONDS)).as("the watch stream ended within 10 s").isTrue();
    return error;
  }

  boolean hasEnded() {
    return ended.getCount() == 0;
  }

  /**
   * Waits until the watch is registered on the server, which a client cannot see otherwise: runs
   * probe lifecycles (enqueue, start, ack) on {@link #PROBE_STAGE} until one of them reaches this
   * watcher, for at most 10 s. Later probes that still arrive are skipped by {@link #next()}.
   */
  void awaitEstablished(PipelineClient pipeline) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    for (long seq = Probes.next(); System.nanoTime() < deadline; seq = Probes.next()) {
      String key = "probe-" + seq;
      pipeline.enqueue(batch(key, PROBE_STAGE, seq));
      for (StartedBatch s : pipeline.start(0, PROBE_STAGE)) {
        pipeline.ackProcessed(s.getBatch().getKey(), s.getAttempt());
      }
      StartedBatch seen = started.poll(50, TimeUnit.MILLISECONDS);
      if (seen != null) {
        assertThat(seen.getBatch().getStage()).isEqualTo(PROBE_STAGE);
        return;
      }
    }
    throw new AssertionError("the watch saw no probe batch within 10 s");
  }

  /** Probe sequence numbers: increasing across every probe of the test JVM. */
  private static final class Probes {
    private static final java.util.concurrent.atomic.AtomicLong NEXT =
        new java.util.concurrent.atomic.AtomicLong();

    static long next() {
      return NEXT.incrementAndGet();
    }
  }
}
