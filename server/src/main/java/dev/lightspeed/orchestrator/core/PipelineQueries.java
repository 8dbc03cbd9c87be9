package dev.lightspeed.orchestrator.core;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.function.Function;

/**
 * The read side of a pipeline (SPEC 3.8). Nothing here changes state. Lists page by cursor: a
 * cursor is the position of the last item returned, so a page stays correct while batches come
 * and go between calls.
 */
public final class PipelineQueries {
  private final PipelineState state;
  private long signatureVersion = -1;
  private String signature;
  private long invariantVersion = -1;
  private String brokenInvariant;

  PipelineQueries(PipelineState state) {
    this.state = state;
  }

  /** The spec as created, with the connectors' current {@code disabled} flags. */
  public PipelineSpec spec() {
    return state.currentSpec();
  }

  /** Every live batch in enqueue order. */
  public List<BatchView> batches() {
    return batches(Page.START, Integer.MAX_VALUE, null).items();
  }

  /**
   * Live batches in enqueue order after {@code cursor}, at most {@code limit}, only those in
   * {@code filter} (null = every state).
   */
  public Page<BatchView> batches(long cursor, int limit, BatchState filter) {
    limit = Math.max(1, limit);
    EnqueueOrder order = state.liveByEnqueue;
    List<BatchView> items = new ArrayList<>();
    long last = Page.START;
    for (int slot = cursor < 0 ? 0 : order.firstSlotAfter(cursor); slot < order.slotCount(); slot++) {
      LiveBatch b = order.at(slot);
      if (b == null || (filter != null && b.state != filter)) {
        continue;
      }
      if (items.size() == limit) {
        return new Page<>(items, last);
      }
      items.add(b.view());
      last = b.enqueueSeq;
    }
    return new Page<>(items, Page.START);
  }

  /** Records of the batches now in RETRY_WAIT, in emit order. */
  public List<RetryRecord> retries() {
    return retries(Page.START, Integer.MAX_VALUE).items();
  }

  public Page<RetryRecord> retries(long cursor, int limit) {
    return page(state.retryWaiting, cursor, limit, b -> b.retry);
  }

  /** Dead-letter records in emit order. */
  public List<DeadLetterRecord> deadLetters() {
    return deadLetters(Page.START, Integer.MAX_VALUE).items();
  }

  public Page<DeadLetterRecord> deadLetters(long cursor, int limit) {
    return page(state.deadLettered, cursor, limit, b -> b.deadLetter);
  }

  /** Completed runs, newest first (the last {@value PipelineState#RUN_HISTORY_CAPACITY}). */
  public List<RunSummary> runs() {
    return runs(Page.START, Integer.MAX_VALUE).items();
  }

  /** Completed runs, newest first, with run ids below {@code cursor} (or all for START). */
  public Page<RunSummary> runs(long cursor, int limit) {
    limit = Math.max(1, limit);
    List<RunSummary> items = new ArrayList<>();
    Iterator<RunSummary> newestFirst = state.completedRuns.descendingIterator();
    while (newestFirst.hasNext()) {
      RunSummary run = newestFirst.next();
      if (cursor >= 0 && run.runId() >= cursor) {
        continue;
      }
      if (items.size() == limit) {
        return new Page<>(items, items.get(items.size() - 1).runId());
      }
      items.add(run);
    }
    return new Page<>(items, Page.START);
  }

  /** The active run, or null. */
  public RunSummary activeRun() {
    return state.activeRun == null ? null : state.activeRun.summary(0);
  }

  public long activeRunId() {
    return state.activeRun == null ? 0 : state.activeRun.runId;
  }

  /** The audit log, oldest first (the last {@value PipelineState#AUDIT_LOG_CAPACITY} entries). */
  public List<AuditEntry> auditLog() {
    return auditLog(Page.START, Integer.MAX_VALUE).items();
  }

