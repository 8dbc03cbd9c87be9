package dev.lightspeed.orchestrator.core;

/**
 * The rules of a worker's reports on a started batch: ack_batch (SPEC 3.3), fail_batch (3.4,
 * also the failure of an expired lease) and extend_lease (3.5), with the fencing by attempt they
 * share. Apart from {@link PipelineRuntime}, which applies them, so that the runtime holds only
 * what every command shares (clock, version, snapshot).
 */
final class ReportHandler {
  private final PipelineState state;
  private final Changes changes;

  ReportHandler(PipelineState state, Changes changes) {
    this.state = state;
    this.changes = changes;
  }

  /**
   * Acknowledges a batch's work. {@code attempt} 0 means any attempt; otherwise it must be the
   * batch's current attempt. Acking a DONE batch again within the dedup window answers the same
   * Processed outcome.
   */
  ProcessOutcome.Processed ack(String key, int attempt, long now) {
    LiveBatch b = state.live.get(key);
    if (b == null) {
      return new ProcessOutcome.Processed(recentlyDone(key, attempt, now).result());
    }
    requireInFlight(b, attempt);
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
    changes.changed();
    if (run != null) {
      run.batchesProcessed++;
      run.recordsProcessed += b.batch.records();
    }
    return new ProcessOutcome.Processed(result);
  }

  /**
   * Reports a failed attempt. Retryable failures before the last attempt wait for a retry; others
   * dead-letter the batch. A report for an attempt that is no longer in flight is answered with
   * FailureRejected and changes nothing.
   */
  ProcessOutcome fail(Command.Fail command, long now) {
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
    changes.changed();
    return failAttempt(b, reason, command.nonRetryable(), now);
  }

  /** Fails an IN_FLIGHT batch's current attempt: retry later, or dead-letter (SPEC 3.4). */
  ProcessOutcome failAttempt(LiveBatch b, String reason, boolean nonRetryable, long now) {
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

  /**
   * The stage's SINK's destination if set, else its SOURCE's, else {@code
   * <pipeline>.<stage>.dlq}.
   */
  private String deadLetterDestination(String stageName) {
    StageState stage = state.stages.get(stageName);
    for (ConnectorKind kind : new ConnectorKind[] {ConnectorKind.SINK, ConnectorKind.SOURCE}) {
      Connector c = stage.connector(kind);
      if (c != null && !c.deadLetterDestination().isEmpty()) {
        return c.deadLetterDestination();
      }
    }
    return state.spec.name() + "." + stageName + ".dlq";
  }

  /**
   * Heartbeat: moves an IN_FLIGHT batch's lease deadline to {@code now + lease_ms} and returns it
   * (0 when leases never expire). {@code attempt} 0 = no fencing.
   */
  long extendLease(String key, int attempt, long now) {
    LiveBatch b = state.live.get(key);
    if (b == null) {
      recentlyDone(key, attempt, now);
      throw Rejection.of(
          Reason.NOT_IN_FLIGHT, "batch '" + Text.printable(key) + "' is DONE, not in flight");
    }
    requireInFlight(b, attempt);
    long leaseMs = state.spec.boundary().leaseMs();
    long deadline = leaseMs > 0 ? PipelineState.saturatedAdd(now, leaseMs) : 0;
    state.extendLease(b, deadline);
    changes.changed();
    return deadline;
  }

  /**
   * For ack and extend_lease: the batch {@code key}, no longer live, DONE within the dedup window
   * under {@code attempt} (0 = any); else refused (BATCH_NOT_FOUND, STALE_ATTEMPT).
   */
  private GoneBatch recentlyDone(String key, int attempt, long now) {
    GoneBatch d = doneWithinWindow(key, now);
    if (d == null) {
      throw notFound(key);
    }
    if (attempt != 0 && attempt != d.attempt) {
      throw staleAttempt(attempt, d.attempt, key);
    }
    return d;
  }

  /**
   * For ack and extend_lease: refuses unless live batch {@code b} is IN_FLIGHT under {@code
   * attempt} (0 = any).
   */
  private static void requireInFlight(LiveBatch b, int attempt) {
    if (attempt != 0 && attempt != b.attempt) {
      throw staleAttempt(attempt, b.attempt, b.key());
    }
    if (b.state != BatchState.IN_FLIGHT) {
      throw notInFlight(b);
    }
  }

  private GoneBatch doneWithinWindow(String key, long now) {
    GoneBatch d = state.remembered.ackOf(key);
    return d != null && now - d.leftAtMs < state.spec.dedupWindowMs() ? d : null;
  }

  /** BATCH_NOT_FOUND for {@code key} (operator actions on a batch refuse with it too). */
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
