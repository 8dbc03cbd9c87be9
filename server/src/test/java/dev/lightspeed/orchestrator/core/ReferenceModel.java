package dev.lightspeed.orchestrator.core;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A deliberately naive reference model of SPEC sections 3.1-3.7, written from the SPEC text and
 * not from the core: it keeps every batch in one map and re-derives every order and count by
 * scanning and sorting, where the core keeps indexes. Where SPEC is silent it follows the core's
 * documented decisions (listed in {@link RuntimePropertiesTest}).
 *
 * <p>{@link #apply} returns the result the runtime must give: a {@link Reason} for a refused call,
 * else the operation's value (see {@link Op}).
 */
final class ReferenceModel {

  /** One accepted batch. {@code id} is unique per accepted enqueue, even when a key is reused. */
  static final class MBatch {
    final Batch batch;
    final long order;
    final long id;
    BatchState state = BatchState.QUEUED;
    int attempt;
    long readyAt;
    long startedAt;
    long lease;
    long emit;
    RetryRecord retry;
    DeadLetterRecord deadLetter;

    MBatch(Batch batch, long order, long id) {
      this.batch = batch;
      this.order = order;
      this.id = id;
    }

    String key() {
      return batch.key();
    }

    String stage() {
      return batch.stage();
    }

    BatchView view() {
      return new BatchView(
          batch,
          state,
          attempt,
          state == BatchState.DEAD_LETTERED ? 0 : readyAt,
          state == BatchState.IN_FLIGHT ? lease : 0);
    }
  }

  record Idem(
      String idemKey, String batchKey, String stage, long records, long seq, boolean live,
      long leftAt) {}

  record Done(ProcessResult result, long doneAt) {}

  /** The spec as created: replay starts from it. */
  final PipelineSpec initialSpec;
  /** The spec now (changed by update_pipeline; connectors' disabled flags are in disabled). */
  PipelineSpec spec;
  Boundary boundary;
  RetryPolicy retry;

  long lastNow;
  final Map<String, MBatch> live = new HashMap<>();
  long nextOrder;
  long nextEmit;
  long nextId;
  final Map<String, Idem> idem = new HashMap<>();
  final Map<String, Done> done = new HashMap<>();
  final Map<String, Long> lastSeq = new TreeMap<>();
  PipelineMode base = PipelineMode.RUNNING;
  final Set<String> pausedStages = new TreeSet<>();
  final Set<String> disabled = new TreeSet<>();
  int effectiveMax;
  long lastRunId;
  long[] activeRun; // id, startedAt, batches, records, retries, deadLettered; null when none
  final Deque<RunSummary> completedRuns = new ArrayDeque<>();
  long auditCount;
  final Map<String, long[]> counters = new LinkedHashMap<>();
  /** An event as SPEC 3.10 predicts it; for ACTION_APPLIED the payload is the action. */
  record MEvent(long eventId, long atMs, EventType type, Object payload) {}

  /** Every event predicted, never dropped (the runtime under test keeps them all too). */
  final List<MEvent> events = new ArrayList<>();
  long nextEventId = 1;

  private void emit(EventType type, long at, Object payload) {
    events.add(new MEvent(nextEventId++, at, type, payload));
  }

  /** The fate of every accepted batch by id: LIVE, DONE, CANCELLED or DISCARDED. */
  final Map<Long, String> fate = new HashMap<>();

  ReferenceModel(PipelineSpec spec) {
    this.initialSpec = spec;
    this.spec = spec;
    this.boundary = spec.boundary();
    this.retry = spec.retry();
    this.effectiveMax = boundary.maxInFlight();
    for (Connector c : spec.connectors()) {
      if (c.disabled()) {
        disabled.add(c.name());
      }
    }
    for (String s : spec.stages()) {
      counters.put(s, new long[2]);
    }
  }

  // ---- operations ----------------------------------------------------------------------------

  Object apply(Op op) {
    if (op instanceof Op.Enqueue o) {
      return enqueue(o.batch(), o.now());
    } else if (op instanceof Op.Start o) {
      return start(o.max(), o.stages(), o.now());
    } else if (op instanceof Op.Ack o) {
      return ack(o.key(), o.attempt(), o.now());
    } else if (op instanceof Op.Fail o) {
      return fail(o.key(), o.attempt(), o.reason(), o.nonRetryable(), o.now());
    } else if (op instanceof Op.Extend o) {
      return extend(o.key(), o.attempt(), o.now());
    } else if (op instanceof Op.Act o) {
      return action(o.action(), o.now());
    } else if (op instanceof Op.StartRun o) {
      return startRun(o.now());
    } else if (op instanceof Op.CompleteRun o) {
      return completeRun(o.now());
    } else if (op instanceof Op.Update o) {
      return update(o.mask(), o.values(), o.now());
    }
    throw new IllegalArgumentException(String.valueOf(op));
  }

  private Object enqueue(Batch b, long nowArg) {
    long now = Math.max(nowArg, lastNow);
    if (!validKey(b.key())
        || !validKey(b.idempotencyKey())
        || b.stage() == null
        || b.stage().isEmpty()
        || b.records() < 1
        || b.lagMs() < 0
        || b.sequence() < 0) {
      return Reason.INVALID_BATCH;
    }
    Idem e = idem.get(b.idempotencyKey());
    if (e != null && (e.live() || now - e.leftAt() < spec.dedupWindowMs())) {
      boolean same =
          e.batchKey().equals(b.key())
              && e.stage().equals(b.stage())
              && e.records() == b.records()
              && e.seq() == b.sequence();
      return same ? "deduplicated" : Reason.IDEMPOTENCY_CONFLICT;
    }
    if (live.containsKey(b.key())) {
      return Reason.BATCH_KEY_EXISTS;
    }
    if (!spec.stages().contains(b.stage())) {
      return Reason.UNKNOWN_STAGE;
    }
    List<Connector> cs = connectorsOf(b.stage());
    if (cs.isEmpty() && !spec.allowUnboundStages()) {
      return Reason.NO_CONNECTOR;
    }
    if (stageDisabled(b.stage())) {
      return Reason.CONNECTOR_DISABLED;
    }
    for (Connector c : cs) {
      if (c.maxBatchRecords() > 0 && b.records() > c.maxBatchRecords()) {
        return Reason.BATCH_TOO_LARGE;
      }
    }
    if (boundary.maxInFlightRecords() > 0 && b.records() > boundary.maxInFlightRecords()) {
      return Reason.BATCH_TOO_LARGE;
    }
    if (base == PipelineMode.DRAINING) {
      return Reason.PIPELINE_DRAINING;
    }
    Long last = lastSeq.get(b.stage());
    if (b.sequence() > 0 && last != null && b.sequence() <= last) { // 0 = no sequence
      return Reason.SEQUENCE_REGRESSION;
    }
    if (queued() >= boundary.maxQueued()) {
      return Reason.QUEUE_FULL;
    }
    if (boundary.maxLagMs() > 0 && b.lagMs() > boundary.maxLagMs()) {
      return Reason.LAG_EXCEEDED;
    }
    lastNow = now;
    MBatch m = new MBatch(b, nextOrder++, nextId++);
    m.readyAt = now;
    live.put(b.key(), m);
    idem.put(
        b.idempotencyKey(),
        new Idem(b.idempotencyKey(), b.key(), b.stage(), b.records(), b.sequence(), true, 0));
    if (b.sequence() > 0) {
      lastSeq.put(b.stage(), b.sequence());
    }
    fate.put(m.id, "LIVE");
    emit(EventType.ENQUEUED, now, b);
    return "enqueued";
  }

  private Object start(int max, List<String> filter, long nowArg) {
    for (String s : filter) {
      if (!spec.stages().contains(s)) {
        return Reason.UNKNOWN_STAGE;
      }
    }
    long now = Math.max(nowArg, lastNow);
    lastNow = now;
    // 1. expire leases, in deadline then enqueue order
    List<MBatch> due =
        live.values().stream()
            .filter(b -> b.state == BatchState.IN_FLIGHT && b.lease > 0 && b.lease <= now)
            .sorted(Comparator.<MBatch>comparingLong(b -> b.lease).thenComparingLong(b -> b.order))
            .toList();
    List<ProcessOutcome> expired = new ArrayList<>();
    for (MBatch b : due) {
      emit(EventType.LEASE_EXPIRED, now, new LeaseExpired(b.key(), b.attempt));
      expired.add(failAttempt(b, PipelineRuntime.LEASE_EXPIRED, false, now));
    }
    List<StartedBatch> started = new ArrayList<>();
    // 2. PAUSED starts nothing
    if (base != PipelineMode.PAUSED) {
      // 3. candidates in ready order, ties by enqueue order
      List<MBatch> candidates =
          live.values().stream()
              .filter(
                  b ->
                      b.state == BatchState.QUEUED
                          || (b.state == BatchState.RETRY_WAIT && b.readyAt <= now))
              .sorted(
                  Comparator.<MBatch>comparingLong(b -> b.readyAt).thenComparingLong(b -> b.order))
              .toList();
      // 4. walk them
      for (MBatch c : candidates) {
        String st = c.stage();
        if (pausedStages.contains(st)
            || stageDisabled(st)
            || (!filter.isEmpty() && !filter.contains(st))) {
          continue;
        }
        if (ordered(st)
            && live.values().stream()
                .anyMatch(
                    o ->
                        o.stage().equals(st)
                            && (o.state == BatchState.IN_FLIGHT
                                || (o.order < c.order && o.state.isWaiting())))) {
          continue;
        }
        if (inFlight() >= effectiveMax) {
          break;
        }
        if (max > 0 && started.size() >= max) {
          break;
        }
        if (boundary.maxInFlightRecords() > 0
            && inFlightRecords() + c.batch.records() > boundary.maxInFlightRecords()) {
          break;
        }
        // 5. start it
        c.attempt++;
        c.state = BatchState.IN_FLIGHT;
        c.startedAt = now;
        c.lease = boundary.leaseMs() > 0 ? saturatedAdd(now, boundary.leaseMs()) : 0;
        c.retry = null;
        StartedBatch s = new StartedBatch(c.batch, c.attempt, now, c.lease, activeRunId());
        started.add(s);
        emit(EventType.STARTED, now, s);
      }
    }
    return new StartResult(started, expired);
  }

  private Object ack(String key, int attempt, long nowArg) {
    long now = Math.max(nowArg, lastNow);
    MBatch b = live.get(key);
    if (b == null) {
      Done d = doneWithin(key, now);
      if (d == null) {
        return Reason.BATCH_NOT_FOUND;
      }
      if (attempt != 0 && attempt != d.result().attempt()) {
        return Reason.STALE_ATTEMPT;
      }
      return new ProcessOutcome.Processed(d.result());
    }
    if (attempt != 0 && attempt != b.attempt) {
      return Reason.STALE_ATTEMPT;
    }
    if (b.state != BatchState.IN_FLIGHT) {
      return Reason.NOT_IN_FLIGHT;
    }
    lastNow = now;
    ProcessResult r =
        new ProcessResult(
            key, b.stage(), b.batch.records(), b.attempt, activeRunId(), b.startedAt, now);
    leave(b, now, "DONE");
    done.put(key, new Done(r, now));
    emit(EventType.ACKED, now, r);
    long[] c = counters.get(b.stage());
    c[0]++;
    c[1] += b.batch.records();
    if (activeRun != null) {
      activeRun[2]++;
      activeRun[3] += b.batch.records();
    }
    return new ProcessOutcome.Processed(r);
  }

  private Object fail(String key, int attempt, String reason, boolean nonRetryable, long nowArg) {
    long now = Math.max(nowArg, lastNow);
    if (reason == null || reason.isEmpty() || attempt < 1) {
      return Reason.INVALID_FAILURE;
    }
    MBatch b = live.get(key);
    if (b == null) {
      Done d = doneWithin(key, now);
      if (d == null) {
        return Reason.BATCH_NOT_FOUND;
      }
      return new ProcessOutcome.FailureRejected(
          attempt != d.result().attempt()
              ? stale(attempt, d.result().attempt())
              : "batch is DONE, not in flight");
    }
    if (attempt != b.attempt) {
      return new ProcessOutcome.FailureRejected(stale(attempt, b.attempt));
    }
    if (b.state != BatchState.IN_FLIGHT) {
      return new ProcessOutcome.FailureRejected("batch is " + b.state + ", not in flight");
    }
    lastNow = now;
    return failAttempt(b, reason, nonRetryable, now);
  }

  private ProcessOutcome failAttempt(MBatch b, String reason, boolean nonRetryable, long now) {
    b.lease = 0;
    b.emit = nextEmit++;
    if (!nonRetryable && b.attempt < retry.maxAttempts()) {
      long backoff =
          Math.min(
              retry.maxBackoffMs(),
              (long)
                  Math.floor(
                      retry.initialBackoffMs() * StrictMath.pow(retry.multiplier(), b.attempt - 1)));
      RetryRecord r =
          new RetryRecord(b.key(), b.attempt + 1, reason, saturatedAdd(now, backoff));
      b.state = BatchState.RETRY_WAIT;
      b.readyAt = r.retryAtMs();
      b.retry = r;
      if (activeRun != null) {
        activeRun[4]++;
      }
      emit(EventType.RETRY_SCHEDULED, now, r);
      return new ProcessOutcome.RetryScheduled(r);
    }
    DeadLetterRecord d = new DeadLetterRecord(b.key(), destination(b.stage()), reason, now);
    b.state = BatchState.DEAD_LETTERED;
    b.deadLetter = d;
    if (activeRun != null) {
      activeRun[5]++;
    }
    emit(EventType.DEAD_LETTERED, now, d);
    return new ProcessOutcome.DeadLettered(d);
  }

  private Object extend(String key, int attempt, long nowArg) {
    long now = Math.max(nowArg, lastNow);
    MBatch b = live.get(key);
    if (b == null) {
      Done d = doneWithin(key, now);
      if (d == null) {
        return Reason.BATCH_NOT_FOUND;
      }
      return attempt != 0 && attempt != d.result().attempt()
          ? Reason.STALE_ATTEMPT
          : Reason.NOT_IN_FLIGHT;
    }
    if (attempt != 0 && attempt != b.attempt) {
      return Reason.STALE_ATTEMPT;
    }
    if (b.state != BatchState.IN_FLIGHT) {
      return Reason.NOT_IN_FLIGHT;
    }
    lastNow = now;
    b.lease = boundary.leaseMs() > 0 ? saturatedAdd(now, boundary.leaseMs()) : 0;
    return b.lease;
  }

  private Object action(OperatorAction a, long nowArg) {
    long now = Math.max(nowArg, lastNow);
    Reason refused = check(a, now);
    if (refused != null) {
      return refused;
    }
    if (a instanceof OperatorAction.Pause) {
      base = PipelineMode.PAUSED;
    } else if (a instanceof OperatorAction.Resume) {
      base = PipelineMode.RUNNING;
    } else if (a instanceof OperatorAction.Drain) {
      base = PipelineMode.DRAINING;
    } else if (a instanceof OperatorAction.PauseStage p) {
      pausedStages.add(p.stage());
    } else if (a instanceof OperatorAction.ResumeStage p) {
      pausedStages.remove(p.stage());
    } else if (a instanceof OperatorAction.DisableConnector d) {
      disabled.add(d.name());
    } else if (a instanceof OperatorAction.EnableConnector d) {
      disabled.remove(d.name());
    } else if (a instanceof OperatorAction.SetMaxInFlight s) {
      effectiveMax = s.maxInFlight();
    } else if (a instanceof OperatorAction.RedriveDeadLetter r) {
      MBatch b = live.get(r.key());
      b.state = BatchState.QUEUED;
      b.attempt = 0;
      b.readyAt = now;
      b.deadLetter = null;
    } else if (a instanceof OperatorAction.DiscardDeadLetter d) {
      leave(live.get(d.key()), now, "DISCARDED");
    } else if (a instanceof OperatorAction.CancelBatch c) {
      leave(live.get(c.key()), now, "CANCELLED");
    }
    auditCount++;
    lastNow = now;
    emit(EventType.ACTION_APPLIED, now, a);
    return "applied";
  }

  private Reason check(OperatorAction a, long now) {
    if (a instanceof OperatorAction.PauseStage p) {
      return spec.stages().contains(p.stage()) ? null : Reason.UNKNOWN_STAGE;
    } else if (a instanceof OperatorAction.ResumeStage p) {
      return spec.stages().contains(p.stage()) ? null : Reason.UNKNOWN_STAGE;
    } else if (a instanceof OperatorAction.DisableConnector d) {
      return connectorNamed(d.name()) ? null : Reason.CONNECTOR_NOT_FOUND;
    } else if (a instanceof OperatorAction.EnableConnector d) {
      return connectorNamed(d.name()) ? null : Reason.CONNECTOR_NOT_FOUND;
    } else if (a instanceof OperatorAction.SetMaxInFlight s) {
      return s.maxInFlight() >= 1 && s.maxInFlight() <= boundary.maxInFlight()
          ? null
          : Reason.INVALID_ACTION;
    } else if (a instanceof OperatorAction.RedriveDeadLetter r) {
      return deadLetterCheck(r.key(), now);
    } else if (a instanceof OperatorAction.DiscardDeadLetter d) {
      return deadLetterCheck(d.key(), now);
    } else if (a instanceof OperatorAction.CancelBatch c) {
      MBatch b = live.get(c.key());
      if (b == null) {
        return Reason.BATCH_NOT_FOUND; // actions name live batches only (SPEC 3.3 lists ack/fail/extend)
      }
      return b.state.isWaiting() ? null : Reason.NOT_CANCELLABLE;
    }
    return null;
  }

  private Reason deadLetterCheck(String key, long now) {
    MBatch b = live.get(key);
    if (b == null) {
      return Reason.BATCH_NOT_FOUND; // actions name live batches only
    }
    return b.state == BatchState.DEAD_LETTERED ? null : Reason.NOT_DEAD_LETTERED;
  }

  private Object startRun(long nowArg) {
    if (activeRun == null) {
      long now = Math.max(nowArg, lastNow);
      lastNow = now;
      activeRun = new long[] {++lastRunId, now, 0, 0, 0, 0};
      emit(EventType.RUN_STARTED, now, runSummary(0));
    }
    return runSummary(0);
  }

  private Object completeRun(long nowArg) {
    if (activeRun == null) {
      return Optional.empty();
    }
    long now = Math.max(nowArg, lastNow);
    lastNow = now;
    RunSummary s = runSummary(now);
    activeRun = null;
    if (completedRuns.size() == 100) {
      completedRuns.removeFirst();
    }
    completedRuns.addLast(s);
    emit(EventType.RUN_COMPLETED, now, s);
    return Optional.of(s);
  }

  // ---- helpers -------------------------------------------------------------------------------

  private void leave(MBatch b, long now, String how) {
    live.remove(b.key());
    Idem e = idem.get(b.batch.idempotencyKey());
    idem.put(e.idemKey(), new Idem(e.idemKey(), e.batchKey(), e.stage(), e.records(), e.seq(), false, now));
    b.retry = null;
    b.deadLetter = null;
    fate.put(b.id, how);
  }

  private Done doneWithin(String key, long now) {
    Done d = done.get(key);
    return d != null && now - d.doneAt() < spec.dedupWindowMs() ? d : null;
  }

  private static String stale(int attempt, int current) {
    return "stale attempt " + attempt + ": batch is at attempt " + current;
  }

  private List<Connector> connectorsOf(String stage) {
    return spec.connectors().stream().filter(c -> c.stage().equals(stage)).toList();
  }

  private boolean connectorNamed(String name) {
    return spec.connectors().stream().anyMatch(c -> c.name().equals(name));
  }

  private boolean stageDisabled(String stage) {
    return connectorsOf(stage).stream().anyMatch(c -> disabled.contains(c.name()));
  }

  private boolean ordered(String stage) {
    return connectorsOf(stage).stream().anyMatch(Connector::ordered);
  }

  private String destination(String stage) {
    for (ConnectorKind kind : List.of(ConnectorKind.SINK, ConnectorKind.SOURCE)) {
      for (Connector c : connectorsOf(stage)) {
        if (c.kind() == kind && !c.deadLetterDestination().isEmpty()) {
          return c.deadLetterDestination();
        }
      }
    }
    return spec.name() + "." + stage + ".dlq";
  }

  private static boolean validKey(String s) {
    if (s == null || s.isEmpty() || s.getBytes(StandardCharsets.UTF_8).length > 256) {
      return false;
    }
    return s.chars().noneMatch(c -> c <= 0x1F || (c >= 0x7F && c <= 0x9F));
  }

  private static long saturatedAdd(long a, long b) {
    try {
      return Math.addExact(a, b);
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }

  long activeRunId() {
    return activeRun == null ? 0 : activeRun[0];
  }

  RunSummary runSummary(long completedAt) {
    long[] r = activeRun;
    return new RunSummary(r[0], r[1], completedAt, r[2], r[3], r[4], r[5]);
  }

  // ---- views ---------------------------------------------------------------------------------

  List<MBatch> inEnqueueOrder() {
    return live.values().stream().sorted(Comparator.comparingLong(b -> b.order)).toList();
  }

  List<BatchView> batches() {
    return inEnqueueOrder().stream().map(MBatch::view).toList();
  }

  List<RetryRecord> retries() {
    return live.values().stream()
        .filter(b -> b.state == BatchState.RETRY_WAIT)
        .sorted(Comparator.comparingLong(b -> b.emit))
        .map(b -> b.retry)
        .toList();
  }

  List<DeadLetterRecord> deadLetters() {
    return live.values().stream()
        .filter(b -> b.state == BatchState.DEAD_LETTERED)
        .sorted(Comparator.comparingLong(b -> b.emit))
        .map(b -> b.deadLetter)
        .toList();
  }

  long count(BatchState s) {
    return live.values().stream().filter(b -> b.state == s).count();
  }

  long queued() {
    return count(BatchState.QUEUED) + count(BatchState.RETRY_WAIT);
  }

  long inFlight() {
    return count(BatchState.IN_FLIGHT);
  }

  long inFlightRecords() {
    return live.values().stream()
        .filter(b -> b.state == BatchState.IN_FLIGHT)
        .mapToLong(b -> b.batch.records())
        .sum();
  }

  PipelineMode mode() {
    return base == PipelineMode.DRAINING && queued() == 0 && inFlight() == 0
        ? PipelineMode.DRAINED
        : base;
  }

  List<PipelineQueries.StageCounters> stageCounters() {
    List<PipelineQueries.StageCounters> out = new ArrayList<>();
    counters.forEach(
        (s, c) ->
            out.add(new PipelineQueries.StageCounters(s, c[0], c[1], pausedStages.contains(s))));
    return out;
  }

  List<RunSummary> runsNewestFirst() {
    List<RunSummary> out = new ArrayList<>(completedRuns);
    java.util.Collections.reverse(out);
    return out;
  }

  // ---- 3.9 update_pipeline, naively ---------------------------------------------------------

  private static final List<String> LEAVES =
      List.of("boundary.max_in_flight", "boundary.max_queued", "boundary.max_lag_ms",
          "boundary.max_in_flight_records", "boundary.lease_ms", "retry.max_attempts",
          "retry.initial_backoff_ms", "retry.max_backoff_ms", "retry.multiplier",
          "dedup_window_ms", "allow_unbound_stages", "stages", "connectors");

  private boolean named(List<String> mask, String leaf) {
    return mask.contains(leaf) || mask.contains(leaf.substring(0, Math.max(0, leaf.indexOf('.'))));
  }

  private Object update(List<String> mask, PipelineSpec values, long nowArg) {
    long now = Math.max(nowArg, lastNow);
    if (mask.isEmpty()) {
      return Reason.INVALID_UPDATE_MASK;
    }
    for (String path : mask) {
      if (!LEAVES.contains(path) && !path.equals("boundary") && !path.equals("retry")) {
        return Reason.INVALID_UPDATE_MASK;
      }
    }
    Boundary b = boundary;
    Boundary v = values.boundary();
    if (named(mask, "boundary.max_in_flight")) b = b.withMaxInFlight(v.maxInFlight());
    if (named(mask, "boundary.max_queued")) b = b.withMaxQueued(v.maxQueued());
    if (named(mask, "boundary.max_lag_ms")) b = b.withMaxLagMs(v.maxLagMs());
    if (named(mask, "boundary.max_in_flight_records")) {
      b = b.withMaxInFlightRecords(v.maxInFlightRecords());
    }
    if (named(mask, "boundary.lease_ms")) b = b.withLeaseMs(v.leaseMs());
    RetryPolicy r = retry;
    RetryPolicy w = values.retry();
    if (named(mask, "retry.max_attempts")) r = r.withMaxAttempts(w.maxAttempts());
    if (named(mask, "retry.initial_backoff_ms")) r = r.withInitialBackoffMs(w.initialBackoffMs());
    if (named(mask, "retry.max_backoff_ms")) r = r.withMaxBackoffMs(w.maxBackoffMs());
    if (named(mask, "retry.multiplier")) r = r.withMultiplier(w.multiplier());
    List<Connector> current =
        spec.connectors().stream().map(c -> c.withDisabled(disabled.contains(c.name()))).toList();
    PipelineSpec now0 = spec.toBuilder().connectors(current).build();
    PipelineSpec next =
        spec.toBuilder()
            .boundary(b)
            .retry(r)
            .dedupWindowMs(named(mask, "dedup_window_ms") ? values.dedupWindowMs() : spec.dedupWindowMs())
            .allowUnboundStages(named(mask, "allow_unbound_stages")
                ? values.allowUnboundStages() : spec.allowUnboundStages())
            .stages(named(mask, "stages") ? values.stages() : spec.stages())
            .connectors(named(mask, "connectors") ? values.connectors() : current)
            .build();
    try {
      PipelineSpecValidator.validate(next);
    } catch (Rejection e) {
      return e.reason();
    }
    if (next.stages().size() < spec.stages().size()
        || !next.stages().subList(0, spec.stages().size()).equals(spec.stages())) {
      return Reason.INVALID_PIPELINE_SPEC;
    }
    long budget = next.boundary().maxInFlightRecords();
    if (budget > 0 && live.values().stream().anyMatch(x -> x.batch.records() > budget)) {
      return Reason.BATCH_TOO_LARGE;
    }
    for (String stage : spec.stages()) {
      boolean orderedNext =
          next.connectors().stream().anyMatch(c -> c.stage().equals(stage) && c.ordered());
      long inFlight =
          live.values().stream()
              .filter(x -> x.batch.stage().equals(stage) && x.state == BatchState.IN_FLIGHT)
              .count();
      if (orderedNext && !ordered(stage) && inFlight > 1) {
        return Reason.STAGE_IN_FLIGHT;
      }
    }
    if (next.equals(now0)) {
      return "unchanged";
    }
    effectiveMax =
        effectiveMax < boundary.maxInFlight()
            ? Math.min(effectiveMax, b.maxInFlight())
            : b.maxInFlight();
    spec = next;
    boundary = b;
    retry = r;
    disabled.clear();
    for (Connector c : next.connectors()) {
      if (c.disabled()) {
        disabled.add(c.name());
      }
    }
    for (String s : next.stages()) {
      counters.putIfAbsent(s, new long[2]);
    }
    auditCount++;
    lastNow = now;
    emit(EventType.ACTION_APPLIED, now, new OperatorAction.UpdatePipeline(mask));
    return "updated";
  }

  /** Everything the model keeps except the clock: equal strings = no observable change. */
  String visible() {
    StringBuilder s = new StringBuilder();
    for (MBatch b : inEnqueueOrder()) {
      s.append(b.view()).append(" started=").append(b.startedAt).append('\n');
    }
    s.append(retries()).append('\n').append(deadLetters()).append('\n');
    new TreeMap<>(idem).values().forEach(e -> s.append(e).append('\n'));
    new TreeMap<>(done).values().forEach(d -> s.append(d).append('\n'));
    s.append(lastSeq).append(base).append(effectiveMax).append(pausedStages).append(disabled);
    s.append(lastRunId).append(activeRun == null ? "-" : runSummary(0).toString());
    s.append(completedRuns).append(auditCount).append(" next event ").append(nextEventId).append('\n');
    s.append(spec.toBuilder().connectors(List.of()).build()); // disabled flags are in `disabled`
    spec.connectors().forEach(c -> s.append(c.withDisabled(false)));
    counters.forEach((k, v) -> s.append(k).append(v[0]).append('/').append(v[1]));
    return s.toString();
  }
}
