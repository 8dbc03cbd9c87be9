package dev.lightspeed.orchestrator.client;

import static dev.lightspeed.orchestrator.client.ServerExtension.batch;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.lightspeed.orchestrator.client.errors.ErrorReason;
import dev.lightspeed.orchestrator.client.errors.NotFoundException;
import dev.lightspeed.orchestrator.client.errors.QueueFullException;
import dev.lightspeed.orchestrator.v1.Boundary;
import dev.lightspeed.orchestrator.v1.Event;
import dev.lightspeed.orchestrator.v1.EventType;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class WatchAndAsyncTest {
  @RegisterExtension static final ServerExtension server = new ServerExtension();

  private final OrchestratorClient client = server.client();
  private final AsyncOrchestratorClient async = client.async();

  @Test
  void asyncCalls_completeWithTheServersAnswers() throws Exception {
    String p = server.createPipeline("async", 3, 30_000);
    assertThat(async.enqueueBatch(p, batch("b1", 1)).get(5, TimeUnit.SECONDS)).isFalse();
    List<StartedBatch> started = async.startAvailable(p, 0).get(5, TimeUnit.SECONDS);
    assertThat(started).extracting(s -> s.getBatch().getKey()).containsExactly("b1");
    assertThat(async.extendLease(p, "b1", 1).get(5, TimeUnit.SECONDS)).isPositive();
    assertThat(async.ackBatch(p, "b1", 1).get(5, TimeUnit.SECONDS).getProcessed().getAttempt())
        .isEqualTo(1);
    assertThat(async.getStatus(p).get(5, TimeUnit.SECONDS).getInFlightCount()).isZero();
    assertThat(async.completeRun(p).get(5, TimeUnit.SECONDS)).isEmpty();
  }

  @Test
  void asyncRefusal_failsTheFuture_withTheTypedException() throws Exception {
    String p = ServerExtension.uniqueName("async-full");
    client.createPipeline(
        ServerExtension.spec(p, 3, 30_000)
            .setBoundary(Boundary.newBuilder().setMaxQueued(1))
            .build());
    async.enqueueBatch(p, batch("b1", 1)).get(5, TimeUnit.SECONDS);

    Throwable t = catchThrowable(() -> async.enqueueBatch(p, batch("b2", 2)).get(5, TimeUnit.SECONDS));
    assertThat(t).isInstanceOf(ExecutionException.class);
    assertThat(t.getCause()).isInstanceOfSatisfying(
        QueueFullException.class,
        e -> assertThat(e.retryDelay()).isEqualTo(Duration.ofSeconds(1)));
  }

  @Test
  @SuppressWarnings("try") // closes the stream inside its try-with-resources on purpose
  void watchIterator_yieldsStartedBatchesInStartOrder_andCloseEndsIt() throws Exception {
    String p = server.createPipeline("watch", 3, 30_000);
    try (StartedBatchStream stream = client.watchStarted(p)) {
      awaitWatching(p, stream);
      client.enqueueBatches(p, List.of(batch("a", 10), batch("b", 11), batch("c", 12)));
      List<StartedBatch> started = client.startAvailable(p, 0);
      assertThat(started).hasSize(3);

      for (StartedBatch expected : started) {
        assertThat(stream.poll(Duration.ofSeconds(5))).contains(expected);
      }
      assertThat(stream.poll(Duration.ofMillis(50))).isEmpty(); // nothing more started
      stream.close();
      assertThat(stream.hasNext()).isFalse();
      assertThat(stream.poll(Duration.ofMillis(10))).isEmpty();
    }
  }

  @Test
  void watchIterator_whenThePipelineIsDeleted_throwsNotFound() throws Exception {
    String p = server.createPipeline("watch-del", 3, 30_000);
    try (StartedBatchStream stream = client.watchStarted(p)) {
      awaitWatching(p, stream);
      client.deletePipeline(p, true);
      Throwable t = catchThrowable(stream::hasNext);
      assertThat(t).isInstanceOfSatisfying(
          NotFoundException.class,
          e -> assertThat(e.reason()).isEqualTo(ErrorReason.PIPELINE_NOT_FOUND));
    }
  }

  @Test
  void watchPublisher_deliversOnlyWhatWasRequested_andCancelEndsTheStream() throws Exception {
    String p = server.createPipeline("flow", 3, 30_000);
    List<StartedBatch> received = new CopyOnWriteArrayList<>();
    AtomicReference<Flow.Subscription> subscription = new AtomicReference<>();
    AtomicReference<Throwable> error = new AtomicReference<>();
    async.watchStarted(p).subscribe(new Flow.Subscriber<>() {
      @Override
      public void onSubscribe(Flow.Subscription s) {
        subscription.set(s);
        s.request(2);
      }

      @Override
      public void onNext(StartedBatch item) {
        received.add(item);
      }

      @Override
      public void onError(Throwable t) {
        error.set(t);
      }

      @Override
      public void onComplete() {
        error.set(new AssertionError("completed"));
      }
    });

    // Probe batches until the stream is surely established; each probe is received (demand 2).
    long seq = 1;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (received.isEmpty()) {
      assertThat(System.nanoTime()).as("stream established in time").isLessThan(deadline);
      client.enqueueBatch(p, batch("probe" + seq, seq));
      client.startAvailable(p, 0);
      seq++;
      Thread.sleep(20);
    }
    for (int i = 0; i < 5; i++, seq++) {
      client.enqueueBatch(p, batch("x" + seq, seq));
    }
    client.startAvailable(p, 0);
    ServerExtension.await(Duration.ofSeconds(5), "demand of 2 used up", () -> received.size() == 2);
    Thread.sleep(100);
    assertThat(received).as("no more than requested").hasSize(2);

    subscription.get().request(1);
    ServerExtension.await(Duration.ofSeconds(5), "one more", () -> received.size() == 3);
    subscription.get().cancel();
    assertThat(error.get()).isNull();
    assertThat(received).extracting(s -> s.getAttempt()).containsOnly(1);
  }

  @Test
  void watchEventsPublisher_replaysAfterTheGivenId_onlyTheRequestedTypes() throws Exception {
    String p = server.createPipeline("events-flow", 3, 30_000);
    for (long seq = 1; seq <= 3; seq++) {
      client.enqueueBatch(p, batch("e" + seq, seq));
    }
    client.startAvailable(p, 0); // three STARTED events between the ENQUEUED ones and nothing else

    List<Event> all = collectEvents(p, 0L, List.of(EventType.EVENT_TYPE_ENQUEUED), 3);
    assertThat(all).extracting(e -> e.getEnqueued().getKey()).containsExactly("e1", "e2", "e3");
    assertThat(all).extracting(Event::getEventId).isSorted();

    List<Event> after = collectEvents(p, all.get(0).getEventId(), List.of(), 5);
    assertThat(after.get(0).getEventId()).isEqualTo(all.get(0).getEventId() + 1);
    assertThat(after).extracting(Event::getPayloadCase).containsExactly(
        Event.PayloadCase.ENQUEUED, Event.PayloadCase.ENQUEUED,
        Event.PayloadCase.STARTED, Event.PayloadCase.STARTED, Event.PayloadCase.STARTED);
  }

  /** Subscribes to WatchEvents, takes {@code count} events, then cancels. */
  private List<Event> collectEvents(String p, Long after, List<EventType> types, int count)
      throws InterruptedException {
    List<Event> received = new CopyOnWriteArrayList<>();
    AtomicReference<Flow.Subscription> subscription = new AtomicReference<>();
    AtomicReference<Throwable> error = new AtomicReference<>();
    async.watchEvents(p, after, types).subscribe(new Flow.Subscriber<>() {
      @Override
      public void onSubscribe(Flow.Subscription s) {
        subscription.set(s);
        s.request(count);
      }

      @Override
      public void onNext(Event item) {
        received.add(item);
      }

      @Override
      public void onError(Throwable t) {
        error.set(t);
      }

      @Override
      public void onComplete() {
        error.set(new AssertionError("completed"));
      }
    });
    ServerExtension.await(Duration.ofSeconds(10), count + " events",
        () -> received.size() == count || error.get() != null);
    subscription.get().cancel();
    assertThat(error.get()).isNull();
    return List.copyOf(received);
  }

  @Test
  void watchPublisher_nonPositiveRequest_signalsIllegalArgument() throws Exception {
    String p = server.createPipeline("flow-bad", 3, 30_000);
    AtomicReference<Throwable> error = new AtomicReference<>();
    async.watchStarted(p).subscribe(new Flow.Subscriber<>() {
      @Override
      public void onSubscribe(Flow.Subscription s) {
        s.request(0);
      }

      @Override
      public void onNext(StartedBatch item) {}

      @Override
      public void onError(Throwable t) {
        error.set(t);
      }

      @Override
      public void onComplete() {}
    });
    ServerExtension.await(Duration.ofSeconds(5), "onError", () -> error.get() != null);
    assertThat(error.get()).isInstanceOf(IllegalArgumentException.class);
  }

  /**
   * WatchStarted replays nothing, so a test must know the stream is registered on the server
   * before it starts batches: start probe batches until one shows up on the stream.
   */
  private void awaitWatching(String p, StartedBatchStream stream) {
    for (int i = 1; i <= 100; i++) {
      client.enqueueBatch(p, batch("probe-" + i, i));
      client.startAvailable(p, 0);
      client.ackBatch(p, "probe-" + i, 1);
      Optional<StartedBatch> seen = stream.poll(Duration.ofMillis(50));
      if (seen.isPresent()) {
        // drain the probes started before this one showed up
        while (stream.poll(Duration.ofMillis(20)).isPresent()) {}
        return;
      }
    }
    throw new AssertionError("the watch stream never showed a started batch");
  }
}