  /** Audit entries after entry number {@code cursor}, oldest first. */
  public Page<AuditEntry> auditLog(long cursor, int limit) {
    limit = Math.max(1, limit);
    long first = state.auditAppended - state.auditLog.size();
    long skip = Math.max(0, cursor + 1 - first);
    List<AuditEntry> items = new ArrayList<>();
    long number = first;
    for (AuditEntry e : state.auditLog) {
      if (number >= first + skip) {
        if (items.size() == limit) {
          return new Page<>(items, number - 1);
        }
        items.add(e);
      }
      number++;
    }
    return new Page<>(items, Page.START);
  }

  public PipelineMode mode() {
    return state.mode();
  }

  public int effectiveMaxInFlight() {
    return state.effectiveMaxInFlight;
  }

  public long inFlightCount() {
    return state.inFlightCount;
  }

  /** QUEUED + RETRY_WAIT. */
  public long queuedCount() {
    return state.queuedCount;
  }

  public long retryWaitCount() {
    return state.retryWaitCount();
  }

  public long deadLetterCount() {
    return state.deadLettered.size();
  }

  public long liveCount() {
    return state.live.size();
  }

  /**
   * When the longest-waiting batch that may start now became ready, or -1 if no batch is waiting
   * and ready: the earliest ready time over QUEUED batches and RETRY_WAIT batches whose retry time
   * is at or before {@code nowMs} (for monitoring: {@code nowMs} minus this is how long work has
   * waited). Each stage contributes one batch, the head of its waiting set: in an unordered stage
   * its earliest-ready batch, in an ordered stage the batch next in line (only it may start, so a
   * RETRY_WAIT head not yet due makes the stage contribute nothing). It ignores pauses, disabled
   * connectors and the in-flight limit: it says how long work has waited, not why. O(stages).
   */
  public long oldestReadyAtMs(long nowMs) {
    long oldest = -1;
    for (StageState s : state.stages.values()) {
      if (s.waiting.isEmpty()) {
        continue;
      }
      long readyAt = s.waiting.first().readyAtMs;
      if (readyAt <= nowMs && (oldest < 0 || readyAt < oldest)) {
        oldest = readyAt;
      }
    }
    return oldest;
  }

  /**
   * The next instant after {@code nowMs} at which time alone may let something start or leave
   * IN_FLIGHT: the earliest retry time of a stage's head that is not yet due, or the earliest
   * lease deadline after {@code nowMs}; -1 if there is none. A Work stream's dispatcher arms its
   * timer here so that retries and lease expiries are served without polling. A head that is
   * already due but blocked (a limit, a pause) is not a time: only an event unblocks it. O(stages
   * + expired leases).
   */
  public long nextWakeAtMs(long nowMs) {
    long next = -1;
    for (StageState s : state.stages.values()) {
      if (!s.waiting.isEmpty()) {
        long readyAt = s.waiting.first().readyAtMs;
        if (readyAt > nowMs && (next < 0 || readyAt < next)) {
          next = readyAt;
        }
      }
    }
    for (LiveBatch b : state.leases) {
      if (b.leaseDeadlineMs > nowMs) {
        if (next < 0 || b.leaseDeadlineMs < next) {
          next = b.leaseDeadlineMs;
        }
        break;
      }
    }
    return next;
  }

  /**
   * Whether a start_available of {@code stages} (empty = all; each a declared stage) would change
   * anything at {@code nowMs}: start a batch or expire a lease. A cluster node's Work dispatcher
   * asks its replica this before it submits a start, so that a start with nothing to do is not
   * written to the Raft log.
   */
  public boolean startWouldChange(java.util.Set<String> stages, long nowMs) {
    return StartHandler.wouldChange(state, stages, nowMs);
  }

  /**
   * Whether the live batch {@code key} is IN_FLIGHT under {@code attempt} with a lease that has
   * not expired at {@code nowMs} (a lease of 0 never expires). Allocation-free: a Work stream's
   * dispatcher asks this for each of its unfinished batches when it counts its free slots.
   */
  public boolean inFlightUnexpired(String key, int attempt, long nowMs) {
    LiveBatch b = state.live.get(key);
    return b != null && b.state == BatchState.IN_FLIGHT && b.attempt == attempt
        && (b.leaseDeadlineMs == 0 || b.leaseDeadlineMs > nowMs);
  }

