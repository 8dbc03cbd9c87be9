package dev.lightspeed.orchestrator.client;

import static dev.lightspeed.orchestrator.client.ServerExtension.await;
import static dev.lightspeed.orchestrator.client.ServerExtension.batch;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.client.errors.OrchestratorErrors;
import dev.lightspeed.orchestrator.v1.AckItem;
import dev.lightspeed.orchestrator.v1.AckResult;
import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.BatchState;
import dev.lightspeed.orchestrator.v1.BatchView;
import dev.lightspeed.orchestrator.v1.Boundary;
import dev.lightspeed.orchestrator.v1.DeadLetterRecord;
import dev.lightspeed.orchestrator.v1.GetStatusResponse;
import dev.lightspeed.orchestrator.v1.ListBatchesRequest;
import dev.lightspeed.orchestrator.v1.ListBatchesResponse;
import dev.lightspeed.orchestrator.v1.ListDeadLettersRequest;
import dev.lightspeed.orchestrator.v1.ListDeadLettersResponse;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.RetryPolicy;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class WorkerTest {
  static final FlakyInterceptor calls = new FlakyInterceptor();
  @RegisterExtension static final ServerExtension server = new ServerExtension(calls);

  private final OrchestratorClient client = server.client();

  /** What the handler did on one attempt. */
  enum Result {
    OK,
    RETRYABLE,
    NON_RETRYABLE
  }

  record Attempt(int attempt, Result result) {}

  @Test
  void tenThousandBatches_failingAtRandom_eachEndsExactlyAsTheRetryPolicySays() throws Exception {
    int total = 10_000;
    int maxAttempts = 3;
    int concurrency = 24;
    long seed = 20_261_126L;
    String p = ServerExtension.uniqueName("many");
    client.createPipeline(
        ServerExtension.spec(p, maxAttempts, 60_000)
            .setBoundary(Boundary.newBuilder().setMaxQueued(total).setLeaseMs(60_000))
            .setRetry(RetryPolicy.newBuilder().setMaxAttempts(maxAttempts).setInitialBackoffMs(0))
            .build());
    List<Batch> all = new ArrayList<>();
    for (int i = 0; i < total; i++) {
      all.add(batch("k" + i, i + 1));
    }
    for (int from = 0; from < total; from += 1000) {
      assertThat(client.enqueueBatches(p, all.subList(from, from + 1000)))
          .allSatisfy(r -> assertThat(r.hasError()).as(r.getError().getMessage()).isFalse());
    }

    Map<String, List<Attempt>> seen = new ConcurrentHashMap<>();
    AtomicInteger active = new AtomicInteger();
    AtomicInteger maxActive = new AtomicInteger();
    BatchHandler handler =
        started -> {
          maxActive.accumulateAndGet(active.incrementAndGet(), Math::max);
          try {
            String key = started.getBatch().getKey();
            // Seeded per (key, attempt), so the outcome does not depend on thread scheduling.
            double roll =
                new Random(seed * 31 + key.hashCode() * 17L + started.getAttempt()).nextDouble();
            Result result =
                roll < 0.6 ? Result.OK : roll < 0.9 ? Result.RETRYABLE : Result.NON_RETRYABLE;
            seen.computeIfAbsent(key, k -> new ArrayList<>())
                .add(new Attempt(started.getAttempt(), result));
            switch (result) {
              case RETRYABLE -> throw new IllegalStateException(
                  "flaky " + key + " #" + started.getAttempt());
              case NON_RETRYABLE -> throw new NonRetryableException(
                  "poison " + key + " #" + started.getAttempt());
              case OK -> {}
            }
          } finally {
            active.decrementAndGet();
          }
        };

    long t0 = System.nanoTime();
    Worker worker =
        Worker.start(client, WorkerOptions.builder(p).concurrency(concurrency).build(), handler);
    try {
      // Watch the worker's own counters: GetStatus hashes the whole state under the pipeline's
      // lock (tens of ms with 10,000 live batches), so polling it would slow the run down.
      await(Duration.ofSeconds(60), "every batch acked or dead-lettered", () -> {
        WorkerStats s = worker.stats();
        return s.acked() + s.deadLettered() >= total;
      });
    } finally {
      worker.close();
    }
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    GetStatusResponse status = client.getStatus(p);
    assertThat(status.getQueuedCount()).isZero();
    assertThat(status.getInFlightCount()).isZero();
    assertThat(status.getValid()).as(status.getInvalidReason()).isTrue();

    // What the retry policy says each batch must have become, from what the handler saw.
    Map<String, Integer> expectDone = new HashMap<>();
    Map<String, String> expectDead = new HashMap<>();
    long attempts = 0;
    assertThat(seen).hasSize(total);
    for (var e : seen.entrySet()) {
      List<Attempt> tries = e.getValue();
      attempts += tries.size();
      for (int i = 0; i < tries.size(); i++) {
        assertThat(tries.get(i).attempt()).as(e.getKey() + " attempts in order").isEqualTo(i + 1);
      }
      Attempt last = tries.get(tries.size() - 1);
      for (Attempt earlier : tries.subList(0, tries.size() - 1)) {
        assertThat(earlier.result()).as(e.getKey() + " retried only after a retryable failure")
            .isEqualTo(Result.RETRYABLE);
      }
      switch (last.result()) {
        case OK -> expectDone.put(e.getKey(), last.attempt());
        case NON_RETRYABLE -> expectDead.put(e.getKey(), "poison " + e.getKey() + " #" + last.attempt());
        case RETRYABLE -> {
          assertThat(last.attempt()).as(e.getKey() + " stopped retrying early").isEqualTo(maxAttempts);
          expectDead.put(e.getKey(), "flaky " + e.getKey() + " #" + last.attempt());
        }
      }
    }

    // Dead letters: exactly the expected keys, with the handler's message as the reason.
    Map<String, String> dead = new HashMap<>();
    String token = "";
    do {
      ListDeadLettersResponse page =
          client.listDeadLetters(
              ListDeadLettersRequest.newBuilder().setPipeline(p).setPageSize(1000).setPageToken(token).build());
      for (DeadLetterRecord d : page.getDeadLettersList()) {
        dead.put(d.getBatchKey(), d.getReason());
      }
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    assertThat(dead).isEqualTo(expectDead);

    // The only live batches left are those dead letters.
    List<BatchView> live = new ArrayList<>();
    token = "";
    do {
      ListBatchesResponse page =
          client.listBatches(
              ListBatchesRequest.newBuilder().setPipeline(p).setPageSize(1000).setPageToken(token).build());
      live.addAll(page.getBatchesList());
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    assertThat(live).hasSize(expectDead.size());
    assertThat(live).allSatisfy(
        b -> assertThat(b.getState()).isEqualTo(BatchState.BATCH_STATE_DEAD_LETTERED));

    // DONE batches: acking again (acks are idempotent) returns the processed outcome of exactly
    // the attempt whose handler succeeded.
    List<String> doneKeys = new ArrayList<>(expectDone.keySet());
    for (int from = 0; from < doneKeys.size(); from += 1000) {
      List<AckItem> acks = new ArrayList<>();
      for (String key : doneKeys.subList(from, Math.min(doneKeys.size(), from + 1000))) {
        acks.add(AckItem.newBuilder().setKey(key).setAttempt(expectDone.get(key)).build());
      }
      for (AckResult r : client.ackBatches(p, acks)) {
        assertThat(r.hasError())
            .as(r.getKey() + ": " + (r.hasError() ? OrchestratorErrors.fromStatus(r.getError()) : ""))
            .isFalse();
        assertThat(r.getOutcome().getProcessed().getAttempt()).isEqualTo(expectDone.get(r.getKey()));
      }
    }
    assertThat(expectDone.size() + expectDead.size()).isEqualTo(total);

    WorkerStats stats = worker.stats();
    assertThat(stats.started()).isEqualTo(attempts);
    assertThat(stats.acked()).isEqualTo(expectDone.size());
    assertThat(stats.deadLettered()).isEqualTo(expectDead.size());
    assertThat(stats.retriesScheduled()).isEqualTo(attempts - total);
    assertThat(stats.reportsDropped()).isZero();
    assertThat(stats.leasesLost()).isZero();
    assertThat(stats.reportErrors()).isZero();
    assertThat(maxActive.get()).isLessThanOrEqualTo(concurrency);
    System.out.printf(
        "10k worker test: %d batches, %d attempts, %d done, %d dead-lettered in %d ms"
            + " (%d StartAvailable calls)%n",
        total, attempts, expectDone.size(), expectDead.size(), millis,
        calls.calls("StartAvailable"));
  }

  @Test
  void handlerSlowerThanTheLease_keepsItsLeaseThroughHeartbeats() throws Exception {
    String p = server.createPipeline("slow", 3, 600);
    client.enqueueBatch(p, batch("slow", 1));
    AtomicInteger calls = new AtomicInteger();
    List<Integer> attempts = new ArrayList<>();
    CountDownLatch done = new CountDownLatch(1);
    Worker worker =
        Worker.start(
            client,
            WorkerOptions.builder(p).concurrency(2).build(),
            started -> {
              calls.incrementAndGet();
              attempts.add(started.getAttempt());
              Thread.sleep(1500);
              done.countDown();
            });
    try {
      // Meanwhile, keep calling StartAvailable, which is where expired leases are taken back: a
      // lost lease would show as this batch started again, with attempt 2.
      List<StartedBatch> restarted = new ArrayList<>();
      while (!done.await(50, TimeUnit.MILLISECONDS)) {
        restarted.addAll(client.startAvailable(p, 0));
      }
      assertThat(restarted).isEmpty();
      await(Duration.ofSeconds(5), "acked", () -> worker.stats().acked() == 1);
    } finally {
      worker.close();
    }
    assertThat(calls.get()).isEqualTo(1);
    assertThat(attempts).containsExactly(1);
    assertThat(client.ackBatch(p, "slow", 0).getProcessed().getAttempt()).isEqualTo(1);
    assertThat(worker.stats().leasesLost()).isZero();
  }

  @Test
  void abortedWorker_itsBatchesAreStartedAgainByLeaseExpiry_withAttempt2() throws Exception {
    String p = server.createPipeline("killed", 3, 500);
    for (int i = 1; i <= 4; i++) {
      client.enqueueBatch(p, batch("b" + i, i));
    }
    Map<String, Integer> firstWorker = new ConcurrentHashMap<>();
    AtomicInteger interrupted = new AtomicInteger();
    CountDownLatch never = new CountDownLatch(1);
    OrchestratorClient doomedClient = server.clientBuilder().build();
    Worker doomed =
        Worker.start(
            doomedClient,
            WorkerOptions.builder(p).concurrency(4).build(),
            started -> {
              firstWorker.put(started.getBatch().getKey(), started.getAttempt());
              try {
                never.await(10, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                interrupted.incrementAndGet();
                throw e;
              }
            });
    await(Duration.ofSeconds(5), "first worker holds all 4", () -> firstWorker.size() == 4);

    doomed.abort(); // as if the process died: nothing acked, heartbeats stop
    doomedClient.close();

    Map<String, Integer> secondWorker = new ConcurrentHashMap<>();
    Worker rescuer =
        Worker.start(
            client,
            WorkerOptions.builder(p).concurrency(4).build(),
            started -> secondWorker.put(started.getBatch().getKey(), started.getAttempt()));
    try {
      await(Duration.ofSeconds(10), "second worker acked all 4", () -> rescuer.stats().acked() == 4);
    } finally {
      rescuer.close();
    }
    assertThat(firstWorker).containsOnlyKeys("b1", "b2", "b3", "b4").containsValues(1);
    assertThat(secondWorker).containsOnlyKeys("b1", "b2", "b3", "b4");
    assertThat(secondWorker.values()).containsOnly(2);
    await(Duration.ofSeconds(5), "handlers interrupted", () -> interrupted.get() == 4);
    assertThat(doomed.stats().acked()).isZero();
    assertThat(doomed.stats().retriesScheduled()).isZero();
  }

  @Test
  void lostLease_stopsHeartbeats_andTheLateAckIsDroppedAsStale() throws Exception {
    String p = server.createPipeline("lost", 3, 400);
    client.enqueueBatch(p, batch("b1", 1));
    AtomicBoolean blockHeartbeats = new AtomicBoolean(true);
    CountDownLatch handling = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    List<Integer> attempts = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (OrchestratorClient partitioned =
        server.clientBuilder().intercept(dropExtendsWhile(blockHeartbeats)).build()) {
      Worker worker =
          Worker.start(
              partitioned,
              WorkerOptions.builder(p).concurrency(1).build(),
              started -> {
                attempts.add(started.getAttempt());
                handling.countDown();
                release.await(10, TimeUnit.SECONDS);
              });
      try {
        assertThat(handling.await(5, TimeUnit.SECONDS)).isTrue();
        // Heartbeats don't get through: the lease expires and the server starts attempt 2 (for
        // this worker's stream: its slot freed), which waits behind the stuck handler.
        await(Duration.ofSeconds(5), "batch restarted", () -> client.listBatches(
            dev.lightspeed.orchestrator.v1.ListBatchesRequest.newBuilder().setPipeline(p).build())
            .getBatches(0).getAttempt() == 2);

        blockHeartbeats.set(false); // the next heartbeat is answered STALE_ATTEMPT
        await(Duration.ofSeconds(5), "lease lost", () -> worker.stats().leasesLost() == 1);
        release.countDown();
        await(Duration.ofSeconds(5), "ack dropped", () -> worker.stats().reportsDropped() >= 1);
      } finally {
        release.countDown();
        worker.close();
      }
      assertThat(attempts.get(0)).isEqualTo(1);
      // Attempt 1 was never acked: the batch belongs to a later attempt, whatever became of it.
      var stale = org.assertj.core.api.Assertions.catchThrowableOfType(
          dev.lightspeed.orchestrator.client.errors.OrchestratorException.class,
          () -> client.ackBatch(p, "b1", 1));
      assertThat(stale.reason())
          .isEqualTo(dev.lightspeed.orchestrator.client.errors.ErrorReason.STALE_ATTEMPT);
    }
  }

  @Test
  void aBrokenStream_isReopened_andWorkGoesOn() throws Exception {
    String p = server.createPipeline("reconnect", 3, 30_000);
    List<ClientCall<?, ?>> workCalls = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (OrchestratorClient recorded =
        server.clientBuilder().intercept(recordWorkCalls(workCalls)).build()) {
      Worker worker =
          Worker.start(recorded, WorkerOptions.builder(p).concurrency(2)
              .reconnectBackoff(Duration.ofMillis(10), Duration.ofMillis(50)).build(), b -> { });
      try {
        client.enqueueBatch(p, batch("b1", 1));
        await(Duration.ofSeconds(10), "b1 acked", () -> worker.stats().acked() == 1);
        workCalls.get(0).cancel("the network broke", null);
        await(Duration.ofSeconds(10), "a second stream", () -> workCalls.size() == 2);
        client.enqueueBatch(p, batch("b2", 2));
        await(Duration.ofSeconds(10), "b2 acked", () -> worker.stats().acked() == 2);
      } finally {
        worker.close();
      }
    }
  }

  @Test
  void retriesAreTakenAtTheirRetryTime_withoutPolling() throws Exception {
    String p = uniqueRetryPipeline(300);
    client.enqueueBatch(p, batch("b1", 1));
    List<Long> startedAt = new java.util.concurrent.CopyOnWriteArrayList<>();
    Worker worker =
        Worker.start(client, WorkerOptions.builder(p).concurrency(1).build(), started -> {
          startedAt.add(System.currentTimeMillis());
          if (started.getAttempt() < 3) {
            throw new java.io.IOException("flaky sink");
          }
        });
    try {
      await(Duration.ofSeconds(10), "b1 acked on attempt 3", () -> worker.stats().acked() == 1);
    } finally {
      worker.close();
    }
    assertThat(startedAt).hasSize(3);
    // each retry waits its backoff (300 ms, then 600 ms) and no poll interval on top
    assertThat(startedAt.get(1) - startedAt.get(0)).isGreaterThanOrEqualTo(290);
    assertThat(startedAt.get(2) - startedAt.get(1)).isGreaterThanOrEqualTo(590);
  }

  private String uniqueRetryPipeline(long initialBackoffMs) {
    String name = "retry-" + System.nanoTime();
    client.createPipeline(ServerExtension.spec(name, 5, 30_000)
        .setRetry(RetryPolicy.newBuilder().setMaxAttempts(5).setInitialBackoffMs(initialBackoffMs)
            .setMultiplier(2))
        .build());
    return name;
  }

  @Test
  void onResult_getsEachBatchsAnsweredReport() throws Exception {
    String p = server.createPipeline("results", 3, 30_000);
    client.enqueueBatches(p, List.of(batch("b1", 1), batch("b2", 2), batch("b3", 3)));
    java.util.Map<String, WorkerResult> firstAttempts = new ConcurrentHashMap<>();
    Worker worker = Worker.start(client,
        WorkerOptions.builder(p).concurrency(4).onResult(r -> {
          if (r.started().getAttempt() == 1) {
            firstAttempts.put(r.started().getBatch().getKey(), r);
          }
        }).build(),
        started -> {
          if (started.getBatch().getKey().equals("b2") && started.getAttempt() == 1) {
            throw new IllegalStateException("b2 fails");
          }
        });
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (firstAttempts.size() < 3 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    worker.close();
    assertThat(firstAttempts).containsOnlyKeys("b1", "b2", "b3");
    for (WorkerResult r : firstAttempts.values()) {
      assertThat(r.reportError()).isNull();
      if (r.started().getBatch().getKey().equals("b2")) {
        assertThat(r.handlerFailure()).hasMessage("b2 fails");
        assertThat(r.outcome().hasRetryScheduled()).isTrue();
      } else {
        assertThat(r.handlerFailure()).isNull();
        assertThat(r.outcome().hasProcessed()).isTrue();
      }
    }
  }

  @Test
  void close_letsRunningHandlersFinishAndAck_butStartsNothingNew() throws Exception {
    String p = server.createPipeline("close", 3, 30_000);
    client.enqueueBatches(p, List.of(batch("b1", 1), batch("b2", 2), batch("b3", 3)));
    CountDownLatch handling = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Worker worker =
        Worker.start(
            client,
            WorkerOptions.builder(p).concurrency(1).build(),
            started -> {
              handling.countDown();
              release.await(10, TimeUnit.SECONDS);
            });
    assertThat(handling.await(5, TimeUnit.SECONDS)).isTrue();
    CompletableFuture<Void> closing = CompletableFuture.runAsync(worker::close);
    Thread.sleep(200);
    assertThat(closing).as("close waits for the running handler").isNotDone();
    release.countDown();
    closing.get(5, TimeUnit.SECONDS);

    assertThat(worker.stats().started()).isEqualTo(1);
    assertThat(worker.stats().acked()).isEqualTo(1);
    assertThat(client.ackBatch(p, "b1", 1).hasProcessed()).isTrue();
    assertThat(client.getStatus(p).getQueuedCount()).isEqualTo(2);
    assertThat(client.getStatus(p).getInFlightCount()).isZero();
  }

  @Test
  void close_keepsTheLeasesOfRunningHandlersAlive_untilTheyReport() throws Exception {
    String p = server.createPipeline("close-lease", 3, 400);
    client.enqueueBatch(p, batch("b1", 1));
    CountDownLatch handling = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Worker worker =
        Worker.start(
            client,
            WorkerOptions.builder(p).concurrency(1).build(),
            started -> {
              handling.countDown();
              release.await(20, TimeUnit.SECONDS);
            });
    assertThat(handling.await(5, TimeUnit.SECONDS)).isTrue();
    CompletableFuture<Void> closing = CompletableFuture.runAsync(worker::close);
    Thread.sleep(1_500); // several lease lengths after the stream was half-closed
    // The lease was kept alive (unary heartbeats once the stream took no more requests):
    // another caller finds nothing to start.
    assertThat(client.startAvailable(p, 0)).isEmpty();
    release.countDown();
    closing.get(10, TimeUnit.SECONDS);
    assertThat(worker.stats().acked()).isEqualTo(1);
    assertThat(worker.stats().leasesLost()).isZero();
  }

  @Test
  void handlerExceptions_becomeFailures_withTheMessageOrClassAsReason() throws Exception {
    String p = server.createPipeline("reasons", 1, 30_000);
    client.enqueueBatches(p, List.of(batch("msg", 1), batch("nomsg", 2), batch("poison", 3)));
    Worker worker =
        Worker.start(
            client,
            WorkerOptions.builder(p).concurrency(3).build(),
            started -> {
              switch (started.getBatch().getKey()) {
                case "msg" -> throw new java.io.IOException("sink refused the write");
                case "nomsg" -> throw new IllegalStateException();
                default -> throw new NonRetryableException("bad record 17");
              }
            });
    try {
      await(Duration.ofSeconds(5), "three dead letters", () -> worker.stats().deadLettered() == 3);
    } finally {
      worker.close();
    }
    Map<String, String> reasons = new HashMap<>();
    client.listDeadLetters(ListDeadLettersRequest.newBuilder().setPipeline(p).build())
        .getDeadLettersList()
        .forEach(d -> reasons.put(d.getBatchKey(), d.getReason()));
    assertThat(reasons)
        .containsEntry("msg", "sink refused the write")
        .containsEntry("nomsg", "java.lang.IllegalStateException")
        .containsEntry("poison", "bad record 17");
  }

  /** A client interceptor that drops the Work stream's {@code extend} requests while set. */
  private static ClientInterceptor dropExtendsWhile(AtomicBoolean block) {
    return new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(
          MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        return new io.grpc.ForwardingClientCall.SimpleForwardingClientCall<>(
            next.newCall(method, options)) {
          @Override
          public void sendMessage(Q message) {
            if (block.get() && message instanceof dev.lightspeed.orchestrator.v1.WorkRequest r
                && r.hasExtend()) {
              return;
            }
            super.sendMessage(message);
          }
        };
      }
    };
  }

  /** A client interceptor that keeps every Work call, so that a test can break one. */
  private static ClientInterceptor recordWorkCalls(List<ClientCall<?, ?>> calls) {
    return new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(
          MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        ClientCall<Q, R> call = next.newCall(method, options);
        if (method.equals(OrchestratorServiceGrpc.getWorkMethod())) {
          calls.add(call);
        }
        return call;
      }
    };
  }
}
