package dev.lightspeed.orchestrator.client;

import dev.lightspeed.orchestrator.client.errors.ErrorReason;
import dev.lightspeed.orchestrator.client.errors.OrchestratorErrors;
import dev.lightspeed.orchestrator.client.errors.OrchestratorException;
import dev.lightspeed.orchestrator.v1.ProcessOutcome;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import dev.lightspeed.orchestrator.v1.WorkAck;
import dev.lightspeed.orchestrator.v1.WorkExtend;
import dev.lightspeed.orchestrator.v1.WorkFail;
import dev.lightspeed.orchestrator.v1.WorkRequest;
import dev.lightspeed.orchestrator.v1.WorkResult;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Phaser;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * A continuous worker: runs a {@link BatchHandler} over the batches of one pipeline, {@code
 * concurrency} at a time, on the server's Work stream (SPEC 4.2).
 *
 * <ul>
 *   <li><b>Taking work.</b> The worker opens one Work stream with {@code capacity} = {@code
 *       concurrency}; the server pushes a batch whenever a slot is free and something can start,
 *       including when a retry's time comes or a lease expires. Nothing polls: N handlers run
 *       whenever N batches are available.
 *   <li><b>Leases.</b> While a handler runs, the batch's lease is extended on the stream every
 *       {@code lease_ms × heartbeatFraction} (none when leases never expire). A heartbeat answered
 *       STALE_ATTEMPT, NOT_IN_FLIGHT or BATCH_NOT_FOUND means the lease was lost (it expired and
 *       the batch was started again): heartbeats for that attempt stop and its final report will
 *       be refused and dropped. A heartbeat not answered within the lease counts as failed.
 *   <li><b>Reporting.</b> A handler that returns acks the batch, fenced with its attempt; one that
 *       throws fails it (non-retryably for {@link NonRetryableException}). Reports go on the
 *       stream; when no stream is up (reconnecting, closing) or it breaks before answering, the
 *       report is sent as a unary AckBatch / FailBatch (retried by the client on UNAVAILABLE).
 *   <li><b>Reconnecting.</b> When the stream breaks (server restart, network), the worker opens a
 *       new one after {@code minReconnectBackoff} doubling (with jitter) up to {@code
 *       maxReconnectBackoff}. Handlers that are running go on and report. Batches the broken
 *       stream had started but not delivered come back after their lease expires.
 *   <li><b>Stopping.</b> {@link #close()} half-closes the stream (the server starts nothing more
 *       for it and sends what it already started), lets every handler finish and report (up to
 *       {@code shutdownGrace}), then returns. {@link #abort()} stops at once without reporting
 *       anything: the server restarts those batches when their leases expire, as after a crash.
 * </ul>
 *
 * <p>Right after a reconnect, handlers of the old stream may still run while the new one receives
 * batches: those wait in the handler queue (their leases kept alive), so never more than {@code
 * concurrency} handlers run. The worker does not own the client: close the client after it.
 */
public final class Worker implements AutoCloseable {
  private static final System.Logger log = System.getLogger(Worker.class.getName());
  private static final Set<ErrorReason> LEASE_LOST =
      EnumSet.of(ErrorReason.STALE_ATTEMPT, ErrorReason.NOT_IN_FLIGHT, ErrorReason.BATCH_NOT_FOUND);
  private static final int MAX_REASON_CHARS = 1024;
  /** How long a report waits for the stream's answer before it is sent again as a unary call. */
  private static final Duration REPORT_TIMEOUT = Duration.ofSeconds(30);

  private final OrchestratorClient client;
  private final WorkerOptions options;
  private final BatchHandler handler;
  private final ExecutorService handlers;
  /** Heartbeats and reconnects. */
  private final ScheduledExecutorService scheduler;
  private final AtomicInteger running = new AtomicInteger();
  /** Reports sent and not yet answered (one party each), and the worker's own party. */
  private final Phaser reports = new Phaser(1);

  private volatile WorkSession session;
  private volatile boolean closing;
  private volatile boolean aborted;
  private final AtomicBoolean closed = new AtomicBoolean();
  private long backoffNanos;

  private final LongAdder started = new LongAdder();
  private final LongAdder acked = new LongAdder();
  private final LongAdder retriesScheduled = new LongAdder();
  private final LongAdder deadLettered = new LongAdder();
  private final LongAdder reportsDropped = new LongAdder();
  private final LongAdder leasesLost = new LongAdder();
  private final LongAdder reportErrors = new LongAdder();

  private Worker(OrchestratorClient client, WorkerOptions options, BatchHandler handler) {
    this.client = client;
    this.options = options;
    this.handler = handler;
    String name = "lightspeed-worker-" + options.pipeline();
    this.handlers =
        Executors.newFixedThreadPool(options.concurrency(), threads(name + "-handler", false));
    // Every batch schedules its heartbeat and cancels it when its handler returns: without
    // remove-on-cancel the cancelled tasks would stay queued for a heartbeat period (10 s at the
    // default lease), tens of thousands at a few thousand batches/s, each add paying log(n).
    ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, threads(name + "-timer", true));
    timer.setRemoveOnCancelPolicy(true);
    this.scheduler = timer;
    this.backoffNanos = options.minReconnectBackoff().toNanos();
  }

  /** Starts a worker; it runs until {@link #close()} or {@link #abort()}. */
  public static Worker start(OrchestratorClient client, WorkerOptions options, BatchHandler handler) {
    Worker worker = new Worker(client, options, handler);
    worker.connect();
    return worker;
  }

  /** The counters so far. */
  public WorkerStats stats() {
    return new WorkerStats(started.sum(), acked.sum(), retriesScheduled.sum(),
        deadLettered.sum(), reportsDropped.sum(), leasesLost.sum(), reportErrors.sum());
  }

  /**
   * Graceful stop: the server starts nothing more for this worker; running handlers (and batches
   * already started for it) finish and report, up to {@code shutdownGrace}; after that they are
   * interrupted and not reported. Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    long deadline = System.nanoTime() + options.shutdownGrace().toNanos();
    closing = true;
    WorkSession s = session;
    try {
      if (s != null) {
        s.halfClose();
        try {
          s.ended.get(remainingMillis(deadline), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException ignored) {
          s.cancel(); // what it had not delivered comes back by lease expiry
        }
      }
      handlers.shutdown();
      if (!handlers.awaitTermination(remainingMillis(deadline), TimeUnit.MILLISECONDS)) {
        log.log(Level.WARNING, "handlers of pipeline ''{0}'' still running after {1};"
            + " interrupting them; their batches are retried when their leases expire",
            options.pipeline(), options.shutdownGrace());
        aborted = true;
        handlers.shutdownNow();
      }
      // Reports are sent without waiting in the handler's thread: wait for their answers.
      try {
        reports.awaitAdvanceInterruptibly(
            reports.arrive(), remainingMillis(deadline), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        log.log(Level.WARNING, "reports of pipeline ''{0}'' still unanswered after {1}",
            options.pipeline(), options.shutdownGrace());
      }
    } catch (InterruptedException e) {
      aborted = true;
      handlers.shutdownNow();
      Thread.currentThread().interrupt();
    } finally {
      scheduler.shutdownNow();
    }
  }

  /**
   * Stops at once, as a crash would: the stream is cancelled, heartbeats stop, running handlers
   * are interrupted, and nothing is acked or failed. The server starts those batches again when
   * their leases expire. Does not wait for the handler threads.
   */
  public void abort() {
    closed.set(true);
    aborted = true;
    closing = true;
    WorkSession s = session;
    if (s != null) {
      s.cancel();
    }
    handlers.shutdownNow();
    scheduler.shutdownNow();
  }

  // ---- the stream ----------------------------------------------------------------------------

  private void connect() {
    if (closing) {
      return;
    }
    try {
      session = new WorkSession(
          client.channel(), options, this::launch, this::streamEnded, scheduler);
    } catch (RejectedExecutionException stopped) {
      // aborted meanwhile: the scheduler is shut down
    }
  }

  /** A stream delivered something: the next break starts its backoff over. */
  void streamWorks() {
    backoffNanos = options.minReconnectBackoff().toNanos();
  }

  private void streamEnded(WorkSession ended, Throwable error) {
    if (session == ended) {
      session = null;
    }
    if (closing) {
      return;
    }
    long wait = backoffNanos;
    backoffNanos = Math.min(backoffNanos * 2, options.maxReconnectBackoff().toNanos());
    long jittered = wait / 2 + ThreadLocalRandom.current().nextLong(wait / 2 + 1);
    OrchestratorException e = error == null ? null : OrchestratorErrors.from(error);
    log.log(Level.WARNING, "Work stream of pipeline ''{0}'' ended ({1}); reconnecting in {2} ms",
        options.pipeline(), e == null ? "by the server" : e.reasonName() + ": " + e.getMessage(),
        TimeUnit.NANOSECONDS.toMillis(jittered));
    try {
      scheduler.schedule(this::connect, jittered, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException stopped) {
      // closed meanwhile
    }
  }

  // ---- running ---------------------------------------------------------------------------------

  private void launch(StartedBatch batch) {
    streamWorks();
    if (aborted) {
      return; // its lease expires and the server starts it again
    }
    started.increment();
    running.incrementAndGet();
    Lease lease = new Lease(batch);
    long leaseMs = batch.getLeaseDeadlineMs() - batch.getStartedAtMs();
    if (batch.getLeaseDeadlineMs() > 0 && leaseMs > 0) {
      long every = Math.max(1, (long) (leaseMs * options.heartbeatFraction()));
      try {
        lease.heartbeat = scheduler.scheduleWithFixedDelay(
            () -> heartbeat(lease, Duration.ofMillis(leaseMs)), every, every,
            TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException e) {
        // aborted meanwhile
      }
    }
    try {
      handlers.execute(() -> process(lease));
    } catch (RejectedExecutionException e) {
      lease.stop();
      finished();
    }
  }

  /** One started attempt while its handler runs. */
  private static final class Lease {
    final StartedBatch batch;
    final AtomicBoolean beating = new AtomicBoolean();
    volatile ScheduledFuture<?> heartbeat;
    volatile boolean stopped;

    Lease(StartedBatch batch) {
      this.batch = batch;
    }

    String key() {
      return batch.getBatch().getKey();
    }

    int attempt() {
      return batch.getAttempt();
    }

    /** Stops heartbeating; true the first time. */
    boolean stop() {
      if (stopped) {
        return false;
      }
      stopped = true;
      ScheduledFuture<?> f = heartbeat;
      if (f != null) {
        f.cancel(false);
      }
      return true;
    }
  }

  private void heartbeat(Lease lease, Duration leaseMs) {
    if (lease.stopped || aborted || !lease.beating.compareAndSet(false, true)) {
      return; // the previous heartbeat is still on its way
    }
    WorkSession s = session;
    // Without a stream that takes requests (reconnecting, or half-closed by close() while
    // handlers finish), heartbeats go as unary calls: the lease must outlive the stream.
    CompletableFuture<Long> extended = s == null || !s.open()
        ? null
        : s.request(WorkRequest.newBuilder().setExtend(
                WorkExtend.newBuilder().setKey(lease.key()).setAttempt(lease.attempt())))
            .thenApply(Worker::deadlineOrThrow);
    if (extended == null) {
      extended = client.async().extendLease(options.pipeline(), lease.key(), lease.attempt());
    }
    // A heartbeat slower than the lease is useless: give it the lease as its deadline.
    extended.orTimeout(leaseMs.toMillis(), TimeUnit.MILLISECONDS).whenComplete((d, error) -> {
      lease.beating.set(false);
      if (error == null || lease.stopped) {
        return;
      }
      OrchestratorException e = OrchestratorErrors.from(unwrap(error));
      if (LEASE_LOST.contains(e.reason())) {
        if (lease.stop()) {
          leasesLost.increment();
          log.log(Level.WARNING, "lease of batch ''{0}'' attempt {1} lost ({2}: {3}); heartbeats"
              + " stopped, its result will be dropped", lease.key(), lease.attempt(),
              e.reasonName(), e.getMessage());
        }
      } else {
        log.log(Level.WARNING, "heartbeat of batch ''{0}'' attempt {1} failed ({2}: {3});"
            + " trying again", lease.key(), lease.attempt(), e.reasonName(), e.getMessage());
      }
    });
  }

  private void process(Lease lease) {
    Throwable failure = null;
    try {
      handler.handle(lease.batch);
    } catch (Throwable t) {
      failure = t;
    }
    // Heartbeats stop before the report: once acked, a heartbeat would only be refused.
    boolean leaseKept = lease.stop();
    try {
      if (!aborted) {
        if (failure == null) {
          ack(lease, leaseKept);
        } else {
          fail(lease, failure);
        }
      }
    } finally {
      finished();
    }
    if (failure instanceof VirtualMachineError error) {
      throw error;
    }
  }

  private void ack(Lease lease, boolean leaseKept) {
    report(WorkRequest.newBuilder().setAck(
            WorkAck.newBuilder().setKey(lease.key()).setAttempt(lease.attempt())),
        () -> client.async().ackBatch(options.pipeline(), lease.key(), lease.attempt()),
        (outcome, e) -> {
          if (e == null) {
            acked.increment();
          } else {
            reportRefused("ack", lease, e, leaseKept);
          }
          result(lease, outcome, null, e);
        });
  }

  private void fail(Lease lease, Throwable failure) {
    boolean nonRetryable = failure instanceof NonRetryableException;
    String reason = reasonOf(failure);
    report(WorkRequest.newBuilder().setFail(WorkFail.newBuilder()
            .setKey(lease.key()).setAttempt(lease.attempt()).setReason(reason)
            .setNonRetryable(nonRetryable)),
        () -> client.async().failBatch(
            options.pipeline(), lease.key(), lease.attempt(), reason, nonRetryable),
        (outcome, e) -> {
          if (e != null) {
            reportRefused("failure report", lease, e, true);
            result(lease, outcome, failure, e);
            return;
          }
          switch (outcome.getOutcomeCase()) {
            case RETRY_SCHEDULED -> retriesScheduled.increment();
            case DEAD_LETTERED -> deadLettered.increment();
            case FAILURE_REJECTED -> {
              reportsDropped.increment();
              log.log(Level.INFO, "failure report of batch ''{0}'' attempt {1} dropped: {2} (the"
                  + " lease was lost)", lease.key(), lease.attempt(),
                  outcome.getFailureRejected().getReason());
            }
            default -> log.log(Level.WARNING, "unexpected outcome of a failure report: {0}", outcome);
          }
          result(lease, outcome, failure, null);
        });
  }

  private void result(Lease lease, ProcessOutcome outcome, Throwable failure,
      OrchestratorException refused) {
    Consumer<WorkerResult> onResult = options.onResult();
    if (onResult == null) {
      return;
    }
    try {
      onResult.accept(new WorkerResult(lease.batch, refused == null ? outcome : null, failure,
          refused));
    } catch (RuntimeException e) {
      log.log(Level.WARNING, "onResult threw", e);
    }
  }

  /** A unary call that reports the same thing as a stream request. */
  @FunctionalInterface
  private interface Unary {
    CompletableFuture<ProcessOutcome> call();
  }

  /** What a report's answer does: counters and logs (the outcome, or the refusal). */
  @FunctionalInterface
  private interface Answered {
    void accept(ProcessOutcome outcome, OrchestratorException refused);
  }

  /**
   * Sends an ack or failure on the stream without waiting for its result, so the handler's
   * thread takes the next batch at once (as the Go worker's goroutines do; the answers arrive on
   * the stream's reader). Without a stream, or when it breaks (or stays silent for {@link
   * #REPORT_TIMEOUT}) before answering, the report goes as a unary call (acks are idempotent, and
   * a repeated failure report of the same attempt is answered FailureRejected). {@code answered}
   * runs once with the outcome or the refusal; {@link #close()} waits for every report.
   */
  private void report(WorkRequest.Builder request, Unary unary, Answered answered) {
    reports.register();
    CompletableFuture<ProcessOutcome> outcome;
    try {
      WorkSession s = session;
      if (s != null && s.open()) {
        outcome = s.request(request, REPORT_TIMEOUT)
            .handle((r, noAnswer) -> r)
            .thenCompose(r -> {
              if (r == null) {
                return unary.call();
              }
              return r.hasError()
                  ? CompletableFuture.failedFuture(OrchestratorErrors.fromStatus(r.getError()))
                  : CompletableFuture.completedFuture(r.getOutcome());
            });
      } else {
        outcome = unary.call();
      }
    } catch (RuntimeException e) {
      outcome = CompletableFuture.failedFuture(e);
    }
    outcome.whenComplete((o, error) -> {
      try {
        answered.accept(o, error == null ? null : OrchestratorErrors.from(unwrap(error)));
      } finally {
        reports.arriveAndDeregister();
      }
    });
  }

  private static long deadlineOrThrow(WorkResult r) {
    if (r.hasError()) {
      throw OrchestratorErrors.fromStatus(r.getError());
    }
    return r.getLeaseDeadlineMs();
  }

  private void reportRefused(String what, Lease lease, OrchestratorException e, boolean leaseKept) {
    if (LEASE_LOST.contains(e.reason())) {
      reportsDropped.increment();
      log.log(Level.INFO, "{0} of batch ''{1}'' attempt {2} dropped: {3}: {4} (the lease was {5})",
          what, lease.key(), lease.attempt(), e.reasonName(), e.getMessage(),
          leaseKept ? "lost" : "already known lost");
    } else {
      reportErrors.increment();
      log.log(Level.WARNING, "{0} of batch ''{1}'' attempt {2} failed: {3}: {4}; the batch is"
          + " started again when its lease expires", what, lease.key(), lease.attempt(),
          e.reasonName(), e.getMessage());
    }
  }

  private void finished() {
    running.decrementAndGet();
  }

  /** The failure reason: the exception's message, else its class name; never empty. */
  static String reasonOf(Throwable t) {
    String message = t.getMessage();
    String reason =
        message == null || message.isBlank() ? t.getClass().getName() : message.strip();
    return reason.length() <= MAX_REASON_CHARS ? reason : reason.substring(0, MAX_REASON_CHARS);
  }

  private static Throwable unwrap(Throwable t) {
    return t instanceof java.util.concurrent.CompletionException && t.getCause() != null
        ? t.getCause() : t;
  }

  private static long remainingMillis(long deadlineNanos) {
    return Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime()));
  }

  private static ThreadFactory threads(String prefix, boolean daemon) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(daemon);
      return t;
    };
  }
}