  /** The current state of the live batch {@code key}, or null. */
  public BatchView batch(String key) {
    LiveBatch b = state.live.get(key);
    return b == null ? null : b.view();
  }

  /** Acked batches and records per stage, in stage declaration order. */
  public List<StageCounters> stageCounters() {
    List<StageCounters> out = new ArrayList<>();
    for (StageState s : state.stages.values()) {
      out.add(new StageCounters(s.name, s.batchesProcessed, s.recordsProcessed, s.paused));
    }
    return out;
  }

  /**
   * A counter that moves with every accepted call that changed the state (not with reads, refused
   * calls, or calls that only moved the clock).
   */
  /** The retained events with an id above {@code afterEventId}, oldest first (SPEC 3.10). */
  public List<Event> eventsAfter(long afterEventId) {
    return state.events.after(afterEventId);
  }

  /** The id the next event will get (1 for a new pipeline). */
  public long nextEventId() {
    return state.events.nextEventId();
  }

  /** The oldest retained event's id, or {@link #nextEventId} when none is retained. */
  public long oldestEventId() {
    return state.events.oldestEventId();
  }

  public long version() {
    return state.version;
  }

  /** The latest time the runtime has seen (not part of the signature). */
  public long lastNowMs() {
    return state.lastNowMs;
  }

  /** Lowercase hex SHA-256 of the canonical encoding of the state; see {@link StateSignature}. */
  public String signature() {
    // Computing it is O(state); it only changes when the version does.
    if (signatureVersion != state.version || signature == null) {
      signature = StateSignature.of(state);
      signatureVersion = state.version;
    }
    return signature;
  }

  /** Empty when every invariant holds, else the first broken one. */
  public String brokenInvariant() {
    // O(state) too; like the signature, it can only change when the version does.
    if (invariantVersion != state.version || brokenInvariant == null) {
      brokenInvariant = InvariantChecker.check(state);
      invariantVersion = state.version;
    }
    return brokenInvariant;
  }

  public boolean valid() {
    return brokenInvariant().isEmpty();
  }

  public PipelineStatus status() {
    StatusDraft draft = statusDraft();
    PipelineStatus status = draft.finish();
    offerSignature(draft.version(), status.signature());
    return status;
  }

  /**
   * The status, with the signature left to {@link StatusDraft#finish} outside the lock unless it
   * is cached already. Give the finished signature back with {@link #offerSignature}.
   */
  public StatusDraft statusDraft() {
    String broken = brokenInvariant();
    boolean cached = signatureVersion == state.version && signature != null;
    PipelineStatus status = new PipelineStatus(
        queuedCount(),
        retryWaitCount(),
        inFlightCount(),
        deadLetterCount(),
        mode(),
        effectiveMaxInFlight(),
        activeRunId(),
        cached ? signature : "",
        broken.isEmpty(),
        broken);
    return new StatusDraft(status, state.version, cached ? null : StateSignature.begin(state));
  }

  /** Caches a signature finished outside the lock, if the state has not changed since. */
  public void offerSignature(long version, String finished) {
    if (version == state.version) {
      signature = finished;
      signatureVersion = version;
    }
  }

  /** Per-stage totals of acked work. */
  public record StageCounters(
      String stage, long batchesProcessed, long recordsProcessed, boolean paused) {}

  private static <T> Page<T> page(
      NavigableMap<Long, LiveBatch> index,
      long cursor,
      int limit,
      Function<LiveBatch, T> view) {
    limit = Math.max(1, limit);
    NavigableMap<Long, LiveBatch> after = cursor < 0 ? index : index.tailMap(cursor, false);
    List<T> items = new ArrayList<>();
    long last = Page.START;
    for (Map.Entry<Long, LiveBatch> e : after.entrySet()) {
      T item = view.apply(e.getValue());
      if (item == null) {
        continue;
      }
      if (items.size() == limit) {
        return new Page<>(items, last);
      }
      items.add(item);
      last = e.getKey();
    }
    return new Page<>(items, Page.START);
  }
}
