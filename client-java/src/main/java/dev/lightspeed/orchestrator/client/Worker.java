package dev.lightspeed.orchestrator.client;

import dev.lightspeed.orchestrator.client.errors.ErrorReason;
import dev.lightspeed.orchestrator.client.errors.OrchestratorErrors;
import dev.lightspeed.orchestrator.client.errors.OrchestratorException;
import dev.lightspeed.orchestrator.v1.ProcessOutcome;
import dev.lightspeed.orchestrator.v1.StartAvailableRequest;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Runs a {@link BatchHandler} over the batches of one pipeline, up to {@code concurrency} at a
 * time.
 *
 * <ul>
 *   <li><b>Taking work.</b> One poller thread calls StartAvailable with {@code max_batches} = the
 *       free handler slots, so the worker never holds more batches than it can run. When nothing
 *       started it waits before polling again, from {@code minPollBackoff} doubling to {@code
 *       maxPollBackoff}; when every slot is busy it waits for one to free. A failure that
 *       scheduled a retry makes it poll at once (with {@code initial_backoff_ms} 0 the batch is
 *       ready again immediately).
 *   <li><b>Leases.</b> While a handler runs, a scheduler thread extends the batch's lease every
 *       {@code lease_ms × heartbeatFraction} (lease_ms = the started batch's {@code
 *       lease_deadline_ms - started_at_ms}; none when leases never expire), independently of the
 *       handler's thread. A heartbeat answered STALE_ATTEMPT, NOT_IN_FLIGHT or BATCH_NOT_FOUND
 *       means the lease was lost (it expired and the batch was started again): heartbeats for
 *       that attempt stop, and its final report will be refused and dropped.
 *   <li><b>Reporting.</b> A handler that returns acks the batch, fenced with its attempt; one that
 *       throws fails it (non-retryably for {@link NonRetryableException}). A report refused
 *       because the lease was lost is logged and dropped; one that cannot be delivered is logged,
 *       and the batch is started again when its lease expires.
 *   <li><b>Stopping.</b> {@link #close()} takes nothing new, lets running handlers finish and
 *       report (up to {@code shutdownGrace}), then returns. {@link #abort()} stops at once without
 *       reporting anything: the server restarts those batches when their leases expire, exactly as
 *       after a crash.
 * </ul>
 *
 * <p>The worker does not own the client: close the client after the worker.
 */
public final class Worker implements AutoCloseable {
  private static final System.Logger log = System.getLogger(Worker.class.getName());
  private static final Set<ErrorReason> LEASE_LOST =
      EnumSet.of(ErrorReason.STALE_ATTEMPT, ErrorReason.NOT_IN_FLIGHT, ErrorReason.BATCH_NOT_FOUND);
  private static final int MAX_REASON_CHARS = 1024;

  private final OrchestratorClient client;
  private final WorkerOptions options;
  private final BatchHandler handler;
  private final ExecutorService handlers;
  private final ScheduledExecutorService heartbeats;
  private final Thread poller;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private int running; // guarded by lock
  private boolean pollNow; // guarded by lock: a reason to poll before the backoff is over
  private volatile boolean closing;
  private volatile boolean aborted;
  private final AtomicBoolean closed = new AtomicBoolean();

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
    this.heartbeats =
        Executors.newSingleThreadScheduledExecutor(threads(name + "-heartbeat", true));
    this.poller = threads(name + "-poller", false).newThread(this::pollLoop);
  }

  /** Starts a worker; it runs until {@link #close()} or {@link #abort()}. */
  public static Worker start(OrchestratorClient client, WorkerOptions options, BatchHandler handler) {
    Worker worker = new Worker(client, options, handler);
    worker.poller.start();
    return worker;
  }

  /** The counters so far. */
  public WorkerStats stats() {
    return new WorkerStats(
        started.sum(),
        acked.sum(),
        retriesScheduled.sum(),
        deadLettered.sum(),
        reportsDropped.sum(),
        leasesLost.sum(),
        reportErrors.sum());
  }

  /**
   * Graceful stop: starts nothing new, waits for running handlers to finish and report (up to
   * {@code shutdownGrace}; after that they are interrupted and not reported), then returns.
   * Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    long deadline = System.nanoTime() + options.shutdownGrace().toNanos();
    stopPolling();
    try {
      poller.join(Math.max(1, remainingMillis(deadline)));
      if (poller.isAlive()) {
        poller.interrupt(); // stuck in StartAvailable: what it starts now expires as leases
      }
      handlers.shutdown();
      if (!handlers.awaitTermination(remainingMillis(deadline), TimeUnit.MILLISECONDS)) {
        log.log(
            Level.WARNING,
            "handlers of pipeline ''{0}'' still running after {1}; interrupting them; their"
                + " batches are retried when their leases expire",
            options.pipeline(),
            options.shutdownGrace());
        aborted = true;
        handlers.shutdownNow();
      }
    } catch (InterruptedException e) {
      aborted = true;
      handlers.shutdownNow();
      Thread.currentThread().interrupt();
    } finally {
      heartbeats.shutdownNow();
    }
  }

  /**
   * Stops at once, as a crash would: no new starts, heartbeats stop, running handlers are
   * interrupted, and nothing is acked or failed. The server starts those batches again when their
   * leases expire. Does not wait for the handler threads.
   */
  public void abort() {
    closed.set(true);
    aborted = true;
    stopPolling();
    poller.interrupt();
    handlers.shutdownNow();
    heartbeats.shutdownNow();
  }

  // ---- taking work ---------------------------------------------------------------------------

  private void pollLoop() {
    long minBackoff = options.minPollBackoff().toNanos();
    long backoff = minBackoff;
    StartAvailableRequest.Builder request =
        StartAvailableRequest.newBuilder()
            .setPipeline(options.pipeline())
            .addAllStages(options.stages());
    while (true) {
      int free = awaitFreeSlots();
      if (free == 0) {
        return; // closing
      }
      List<StartedBatch> batches;
      try {
        batches = client.startAvailable(request.setMaxBatches(free).build());
      } catch (OrchestratorException e) {
        if (closing) {
          return;
        }
        log.log(
            Level.WARNING,
            "StartAvailable on pipeline ''{0}'' failed: {1}; polling again in {2} ms",
            options.pipeline(),
            e.reasonName() + ": " + e.getMessage(),
            TimeUnit.NANOSECONDS.toMillis(backoff));
        pause(backoff);
        backoff = nextBackoff(backoff);
        continue;
      }
      for (StartedBatch batch : batches) {
        launch(batch);
      }
      if (batches.isEmpty()) {
        pause(backoff);
        backoff = nextBackoff(backoff);
      } else {
        backoff = minBackoff;
      }
    }
  }

  /** Waits until a handler slot is free; returns how many are, or 0 when closing. */
  private int awaitFreeSlots() {
    lock.lock();
    try {
      while (!closing && running >= options.concurrency()) {
        changed.await();
      }
      pollNow = false;
      return closing ? 0 : options.concurrency() - running;
    } catch (InterruptedException e) {
      return 0; // only abort() and close() interrupt the poller
    } finally {
      lock.unlock();
    }
  }

  /** Waits {@code nanos}, or less when closing or when a retry was just scheduled. */
  private void pause(long nanos) {
    lock.lock();
    try {
      long left = nanos;
      while (!closing && !pollNow && left > 0) {
        left = changed.awaitNanos(left);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // only when closing; the loop then ends
    } finally {
      lock.unlock();
    }
  }

  private long nextBackoff(long backoff) {
    return Math.min(backoff * 2, options.maxPollBackoff().toNanos());
  }

  private void stopPolling() {
    lock.lock();
    try {
      closing = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private void launch(StartedBatch batch) {
    if (aborted) {
      return; // its lease expires and the server starts it again
    }
    started.increment();
    lock.lock();
    try {
      running++;
    } finally {
      lock.unlock();
    }
    Lease lease = new Lease(batch);
    long leaseMs = batch.getLeaseDeadlineMs() - batch.getStartedAtMs();
    if (batch.getLeaseDeadlineMs() > 0 && leaseMs > 0) {
      long every = Math.max(1, (long) (leaseMs * options.heartbeatFraction()));
      try {
        lease.heartbeat =
            heartbeats.scheduleWithFixedDelay(
                () -> heartbeat(lease, Duration.ofMillis(leaseMs)),
                every,
                every,
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

  // ---- leases --------------------------------------------------------------------------------

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
    client
        .async()
        // A heartbeat slower than the lease is useless: give it the lease as its deadline.
        .extendLease(options.pipeline(), lease.key(), lease.attempt(), leaseMs)
        .whenComplete(
            (deadline, error) -> {
              lease.beating.set(false);
              if (error == null || lease.stopped) {
                return;
              }
              OrchestratorException e = OrchestratorErrors.from(error);
              if (LEASE_LOST.contains(e.reason())) {
                if (lease.stop()) {
                  leasesLost.increment();
                  log.log(
                      Level.WARNING,
                      "lease of batch ''{0}'' attempt {1} lost ({2}: {3}); heartbeats stopped,"
                          + " its result will be dropped",
                      lease.key(),
                      lease.attempt(),
                      e.reasonName(),
                      e.getMessage());
                }
              } else {
                log.log(
                    Level.WARNING,
                    "heartbeat of batch ''{0}'' attempt {1} failed ({2}: {3}); trying again",
                    lease.key(),
                    lease.attempt(),
                    e.reasonName(),
                    e.getMessage());
              }
            });
  }

  // ---- running and reporting -----------------------------------------------------------------

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
    try {
      client.ackBatch(options.pipeline(), lease.key(), lease.attempt());
      acked.increment();
    } catch (OrchestratorException e) {
      reportRefused("ack", lease, e, leaseKept);
    }
  }

  private void fail(Lease lease, Throwable failure) {
    boolean nonRetryable = failure instanceof NonRetryableException;
    ProcessOutcome outcome;
    try {
      outcome =
          client.failBatch(
              options.pipeline(), lease.key(), lease.attempt(), reasonOf(failure), nonRetryable);
    } catch (OrchestratorException e) {
      reportRefused("failure report", lease, e, true);
      return;
    }
    switch (outcome.getOutcomeCase()) {
      case RETRY_SCHEDULED -> {
        retriesScheduled.increment();
        lock.lock();
        try {
          pollNow = true; // it may be ready at once
          changed.signalAll();
        } finally {
          lock.unlock();
        }
      }
      case DEAD_LETTERED -> deadLettered.increment();
      case FAILURE_REJECTED -> {
        reportsDropped.increment();
        log.log(
            Level.INFO,
            "failure report of batch ''{0}'' attempt {1} dropped: {2} (the lease was lost)",
            lease.key(),
            lease.attempt(),
            outcome.getFailureRejected().getReason());
      }
      default -> log.log(Level.WARNING, "unexpected outcome of FailBatch: {0}", outcome);
    }
  }

  private void reportRefused(String what, Lease lease, OrchestratorException e, boolean leaseKept) {
    if (LEASE_LOST.contains(e.reason())) {
      reportsDropped.increment();
      log.log(
          Level.INFO,
          "{0} of batch ''{1}'' attempt {2} dropped: {3}: {4} (the lease was {5})",
          what,
          lease.key(),
          lease.attempt(),
          e.reasonName(),
          e.getMessage(),
          leaseKept ? "lost" : "already known lost");
    } else {
      reportErrors.increment();
      log.log(
          Level.WARNING,
          "{0} of batch ''{1}'' attempt {2} failed: {3}: {4}; the batch is started again when its"
              + " lease expires",
          what,
          lease.key(),
          lease.attempt(),
          e.reasonName(),
          e.getMessage());
    }
  }

  private void finished() {
    lock.lock();
    try {
      running--;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** The failure reason: the exception's message, else its class name; never empty. */
  static String reasonOf(Throwable t) {
    String message = t.getMessage();
    String reason =
        message == null || message.isBlank() ? t.getClass().getName() : message.strip();
    return reason.length() <= MAX_REASON_CHARS ? reason : reason.substring(0, MAX_REASON_CHARS);
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
