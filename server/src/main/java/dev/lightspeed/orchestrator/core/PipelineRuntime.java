package dev.lightspeed.orchestrator.core;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The orchestration runtime of one pipeline: a deterministic state machine (SPEC sections 2-3).
 *
 * <p>Commands and the methods that handle them:
 *
 * <ul>
 *   <li>enqueue_batch → {@link #enqueueBatch} (3.1, in {@link EnqueueHandler})
 *   <li>start_available → {@link #startAvailable} (3.2, in {@link StartHandler})
 *   <li>ack_batch → {@link #ackBatch} (3.3, in {@link ReportHandler})
 *   <li>fail_batch → {@link #failBatch} (3.4, in {@link ReportHandler})
 *   <li>extend_lease → {@link #extendLease} (3.5, in {@link ReportHandler})
 *   <li>start_run, complete_run → {@link #startRun}, {@link #completeRun} (3.6, in {@link
 *       RunHandler})
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
 *
 * <p>This class is the runtime's plumbing: the clock, the version, the snapshot and the dispatch
 * of a command to the handler of its rules (named above), each of which reports what it changed
 * into {@link Changes}.
 */
public final class PipelineRuntime {
  /** The reason a lease expiry is failed with, exactly as SPEC 3.2 gives it. */
  public static final String LEASE_EXPIRED = "lease expired";

  private final PipelineState state;
  /** What the command being applied changed; the version moves by its count. */
  private final Changes changes = new Changes();
  private final EnqueueHandler enqueues;
  private final StartHandler starts;
  private final ReportHandler reports;
  private final RunHandler runs;
  private final ActionHandler actions;
  private final PipelineUpdater updater;
  private final PipelineQueries queries;

  private PipelineRuntime(PipelineSpec spec) {
    this(new PipelineState(spec));
  }

  private PipelineRuntime(PipelineState state) {
    this.state = state;
    this.enqueues = new EnqueueHandler(state, changes);
    this.reports = new ReportHandler(state, changes);
    this.starts = new StartHandler(state, changes, reports);
    this.runs = new RunHandler(state, changes);
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
   * whether it changed the state ({@link Changes}), so no command can change state without the
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
    changes.reset();
    return Math.max(nowMs, state.lastNowMs);
  }

  /**
   * Ends a command, also a refused one: the clock and version move by what its handler changed
   * (a bulk command may change some items before a later one is refused).
   */
  private void end(long now) {
    if (changes.clockMoves()) {
      state.lastNowMs = now;
    }
    state.version += changes.count();
  }

  private Object dispatch(Command<?> command, long now) {
    if (command instanceof Command.Enqueue c) {
      ItemResults<Boolean> results = new ItemResults<>(c.batches().size());
      for (Batch batch : c.batches()) {
        try {
          results.add(enqueues.enqueue(batch, now));
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
          results.add(reports.ack(c.keys()[i], c.attempts()[i], now));
        } catch (Rejection r) {
          results.refuse(r);
        }
      }
      return results;
    }
    if (command instanceof Command.StartAvailable c) {
      return starts.startAvailable(c, now);
    }
    if (command instanceof Command.Fail c) {
      return reports.fail(c, now);
    }
    if (command instanceof Command.ExtendLease c) {
      return reports.extendLease(c.key(), c.attempt(), now);
    }
    if (command instanceof Command.StartRun) {
      return runs.start(now);
    }
    if (command instanceof Command.CompleteRun) {
      return runs.complete(now);
    }
    if (command instanceof Command.ApplyAction c) {
      return applyActionAt(c.action(), now);
    }
    if (command instanceof Command.UpdatePipeline c) {
      return update(c.updateMask(), c.values(), now);
    }
    throw new IllegalArgumentException("not a pipeline command: " + command);
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
      return enqueues.enqueue(batch, now);
    } finally {
      end(now);
    }
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
      return reports.ack(key, attempt, now);
    } finally {
      end(now);
    }
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

  // ---- 3.5 extend_lease ----------------------------------------------------------------------

  /**
   * Heartbeat: moves an IN_FLIGHT batch's lease deadline to {@code now + lease_ms} and returns it
   * (0 when leases never expire). {@code attempt} 0 = no fencing.
   */
  public long extendLease(String key, int attempt, long nowMs) {
    return apply(new Command.ExtendLease(key, attempt), nowMs);
  }

  // ---- 3.6 runs ------------------------------------------------------------------------------

  /** Opens run {@code last_run_id + 1}, or returns the active run unchanged. */
  public RunSummary startRun(long nowMs) {
    return apply(new Command.StartRun(), nowMs);
  }

  /** Closes the active run and keeps its summary; empty when no run was active. */
  public Optional<RunSummary> completeRun(long nowMs) {
    return apply(new Command.CompleteRun(), nowMs);
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
    changes.changed();
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
    changes.changed();
    return new UpdateResult(state.currentSpec(), plan.changed());
  }

  /** What update_pipeline did: the effective spec and the leaf paths whose value changed. */
  public record UpdateResult(PipelineSpec spec, List<String> changed) {}

}
