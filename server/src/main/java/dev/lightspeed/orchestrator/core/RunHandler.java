package dev.lightspeed.orchestrator.core;

import java.util.Optional;

/**
 * The rules of start_run and complete_run (SPEC 3.6): a run groups the work between the two and
 * sums it up. Apart from {@link PipelineRuntime}, which applies them, so that the runtime holds
 * only what every command shares (clock, version, snapshot).
 */
final class RunHandler {
  private final PipelineState state;
  private final Changes changes;

  RunHandler(PipelineState state, Changes changes) {
    this.state = state;
    this.changes = changes;
  }

  /** Opens run {@code last_run_id + 1}, or returns the active run unchanged. */
  RunSummary start(long now) {
    if (state.activeRun == null) {
      state.lastRunId++;
      state.activeRun = new ActiveRun(state.lastRunId, now);
      state.events.append(EventType.RUN_STARTED, now, state.activeRun.summary(0));
      changes.changed();
    }
    return state.activeRun.summary(0);
  }

  /** Closes the active run and keeps its summary; empty when no run was active. */
  Optional<RunSummary> complete(long now) {
    if (state.activeRun == null) {
      return Optional.empty();
    }
    RunSummary summary = state.activeRun.summary(now);
    state.activeRun = null;
    state.appendCompletedRun(summary);
    state.events.append(EventType.RUN_COMPLETED, now, summary);
    changes.changed();
    return Optional.of(summary);
  }
}
