package dev.lightspeed.orchestrator.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.v1.AckBatchesRequest;
import dev.lightspeed.orchestrator.v1.AckItem;
import dev.lightspeed.orchestrator.v1.AckResult;
import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.Boundary;
import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesResponse;
import dev.lightspeed.orchestrator.v1.EnqueueResult;
import dev.lightspeed.orchestrator.v1.FailBatchRequest;
import dev.lightspeed.orchestrator.v1.GetStatusRequest;
import dev.lightspeed.orchestrator.v1.GetStatusResponse;
import dev.lightspeed.orchestrator.v1.ListDeadLettersRequest;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceBlockingStub;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.PipelineSpec;
import dev.lightspeed.orchestrator.v1.ProcessOutcome;
import dev.lightspeed.orchestrator.v1.RetryPolicy;
import dev.lightspeed.orchestrator.v1.StartAvailableRequest;
import dev.lightspeed.orchestrator.v1.StartAvailableResponse;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import dev.lightspeed.orchestrator.v1.WatchStartedRequest;
import dev.lightspeed.orchestrator.v1.WatchStartedResponse;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bounded soak of the real server jar (durable, metrics on) for {@code -Dsoak.seconds}
 * (default 60): steady load from producers and workers, with slow watchers that get cut off,
 * watches cancelled or dropped with their connection, StartAvailable streams cancelled after
 * their batches started, workers that vanish holding leases, and producers whose connection dies
 * mid-call and who retry with the same idempotency keys. Afterwards: heap after GC and thread
 * count (read from the jar's /metrics after {@code jcmd GC.run}) grew by no more than a fixed
 * allowance since warm-up, no watcher is left registered, and once the workers drain the
 * pipeline, every batch the server accepted was acked or dead-lettered: nothing is lost.
 */
class SoakIT {
  static final long SECONDS = Long.getLong("soak.seconds", 60);
  /** Allowed growth from warm-up to the end of the load: heap after a full GC, threads. */
  static final long HEAP_GROWTH_BYTES = 48L << 20;
  static final int THREAD_GROWTH = 24;

  @TempDir Path dir;

  private final Random random = new Random(42);
  /** Keys the server accepted (enqueued or deduplicated: either way it holds them). */
  private final Set<String> accepted = ConcurrentHashMap.newKeySet();
  private final AtomicLong calls = new AtomicLong();
  private final AtomicInteger vanishedWorkers = new AtomicInteger();
  private final AtomicInteger droppedProducerCalls = new AtomicInteger();
  private final AtomicInteger watchCutOffs = new AtomicInteger();
  private final AtomicInteger watchesCancelled = new AtomicInteger();
  private final AtomicInteger startsCancelled = new AtomicInteger();
  private final List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile boolean stop;
  private ServerProcess server;

  @Test
  @Timeout(value = 15, unit = TimeUnit.MINUTES)
  void steadyLoadWithHostileClients_keepsMemoryAndThreadsBounded_andLosesNothing()
      throws Exception {
    int metricsPort;
    try (ServerSocket s = new ServerSocket(0)) {
      metricsPort = s.getLocalPort();
    }
    // Snapshots every 20,000 records (the default is 1,000,000), so that several run under load.
    // 10,000 events kept for WatchEvents resumes (the default is 100,000). The retained events are
    // a bounded, wanted use of memory (twice: the live state and the snapshotter's copy), which
    // the default took about as long to fill as the warm-up lasts: the heap grew 46-50 MiB from
    // warm-up to the end of a 60 s run against an allowance of 48 (CI failed once on it), and 0
    // from 30 s to 150 s. Filled within seconds, it is part of the baseline, and the allowance
    // measures a leak (12 MiB measured with it). Looking into it found that the snapshotter's copy
    // ignored --event-retention (ShadowSnapshotTest.aSnapshotKeepsTheServersEventRetention).
    server = ServerProcess.start(dir, "--data-dir", dir.resolve("data").toString(),
        "--metrics-port", Integer.toString(metricsPort), "--watch-buffer", "256",
        "--keepalive-time", "5", "--keepalive-timeout", "5", "--snapshot-every", "20000",
        "--event-retention", "10000");
    try {
      ManagedChannel admin = channel();
      OrchestratorServiceBlockingStub stub = OrchestratorServiceGrpc.newBlockingStub(admin);
      stub.createPipeline(CreatePipelineRequest.newBuilder().setSpec(PipelineSpec.newBuilder()
          .setName("soak").addStages("a").addStages("b")
          .addConnectors(source("a")).addConnectors(source("b"))
          .setBoundary(Boundary.newBuilder().setLeaseMs(1_500).setMaxQueued(4_000)
              .setMaxInFlight(200))
          .setRetry(RetryPolicy.newBuilder().setMaxAttempts(4).setInitialBackoffMs(50)
              .setMaxBackoffMs(200))
          .setDedupWindowMs(5_000)).build());

      List<Thread> threads = new ArrayList<>();
      threads.add(thread("producer-a", () -> produce("a")));
      threads.add(thread("producer-b", () -> produce("b")));
      threads.add(thread("worker-1", () -> work(false)));
      threads.add(thread("worker-2", () -> work(true)));
      threads.add(thread("watchers", this::watchers));
      threads.forEach(Thread::start);

      long start = System.nanoTime();
      long warmUp = Math.max(5, SECONDS / 5);
      sleepUntil(start, warmUp);
      Sample before = sample(metricsPort);
      sleepUntil(start, SECONDS);
      Sample after = sample(metricsPort);
      stop = true;
      for (Thread t : threads) {
        t.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(t.isAlive()).as("%s stopped", t.getName()).isFalse();
      }
      assertThat(failures).as("unexpected client errors").isEmpty();

      System.out.printf("soak %d s: %d calls, %d keys accepted, %d producer calls dropped, %d"
              + " workers vanished, %d StartAvailable cancelled, %d watches cancelled or"
              + " dropped, %d slow watchers cut off; heap after GC %d -> %d MiB, threads %d -> %d%n",
          SECONDS, calls.get(), accepted.size(), droppedProducerCalls.get(),
          vanishedWorkers.get(), startsCancelled.get(), watchesCancelled.get(),
          watchCutOffs.get(), before.heap >> 20, after.heap >> 20, before.threads,
          after.threads);
      assertThat(server.isAlive()).isTrue();
      assertThat(after.heap).as("heap after GC, end vs warm-up")
          .isLessThan(before.heap + HEAP_GROWTH_BYTES);
      assertThat(after.threads).as("threads, end vs warm-up")
          .isLessThanOrEqualTo(before.threads + THREAD_GROWTH);
      assertThat(watchCutOffs.get()).as("slow watchers were cut off").isPositive();
      assertThat(vanishedWorkers.get()).isPositive();

      drain(stub);
      GetStatusResponse status = status(stub);
      assertThat(status.getValid()).as(status.getInvalidReason()).isTrue();
      assertThat(status.getQueuedCount()).isZero();
      assertThat(status.getInFlightCount()).isZero();
      MetricsScrape m = MetricsScrape.of(metricsPort);
      double acked = m.sum("lightspeed_stage_acked_batches_total", "pipeline", "soak");
      long deadLetters = status.getDeadLetterCount();
      assertThat((long) acked + deadLetters).as("acked %s + dead-lettered %s = accepted", acked,
          deadLetters).isEqualTo(accepted.size());
      assertThat(deadLettersAreAccepted(stub)).isTrue();
      assertThat(m.value("lightspeed_pipeline_watchers", "pipeline", "soak"))
          .as("no watcher left registered").isZero();
      admin.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    } finally {
      stop = true;
      server.close();
    }
    assertThat(server.log()).doesNotContain("ERROR").doesNotContain("SEVERE");
  }

  // ---- clients -------------------------------------------------------------------------------

  /** Enqueues batches of 20 with its own stage and sequence; sometimes its connection dies. */
  private void produce(String stage) {
    long sequence = 0;
    List<Batch> pending = new ArrayList<>();
    ManagedChannel channel = channel();
    // The last call's reply was lost: the server may hold its items although none was counted.
    boolean replyLost = false;
    while (!stop) {
      while (pending.size() < 20) {
        sequence++;
        String key = stage + "-" + sequence;
        pending.add(Batch.newBuilder().setKey(key).setStage(stage).setRecords(1)
            .setIdempotencyKey(key).setSequence(sequence).build());
      }
      var request = EnqueueBatchesRequest.newBuilder().setPipeline("soak")
          .addAllBatches(pending).build();
      boolean dropConnection = random.nextInt(50) == 0;
      try {
        var stub = OrchestratorServiceGrpc.newFutureStub(channel)
            .withDeadlineAfter(10, TimeUnit.SECONDS);
        if (dropConnection) {
          // the reply is lost with the connection; the items are sent again as they were
          ManagedChannel doomed = channel;
          Thread killer = new Thread(() -> doomed.shutdownNow());
          killer.start();
          channel = channel();
          droppedProducerCalls.incrementAndGet();
        }
        var future = stub.enqueueBatches(request);
        EnqueueBatchesResponse response;
        try {
          response = future.get(15, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          if (e.getCause() instanceof StatusRuntimeException status) {
            throw status;
          }
          throw new AssertionError(e.getCause());
        } catch (TimeoutException e) {
          // A call started on a channel that another thread shuts down at that moment can wait
          // past its own deadline in grpc-java's client (grpc/grpc-java#7691): a blocking stub
          // then hung this producer for good. The reply is lost with the connection either way.
          future.cancel(true);
          if (!dropConnection) {
            throw new AssertionError("EnqueueBatches still unanswered 5 s after its deadline");
          }
          replyLost = true;
          continue;
        }
        replyLost = false;
        calls.incrementAndGet();
        List<Batch> refused = new ArrayList<>();
        for (int i = 0; i < response.getResultsCount(); i++) {
          EnqueueResult r = response.getResults(i);
          if (r.hasError()) {
            // QUEUE_FULL, and then for every later item too: sent again, in order
            assertThat(RpcErrors.errorInfo(r.getError()).getReason()).isEqualTo("QUEUE_FULL");
            refused.add(pending.get(i));
          } else {
            accepted.add(r.getKey());
          }
        }
        pending = refused;
        if (!refused.isEmpty()) {
          Thread.sleep(20);
        }
      } catch (StatusRuntimeException e) {
        replyLost = true;
        if (!dropConnection) {
          expectTransient(e);
        }
      } catch (InterruptedException e) {
        return;
      } catch (Throwable t) {
        failures.add(t);
        return;
      }
    }
    channel.shutdownNow();
    if (replyLost) {
      // Sent again as a producer would, so that what the server kept is counted: within the
      // dedup window an item it holds is answered `deduplicated`, one it refused is refused again.
      // Without this, a run that stopped right after a lost reply counted 20 keys too few.
      settle(pending);
    }
  }

  private void settle(List<Batch> lost) {
    ManagedChannel channel = channel();
    try {
      var response = OrchestratorServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(10, TimeUnit.SECONDS)
          .enqueueBatches(EnqueueBatchesRequest.newBuilder().setPipeline("soak")
              .addAllBatches(lost).build());
      for (EnqueueResult r : response.getResultsList()) {
        if (!r.hasError()) {
          accepted.add(r.getKey());
        }
      }
    } catch (Throwable t) {
      failures.add(t);
    } finally {
      channel.shutdownNow();
    }
  }

  /** Starts, then acks (most), fails (some), or vanishes holding the leases (now and then). */
  private void work(boolean hostile) {
    ManagedChannel channel = channel();
    Random r = new Random(hostile ? 7 : 8);
    while (!stop) {
      try {
        var stub = OrchestratorServiceGrpc.newBlockingStub(channel)
            .withDeadlineAfter(10, TimeUnit.SECONDS);
        if (hostile && r.nextInt(40) == 0) {
          // a StartAvailable whose caller cancels it once the first batch arrived
          Context.CancellableContext context = Context.current().withCancellation();
          context.run(() -> {
            Iterator<StartAvailableResponse> it = stub.startAvailable(
                StartAvailableRequest.newBuilder().setPipeline("soak").setMaxBatches(5).build());
            if (it.hasNext()) {
              it.next();
            }
          });
          context.cancel(null);
          startsCancelled.incrementAndGet();
          continue;
        }
        List<StartedBatch> started = new ArrayList<>();
        stub.startAvailable(StartAvailableRequest.newBuilder().setPipeline("soak")
                .setMaxBatches(40).build())
            .forEachRemaining(s -> started.add(s.getStarted()));
        calls.incrementAndGet();
        if (started.isEmpty()) {
          Thread.sleep(5);
          continue;
        }
        // The first full round always vanishes, so the run covers it however few rounds a
        // loaded machine allows (1 in 30 once made a slow CI run see none).
        if (hostile && (vanishedWorkers.get() == 0 || r.nextInt(30) == 0)) {
          channel.shutdownNow(); // vanishes: these leases expire and the batches are retried
          channel = channel();
          vanishedWorkers.incrementAndGet();
          continue;
        }
        AckBatchesRequest.Builder acks = AckBatchesRequest.newBuilder().setPipeline("soak");
        for (StartedBatch s : started) {
          if (r.nextInt(10) == 0) {
            var outcome = stub.failBatch(FailBatchRequest.newBuilder().setPipeline("soak")
                .setKey(s.getBatch().getKey()).setAttempt(s.getAttempt()).setReason("flaky")
                .build()).getOutcome();
            assertThat(outcome.getOutcomeCase())
                .isIn(ProcessOutcome.OutcomeCase.RETRY_SCHEDULED,
                    ProcessOutcome.OutcomeCase.DEAD_LETTERED,
                    ProcessOutcome.OutcomeCase.FAILURE_REJECTED);
          } else {
            acks.addAcks(AckItem.newBuilder().setKey(s.getBatch().getKey())
                .setAttempt(s.getAttempt()));
          }
        }
        if (hostile && r.nextInt(10) == 0) {
          Thread.sleep(r.nextInt(1_000)); // slow: some leases run out first
        }
        for (AckResult a : stub.ackBatches(acks.build()).getResultsList()) {
          if (a.hasError()) {
            // a lease ran out and the batch was restarted: STALE_ATTEMPT or NOT_IN_FLIGHT
            assertThat(a.getError().getCode()).isIn(Status.Code.ABORTED.value(),
                Status.Code.FAILED_PRECONDITION.value());
          }
        }
        calls.incrementAndGet();
      } catch (StatusRuntimeException e) {
        expectTransient(e);
      } catch (InterruptedException e) {
        return;
      } catch (Throwable t) {
        failures.add(t);
        return;
      }
    }
    channel.shutdownNow();
  }

  /** A watch that reads one message, then nothing: a slow watcher. */
  private final class SlowWatch extends ClientCall.Listener<WatchStartedResponse> {
    final ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port)
        .usePlaintext().flowControlWindow(16 * 1024).build();
    final ClientCall<WatchStartedRequest, WatchStartedResponse> call =
        channel.newCall(OrchestratorServiceGrpc.getWatchStartedMethod(), CallOptions.DEFAULT);
    final java.util.concurrent.CompletableFuture<Status> closed =
        new java.util.concurrent.CompletableFuture<>();

    SlowWatch() {
      call.start(this, new Metadata());
      call.sendMessage(WatchStartedRequest.newBuilder().setPipeline("soak").build());
      call.halfClose();
      call.request(1);
    }

    @Override
    public void onClose(Status status, Metadata trailers) {
      closed.complete(status);
    }

    /**
     * Ends it: reads what is buffered (a close is delivered only after the messages before it),
     * counts a cut-off, else cancels the watch or drops the connection under it.
     */
    void end(boolean drop) throws InterruptedException {
      call.request(Integer.MAX_VALUE);
      try {
        Status status = closed.get(2, TimeUnit.SECONDS);
        if (status.getCode() == Status.Code.RESOURCE_EXHAUSTED) {
          watchCutOffs.incrementAndGet();
        }
      } catch (java.util.concurrent.ExecutionException
          | java.util.concurrent.TimeoutException stillOpen) {
        if (drop) {
          channel.shutdownNow();
        } else {
          call.cancel("done watching", null);
        }
        watchesCancelled.incrementAndGet();
      }
      channel.shutdownNow();
    }
  }

  /** Slow watchers that get cut off, watches cancelled, watches dropped with their connection. */
  private void watchers() {
    List<SlowWatch> open = new ArrayList<>();
    Random r = new Random(9);
    try {
      while (!stop) {
        open.add(new SlowWatch());
        Thread.sleep(500 + r.nextInt(1_000));
        if (open.size() > 3) {
          open.remove(r.nextInt(open.size())).end(r.nextBoolean());
        }
      }
      for (SlowWatch w : open) {
        w.end(false);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Acks everything left until nothing is queued or in flight (at most a minute). */
  private void drain(OrchestratorServiceBlockingStub stub) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      GetStatusResponse s = status(stub);
      if (s.getQueuedCount() == 0 && s.getInFlightCount() == 0) {
        return;
      }
      assertThat(System.nanoTime()).as("drained within a minute: %s", s).isLessThan(deadline);
      List<StartedBatch> started = new ArrayList<>();
      stub.startAvailable(StartAvailableRequest.newBuilder().setPipeline("soak").build())
          .forEachRemaining(x -> started.add(x.getStarted()));
      if (started.isEmpty()) {
        Thread.sleep(100); // leases of vanished workers, retries not yet due
        continue;
      }
      AckBatchesRequest.Builder acks = AckBatchesRequest.newBuilder().setPipeline("soak");
      for (StartedBatch x : started) {
        acks.addAcks(AckItem.newBuilder().setKey(x.getBatch().getKey()).setAttempt(x.getAttempt()));
      }
      stub.ackBatches(acks.build());
    }
  }

  private boolean deadLettersAreAccepted(OrchestratorServiceBlockingStub stub) {
    String token = "";
    do {
      var page = stub.listDeadLetters(ListDeadLettersRequest.newBuilder().setPipeline("soak")
          .setPageSize(1000).setPageToken(token).build());
      for (var d : page.getDeadLettersList()) {
        if (!accepted.contains(d.getBatchKey())) {
          return false;
        }
      }
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    return true;
  }

  // ---- helpers -------------------------------------------------------------------------------

  /** Heap after a full GC and live threads of the server, as its /metrics reports them. */
  private record Sample(long heap, long threads) {}

  private Sample sample(int metricsPort) throws Exception {
    Process gc = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
        Long.toString(server.pid()), "GC.run")
        .redirectErrorStream(true).start();
    assertThat(gc.waitFor(30, TimeUnit.SECONDS)).as("jcmd GC.run finished").isTrue();
    assertThat(gc.exitValue()).as(new String(gc.getInputStream().readAllBytes())).isZero();
    MetricsScrape m = MetricsScrape.of(metricsPort);
    return new Sample((long) m.value("jvm_memory_used_bytes", "area", "heap"),
        (long) m.value("jvm_threads_current"));
  }

  private void expectTransient(StatusRuntimeException e) {
    Status.Code code = e.getStatus().getCode();
    if (code != Status.Code.UNAVAILABLE && code != Status.Code.CANCELLED
        && code != Status.Code.DEADLINE_EXCEEDED) {
      failures.add(e);
    }
  }

  private Thread thread(String name, Runnable body) {
    Thread t = new Thread(() -> {
      try {
        body.run();
      } catch (Throwable e) {
        failures.add(e);
      }
    }, "soak-" + name);
    t.setDaemon(true);
    return t;
  }

  private static void sleepUntil(long startNanos, long seconds) throws InterruptedException {
    long left = startNanos + TimeUnit.SECONDS.toNanos(seconds) - System.nanoTime();
    if (left > 0) {
      TimeUnit.NANOSECONDS.sleep(left);
    }
  }

  private ManagedChannel channel() {
    return NettyChannelBuilder.forAddress("127.0.0.1", server.port).usePlaintext().build();
  }

  private static dev.lightspeed.orchestrator.v1.Connector source(String stage) {
    return dev.lightspeed.orchestrator.v1.Connector.newBuilder().setName(stage + "-in")
        .setKind(dev.lightspeed.orchestrator.v1.ConnectorKind.CONNECTOR_KIND_SOURCE)
        .setStage(stage).build();
  }

  private static GetStatusResponse status(OrchestratorServiceBlockingStub stub) {
    return stub.withDeadlineAfter(10, TimeUnit.SECONDS)
        .getStatus(GetStatusRequest.newBuilder().setPipeline("soak").build());
  }
}
