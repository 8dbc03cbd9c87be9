package dev.lightspeed.orchestrator.core;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * The rules of start_available (SPEC 3.2): expire due leases, then start batches in ready order
 * under the backpressure limits. Apart from {@link PipelineRuntime}, which applies it, so that
 * the runtime holds only what every command shares (clock, version, snapshot).
 */
final class StartHandler {
  private final PipelineState state;
  private final Changes changes;
  /** Fails the attempts whose lease expired, as a fail_batch would. */
  private final ReportHandler reports;

  StartHandler(PipelineState state, Changes changes, ReportHandler reports) {
    this.state = state;
    this.changes = changes;
    this.reports = reports;
  }

  /**
   * Expires due leases, then starts available batches in ready order under the backpressure
   * limits. A stage filter that names an undeclared stage is refused with UNKNOWN_STAGE.
   */
  StartResult startAvailable(Command.StartAvailable command, long now) {
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
    changes.moveClock();
    List<ProcessOutcome> expired = expireLeases(now);
    List<StartedBatch> started = new ArrayList<>();
    if (state.baseMode != PipelineMode.PAUSED) {
      startInReadyOrder(now, maxBatches, stageFilter, started);
    }
    if (!started.isEmpty() || !expired.isEmpty()) {
      changes.changed();
    }
    return new StartResult(started, expired);
  }

  /**
   * Whether {@link #startAvailable} with {@code stageFilter} (known stages) and any positive
   * {@code max_batches} would change the state at {@code now}: a lease would expire, or the first
   * batch of the ready-order walk would start. Read-only; the same rules as the walk, so a cluster
   * node that asks it of its replica before submitting a start never logs a start that does
   * nothing (as long as its replica is not behind).
   */
  static boolean wouldChange(PipelineState state, Set<String> stageFilter, long now) {
    if (!state.leases.isEmpty() && state.leases.first().leaseDeadlineMs <= now) {
      return true;
    }
    if (state.baseMode == PipelineMode.PAUSED
        || state.inFlightCount >= state.effectiveMaxInFlight) {
      return false;
    }
    LiveBatch first = null;
    for (StageState s : state.stages.values()) {
      if ((!stageFilter.isEmpty() && !stageFilter.contains(s.name))
          || s.paused || s.disabledConnector() != null) {
        continue;
      }
      LiveBatch head = s.nextStartable(now);
      if (head != null && (first == null || LiveBatch.BY_READY.compare(head, first) < 0)) {
        first = head;
      }
    }
    if (first == null) {
      return false;
    }
    long budget = state.spec.boundary().maxInFlightRecords() > 0
        ? state.spec.boundary().maxInFlightRecords() : Long.MAX_VALUE;
    return first.batch.records() <= budget - state.inFlightRecords;
  }

  private List<ProcessOutcome> expireLeases(long now) {
    List<ProcessOutcome> expired = List.of();
    while (!state.leases.isEmpty() && state.leases.first().leaseDeadlineMs <= now) {
      LiveBatch b = state.leases.first();
      if (expired.isEmpty()) {
        expired = new ArrayList<>();
      }
      state.events.append(EventType.LEASE_EXPIRED, now, new LeaseExpired(b.key(), b.attempt));
      expired.add(reports.failAttempt(b, PipelineRuntime.LEASE_EXPIRED, false, now));
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
    long budget =
        boundary.maxInFlightRecords() > 0 ? boundary.maxInFlightRecords() : Long.MAX_VALUE;
    if (b.batch.records() > budget - state.inFlightRecords) {
      return false;
    }
    state.start(b, now, boundary.leaseMs());
    StartedBatch s = new StartedBatch(b.batch, b.attempt, now, b.leaseDeadlineMs, runId);
    started.add(s);
    state.events.append(EventType.STARTED, now, s);
    return true;
  }
}
