package dev.lightspeed.orchestrator.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * The orchestration runtime of one pipeline: a deterministic state machine (SPEC sections 2-3).
 *
 * <p>Commands and the methods that handle them:
 *
 * <ul>
 *   <li>enqueue_batch → {@link #enqueueBatch} (3.1)
 *   <li>start_available → {@link #startAvailable} (3.2)
 *   <li>ack_batch → {@link #ackBatch} (3.3)
 *   <li>fail_batch → {@link #failBatch} (3.4)
 *   <li>extend_lease → {@link #extendLease} (3.5)
 *   <li>start_run, complete_run → {@link #startRun}, {@link #completeRun} (3.6)
 *   <li>apply_action → {@link #applyAction} (3.7, in {@link ActionHandler})
 *   <li>update_pipeline → {@link #updatePipeline} (3.9, in {@link PipelineUpdater})
 *   <li>queries → {@link PipelineQueries} via {@link #queries()} (3.8)
 * </ul>
 *
 * <p>Every command is a {@link Command} value applied by {@link #apply}, the single place that
 * clamps the clock and bumps the version; the methods above are one-line shorthands for it (the
 * core's tests and benchmarks use them). Each command runs at {@code now = max(nowMs, last now)},
 * checks everything first and only then changes state, so a refused call (a thrown {@link
 * Rejection}) changes nothing, not even the clock. Not thread-safe: the server applies one
 * pipeline's commands one at a time.
 */
public final class PipelineRuntime {
  /** The reason a lease expiry is failed with, exactly as SPEC 3.2 gives it. */
  public static final String LEASE_EXPIRED = "lease expired";

  private final PipelineState state;
  private final ActionHandler actions;
  private final PipelineUpdater updater;
  private final PipelineQueries queries;

  private PipelineRuntime(PipelineSpec spec) {
    this(new PipelineState(spec));
  }

  private PipelineRuntime(PipelineState state) {
    this.state = state;
    this.actions = new ActionHandler(state);
    this.updater = new PipelineUpdater(state);
    this.queries = new PipelineQueries(state);
  }

  /** A new, empty runtime; throws INVALID_PIPELINE_SPEC if the spec breaks a rule. */
  public static PipelineRuntime create(PipelineSpec spec) {
    PipelineSpecValidator.validate(spec);
    return new PipelineRuntime(spec);
  }

  /** Writes the complete state for a snapshot; {@link #readSnapshot} gives it back. */
  public void writeSnapshot(java.io.DataOutput out) throws java.io.IOException {
    StateCodec.write(state, out);
  }

  /** A runtime in exactly the state a {@link #writeSnapshot} wrote. */
  public static PipelineRuntime readSnapshot(java.io.DataInput in) throws java.io.IOException {
    return new PipelineRuntime(StateCodec.read(in));
  }

  public String name() {
    return state.spec.name();
  }

  /** The read side: lists, counts, signature and invariants. Reads never change state. */
  public PipelineQueries queries() {
    return queries;
  }

  // ---- the one entry of every command -------------------------------------------------------

  /**
   * Applies {@code command} at {@code now = max(nowMs, last now)} and returns its result. This is
   * the only place the clock is clamped and advanced and the version bumped: a handler only says
   * whether it changed the state ({@link #changed()}), so no command can change state without the
   * version (which decides what the server journals) moving with it. A refusal (a thrown {@link
   * Rejection}) changes nothing, not even the clock; a bulk command refuses item by item.
   */
  @SuppressWarnings("unchecked") // each branch returns its command's R, by the records' types
  public <R> R apply(Command<R> command, long nowMs) {
    long now = begin(nowMs);
    try {
      return (R) dispatch(command, now);
    } finally {
      end(now);
    }
  }

  /** Starts a command: the clamped clock it runs at. */
  private long begin(long nowMs) {
    changes = 0;
    clockMoved = false;
    return Math.max(nowMs, state.lastNowMs);
  }

  /**
   * Ends a command, also a refused one: the clock and version move by what its handler changed
   * (a bulk command may change some items before a later one is refused).
   */
  private void end(long now) {
    if (changes > 0 || clockMoved) {
      state.lastNowMs = now;
    }
    state.version += changes;
  }

  private Object dispatch(Command<?> command, long now) {
    if (command instanceof Command.Enqueue c) {
      ItemResults<Boolean> results = new ItemResults<>(c.batches().size());
      for (Batch batch : c.batches()) {
        try {
          results.add(enqueue(batch, now));
        } catch (Rejection r) {
          results.refuse(r);
        }
      }
      return results;
    }
    if (command instanceof Command.Ack c) {
      ItemResults<ProcessOutcome.Processed> results = new ItemResults<>(c.size());
      for (int i = 0; i < c.size(); i++) {
        try {
          results.add(ack(c.keys()[i], c.attempts()[i], now));
        } catch (Rejection r) {
          results.refuse(r);
        }
      }
      return results;
    }
    if (command instanceof Command.StartAvailable c) {
      return startAvailable(c, now);
    }
    if (command instanceof Command.Fail c) {
      return fail(c, now);
    }
    if (command instanceof Command.ExtendLease c) {
      return extendLeaseAt(c.key(), c.attempt(), now);
    }
    if (command instanceof Command.StartRun) {
      return startRunAt(now);
    }
    if (command instanceof Command.CompleteRun) {
      return completeRunAt(now);
    }
    if (command instanceof Command.ApplyAction c) {
      return applyActionAt(c.action(), now);
    }
    if (command instanceof Command.UpdatePipeline c) {
      return update(c.updateMask(), c.values(), now);
    }
    throw new IllegalArgumentException("not a pipeline command: " + command);
  }

  /** How many changes the command being applied made; the version moves by this much. */
  private int changes;
  /** Whether the command being applied moves the clock without changing state. */
  private boolean clockMoved;

  /** Called by a handler once it changed the state (after its checks passed). */
  private void changed() {
    changes++;
  }

  // ---- 3.1 enqueue_batch ---------------------------------------------------------------------

  /**
   * Enqueues one batch. Returns {@code true} when it was a repeat of an accepted enqueue with the
   * same idempotency key (answered, nothing changed), {@code false} when it was enqueued.
   */
  public boolean enqueueBatch(Batch batch, long nowMs) {
    // apply(Command.Enqueue.of(batch)) without the per-call list and results (core benchmarks)
    long now = begin(nowMs);
    try {
      return enqueue(batch, now);
    } finally {
      end(now);
    }
  }

  private boolean enqueue(Batch batch, long now) {
    EnqueueChecks.validate(batch);
    Accepted seen = state.acceptedByIdempotencyKey(batch.idempotencyKey());
    if (seen != null && (seen.isLive() || now - seen.leftAtMs() < state.spec.dedupWindowMs())) {
      if (seen.sameEnqueueAs(batch)) {
        return true;
      }
      throw Rejection.of(
          Reason.IDEMPOTENCY_CONFLICT,
          "idempotency_key '" + Text.printable(batch.idempotencyKey()) + "' was already used for"
              + " batch '" + Text.printable(seen.batchKey()) + "' with different contents; send the"
              + " same key, stage, records and sequence again, or use a new idempotency key");
    }
    if (state.live.containsKey(batch.key())) {
      throw Rejection.of(
          Reason.BATCH_KEY_EXISTS,
          "a live batch with key '" + Text.printable(batch.key()) + "' already exists; use a new"
              + " key, or wait until that batch is done, cancelled or discarded");
    }
    StageState stage = EnqueueChecks.connectorChecks(state, batch);
    if (state.baseMode == PipelineMode.DRAINING) {
      throw Rejection.of(
          Reason.PIPELINE_DRAINING,
          "pipeline '" + name() + "' is draining and accepts no new batches; RESUME it first");
    }
    // Sequence 0 means "no sequence" (SPEC 3.1 check 6, version 2): not checked, not recorded.
    if (batch.sequence() > 0 && stage.hasSequence && batch.sequence() <= stage.lastSequence) {
      throw Rejection.of(
          Reason.SEQUENCE_REGRESSION,
          "sequence " + batch.sequence() + " is not greater than the last accepted sequence "
              + stage.lastSequence + " of stage '" + stage.name + "'; send a sequence above "
              + stage.lastSequence);
    }
    Boundary boundary = state.spec.boundary();
    if (state.queuedCount >= boundary.maxQueued()) {
      throw Rejection.of(
          Reason.QUEUE_FULL,
          "pipeline '" + name() + "' has " + state.queuedCount + " batches waiting, its max_queued"
              + " is " + boundary.maxQueued() + "; retry after workers catch up");
    }
    if (boundary.maxLagMs() > 0 && batch.lagMs() > boundary.maxLagMs()) {
      throw Rejection.of(
          Reason.LAG_EXCEEDED,
          "lag_ms " + batch.lagMs() + " exceeds the pipeline's max_lag_ms " + boundary.maxLagMs()
              + "; retry when the source has caught up");
    }
    state.forgetExpired(now);
    state.enqueue(batch, now);
    state.events.append(EventType.ENQUEUED, now, batch);
    changed();
    return false;
  }

  // ---- 3.2 start_available -------------------------------------------------------------------

  /** Starts every batch that may start now, with no limit of count and for every stage. */
  public StartResult startAvailable(long nowMs) {
    return startAvailable(nowMs, 0, Set.of());
  }

  /**
   * Expires due leases, then starts available batches in ready order under the backpressure
   * limits (SPEC 3.2).
   *
   * @param maxBatches start at most this many; 0 (or less) = no limit
   * @param stageFilter start only batches of these stages; empty = every stage. A name that is
   *     not a declared stage is refused with UNKNOWN_STAGE rather than silently starting nothing.
   */
  public StartResult startAvailable(long nowMs, int maxBatches, Set<String> stageFilter) {
    return apply(new Command.StartAvailable(maxBatches, stageFilter), nowMs);
  }

  private StartResult startAvailable(Command.StartAvailable command, long now) {
    int maxBatches = command.maxBatches();
    Set<String> stageFilter = command.stages();
    for (String s : stageFilter) {
      if (!state.stages.containsKey(s)) {
        throw Rejection.ofField(
            Reason.UNKNOWN_STAGE,
            "stages",
            "unknown stage '" + Text.printable(s) + "'; use one of " + state.spec.stages());
      }
    }
    // The clock moves even when nothing starts (it always has): the next call runs no earlier.
    clockMoved = true;
    List<ProcessOutcome> expired = expireLeases(now);
    List<StartedBatch> started = new ArrayList<>();
    if (state.baseMode != PipelineMode.PAUSED) {
      startInReadyOrder(now, maxBatches, stageFilter, started);
    }
    if (!started.isEmpty() || !expired.isEmpty()) {
      changed();
    }
    return new StartResult(started, expired);
  }

  private List<ProcessOutcome> expireLeases(long now) {
    List<ProcessOutcome> expired = List.of();
    while (!state.leases.isEmpty() && state.leases.first().leaseDeadlineMs <= now) {
      LiveBatch b = state.leases.first();
      if (expired.isEmpty()) {
        expired = new ArrayList<>();
      }
      state.events.append(EventType.LEASE_EXPIRED, now, new LeaseExpired(b.key(), b.attempt));
      expired.add(fail(b, LEASE_EXPIRED, false, now));
    }
    return expired;
  }

  /**
   * Walks the candidates in ready order (SPEC 3.2 steps 3-5), one stage head at a time: a stage
   * that is paused, disabled, filtered out or blocked is skipped whole, so the cost grows with the
   * batches started, not with the backlog.
   */
  private void startInReadyOrder(
      long now, int maxBatches, Set<String> stageFilter, List<StartedBatch> started) {
    // Only the stages that may start something now; with a filter, only those it names.
    // A loop, not a stream: this runs on every StartAvailable, and workers usually name a stage.
    Iterable<StageState> considered;
    if (stageFilter.isEmpty()) {
      considered = state.stages.values();
    } else if (stageFilter.size() == 1) {
      considered = List.of(state.stages.get(stageFilter.iterator().next()));
    } else {
      List<StageState> named = new ArrayList<>(stageFilter.size());
      for (String name : stageFilter) {
        named.add(state.stages.get(name));
      }
      considered = named;
    }
    StageState only = null;
    PriorityQueue<StageState> heads = null;
    for (StageState s : considered) {
      if (s.paused || s.disabledConnector() != null || s.nextStartable(now) == null) {
        continue;
      }
      if (only == null && heads == null) {
        only = s;
        continue;
      }
      if (heads == null) {
        heads = new PriorityQueue<>(
            (a, b) -> LiveBatch.BY_READY.compare(a.nextStartable(now), b.nextStartable(now)));
        heads.add(only);
        only = null;
      }
      heads.add(s);
    }
    long runId = state.activeRun == null ? 0 : state.activeRun.runId;
    if (only != null) {
      // One startable stage (the common case with a stage filter): no merge needed.
      while (startNext(only, now, maxBatches, runId, started) && only.nextStartable(now) != null) {
        // keep starting from this stage
      }
      return;
    }
    while (heads != null && !heads.isEmpty()) {
      StageState stage = heads.poll();
      if (!startNext(stage, now, maxBatches, runId, started)) {
        return;
      }
      if (stage.nextStartable(now) != null) {
        heads.add(stage);
      }
    }
  }

  /**
   * Starts {@code stage}'s next startable batch unless a limit stops the walk (SPEC 3.2 step 4):
   * the effective in-flight limit, {@code maxBatches}, or a batch that would push in-flight
   * records over the budget (no overtaking: a large batch is not starved by smaller ones behind
   * it). Returns false when the walk must stop.
   */
  private boolean startNext(
      StageState stage, long now, int maxBatches, long runId, List<StartedBatch> started) {
    if (state.inFlightCount >= state.effectiveMaxInFlight) {
      return false;
    }
    if (maxBatches > 0 && started.size() >= maxBatches) {
      return false;
    }
    Boundary boundary = state.spec.boundary();
    LiveBatch b = stage.nextStartable(now);
    // Compared without overflow: records are the client's numbers, up to 2^63-1 each, and a sum
    // that wrapped negative would pass any budget. With no budget, the in-flight records still
    // may not pass Long.MAX_VALUE (no real pipeline gets near it), so the count never wraps.
    long budget = boundary.maxInFlightRecords() > 0 ? boundary.maxInFlightRecords() : Long.MAX_VALUE;
    if (b.batch.records() > budget - state.inFlightRecords) {
      return false;
    }
    state.start(b, now, boundary.leaseMs());
    StartedBatch s = new StartedBatch(b.batch, b.attempt, now, b.leaseDeadlineMs, runId);
    started.add(s);
    state.events.append(EventType.STARTED, now, s);
    return true;
  }


  // ---- 3.3 ack_batch -------------------------------------------------------------------------

  /**
   * Acknowledges a batch's work. {@code attempt} 0 means any attempt; otherwise it must be the
   * batch's current attempt. Acking a DONE batch again within the dedup window answers the same
   * Processed outcome.
   */
  public ProcessOutcome.Processed ackBatch(String key, int attempt, long nowMs) {
    // apply(Command.Ack.of(key, attempt)) without the per-call arrays and results
    long now = begin(nowMs);
    try {
      return ack(key, attempt, now);
    } finally {
      end(now);
    }
  }

  private ProcessOutcome.Processed ack(String key, int attempt, long now) {
    LiveBatch b = state.live.get(key);
    if (b == null) {
      GoneBatch d = doneWithinWindow(key, now);
      if (d == null) {
        throw notFound(key);
      }
      if (attempt != 0 && attempt != d.attempt) {
        throw staleAttempt(attempt, d.attempt, key);
      }
      return new ProcessOutcome.Processed(d.result());
    }
    if (attempt != 0 && attempt != b.attempt) {
      throw staleAttempt(attempt, b.attempt, key);
    }
    if (b.state != BatchState.IN_FLIGHT) {
      throw notInFlight(b);
    }
    ActiveRun run = state.activeRun;
    ProcessResult result =
        new ProcessResult(
            key,
            b.batch.stage(),
            b.batch.records(),
            b.attempt,
            run == null ? 0 : run.runId,
            b.startedAtMs,
            now);
    state.forgetExpired(now);
    state.complete(b, result);
    state.events.append(EventType.ACKED, now, result);
    changed();
    if (run != null) {
      run.batchesProcessed++;
      run.recordsProcessed += b.batch.records();
    }
    return new ProcessOutcome.Processed(result);
  }

  // ---- 3.4 fail_batch ------------------------------------------------------------------------

  /**
   * Reports a failed attempt. Retryable failures before the last attempt wait for a retry; others
   * dead-letter the batch. A report for an attempt that is no longer in flight is answered with
   * FailureRejected and changes nothing.
   */
  public ProcessOutcome failBatch(
      String key, int attempt, String reason, boolean nonRetryable, long nowMs) {
    return apply(new Command.Fail(key, attempt, reason, nonRetryable), nowMs);
  }

  private ProcessOutcome fail(Command.Fail command, long now) {
    String key = command.key();
    int attempt = command.attempt();
    String reason = command.reason();
    if (reason == null || reason.isEmpty()) {
      throw Rejection.ofField(
          Reason.INVALID_FAILURE, "reason", "give a non-empty reason for the failure");
    }
    if (attempt < 1) {
      throw Rejection.ofField(
          Reason.INVALID_FAILURE,
          "attempt",
          "must be ≥ 1 (got " + attempt + "); send the attempt the batch was started with");
    }
    LiveBatch b = state.live.get(key);
    if (b == null) {
      GoneBatch d = doneWithinWindow(key, now);
      if (d == null) {
        throw notFound(key);
      }
      return new ProcessOutcome.FailureRejected(
          attempt != d.attempt
              ? staleAttemptText(attempt, d.attempt)
              : "batch is DONE, not in flight");
    }
    if (attempt != b.attempt) {
      return new ProcessOutcome.FailureRejected(staleAttemptText(attempt, b.attempt));
    }
    if (b.state != BatchState.IN_FLIGHT) {
      return new ProcessOutcome.FailureRejected("batch is " + b.state + ", not in flight");
    }
    changed();
    return fail(b, reason, command.nonRetryable(), now);
  }

  /** Fails an IN_FLIGHT batch's current attempt: retry later, or dead-letter (SPEC 3.4). */
  private ProcessOutcome fail(LiveBatch b, String reason, boolean nonRetryable, long now) {
    RetryPolicy retry = state.spec.retry();
    ActiveRun run = state.activeRun;
    if (!nonRetryable && b.attempt < retry.maxAttempts()) {
      long retryAt = PipelineState.saturatedAdd(now, retry.backoffMs(b.attempt));
      RetryRecord record = new RetryRecord(b.key(), b.attempt + 1, reason, retryAt);
      state.retryLater(b, record, now);
      state.events.append(EventType.RETRY_SCHEDULED, now, record);
      if (run != null) {
        run.retriesScheduled++;
      }
      return new ProcessOutcome.RetryScheduled(record);
    }
    DeadLetterRecord record =
        new DeadLetterRecord(b.key(), deadLetterDestination(b.batch.stage()), reason, now);
    state.deadLetter(b, record, now);
    state.events.append(EventType.DEAD_LETTERED, now, record);
    if (run != null) {
      run.deadLettered++;
    }
    return new ProcessOutcome.DeadLettered(record);
  }

  /** The stage's SINK's destination if set, else its SOURCE's, else {@code <pipeline>.<stage>.dlq}. */
  private String deadLetterDestination(String stageName) {
    StageState stage = state.stages.get(stageName);
    for (ConnectorKind kind : new ConnectorKind[] {ConnectorKind.SINK, ConnectorKind.SOURCE}) {
      Connector c = stage.connector(kind);
      if (c != null && !c.deadLetterDestination().isEmpty()) {
        return c.deadLetterDestination();
      }
    }
    return name() + "." + stageName + ".dlq";
  }

  // ---- 3.5 extend_lease ----------------------------------------------------------------------

  /**
   * Heartbeat: moves an IN_FLIGHT batch's lease deadline to {@code now + lease_ms} and returns it
   * (0 when leases never expire). {@code attempt} 0 = no fencing.
   */
  public long extendLease(String key, int attempt, long nowMs) {
    return apply(new Command.ExtendLease(key, attempt), nowMs);
  }

  private long extendLeaseAt(String key, int attempt, long now) {
    LiveBatch b = state.live.get(key);
    if (b == null) {
      GoneBatch d = doneWithinWindow(key, now);
      if (d == null) {
        throw notFound(key);
      }
      if (attempt != 0 && attempt != d.attempt) {
        throw staleAttempt(attempt, d.attempt, key);
      }
      throw Rejection.of(
          Reason.NOT_IN_FLIGHT, "batch '" + Text.printable(key) + "' is DONE, not in flight");
    }
    if (attempt != 0 && attempt != b.attempt) {
      throw staleAttempt(attempt, b.attempt, key);
    }
    if (b.state != BatchState.IN_FLIGHT) {
      throw notInFlight(b);
    }
    long leaseMs = state.spec.boundary().leaseMs();
    long deadline = leaseMs > 0 ? PipelineState.saturatedAdd(now, leaseMs) : 0;
    state.extendLease(b, deadline);
    changed();
    return deadline;
  }

  // ---- 3.6 runs ------------------------------------------------------------------------------

  /** Opens run {@code last_run_id + 1}, or returns the active run unchanged. */
  public RunSummary startRun(long nowMs) {
    return apply(new Command.StartRun(), nowMs);
  }

  private RunSummary startRunAt(long now) {
    if (state.activeRun == null) {
      state.lastRunId++;
      state.activeRun = new ActiveRun(state.lastRunId, now);
      state.events.append(EventType.RUN_STARTED, now, state.activeRun.summary(0));
      changed();
    }
    return state.activeRun.summary(0);
  }

  /** Closes the active run and keeps its summary; empty when no run was active. */
  public Optional<RunSummary> completeRun(long nowMs) {
    return apply(new Command.CompleteRun(), nowMs);
  }

  private Optional<RunSummary> completeRunAt(long now) {
    if (state.activeRun == null) {
      return Optional.empty();
    }
    RunSummary summary = state.activeRun.summary(now);
    state.activeRun = null;
    state.appendCompletedRun(summary);
    state.events.append(EventType.RUN_COMPLETED, now, summary);
    changed();
    return Optional.of(summary);
  }

  // ---- 3.7 apply_action ----------------------------------------------------------------------

  /** Applies an operator action and appends it to the audit log; returns the log message. */
  public String applyAction(OperatorAction action, long nowMs) {
    return apply(new Command.ApplyAction(action), nowMs);
  }

  private String applyActionAt(OperatorAction action, long now) {
    String message = actions.check(action, now);
    actions.apply(action, now);
    state.appendAudit(new AuditEntry(action, now, message));
    changed();
    return message;
  }

  // ---- 3.10 the event log --------------------------------------------------------------------

  /** Keeps at least the newest {@code retention} (≥ 1) events; a server setting, not state. */
  public void setEventRetention(int retention) {
    state.events.setRetention(retention);
  }

  // ---- 3.9 update_pipeline -------------------------------------------------------------------

  /**
   * Changes the settings named by {@code updateMask} (paths as in SPEC 3.9) to their values in
   * {@code values} (a complete spec: absent fields already hold their defaults). An update that
   * changes no value is accepted and changes nothing (not even the clock); any other is appended
   * to the audit log. Returns the effective spec and the leaf paths whose value changed.
   */
  public UpdateResult updatePipeline(List<String> updateMask, PipelineSpec values, long nowMs) {
    return apply(new Command.UpdatePipeline(updateMask, values), nowMs);
  }

  private UpdateResult update(List<String> updateMask, PipelineSpec values, long now) {
    PipelineUpdater.Plan plan = updater.check(updateMask, values);
    if (plan.changed().isEmpty()) {
      return new UpdateResult(state.currentSpec(), List.of());
    }
    updater.apply(plan);
    state.appendAudit(
        new AuditEntry(new OperatorAction.UpdatePipeline(updateMask), now, plan.auditMessage()));
    changed();
    return new UpdateResult(state.currentSpec(), plan.changed());
  }

  /** What update_pipeline did: the effective spec and the leaf paths whose value changed. */
  public record UpdateResult(PipelineSpec spec, List<String> changed) {}

  // ---- helpers -------------------------------------------------------------------------------

  private GoneBatch doneWithinWindow(String key, long now) {
    GoneBatch d = state.remembered.ackOf(key);
    return d != null && now - d.leftAtMs < state.spec.dedupWindowMs() ? d : null;
  }

  static Rejection notFound(String key) {
    return Rejection.of(
        Reason.BATCH_NOT_FOUND,
        "no batch with key '" + Text.printable(key) + "' is live or recently done; check the key");
  }

  private static Rejection notInFlight(LiveBatch b) {
    return Rejection.of(
        Reason.NOT_IN_FLIGHT,
        "batch '" + Text.printable(b.key()) + "' is " + b.state + ", not in flight; only a started"
            + " batch can be acked or have its lease extended");
  }

  private static Rejection staleAttempt(int attempt, int current, String key) {
    return Rejection.of(
        Reason.STALE_ATTEMPT,
        staleAttemptText(attempt, current) + " (batch '" + Text.printable(key) + "'); this worker"
            + " lost the batch, drop its result");
  }

  private static String staleAttemptText(int attempt, int current) {
    return "stale attempt " + attempt + ": batch is at attempt " + current;
  }
}
