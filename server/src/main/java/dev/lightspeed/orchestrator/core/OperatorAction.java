package dev.lightspeed.orchestrator.core;

/** An operator control action (SPEC section 3.7). */
public sealed interface OperatorAction {

  /** Nothing starts; enqueues are still accepted. */
  record Pause() implements OperatorAction {
    @Override
    public String actionName() {
      return "PAUSE";
    }
  }

  /** Back to RUNNING; also cancels a drain. */
  record Resume() implements OperatorAction {
    @Override
    public String actionName() {
      return "RESUME";
    }
  }

  /** Enqueues are refused; starting continues until nothing is left. */
  record Drain() implements OperatorAction {
    @Override
    public String actionName() {
      return "DRAIN";
    }
  }

  record PauseStage(String stage) implements OperatorAction {
    @Override
    public String actionName() {
      return "PAUSE_STAGE";
    }
  }

  record ResumeStage(String stage) implements OperatorAction {
    @Override
    public String actionName() {
      return "RESUME_STAGE";
    }
  }

  record DisableConnector(String name) implements OperatorAction {
    @Override
    public String actionName() {
      return "DISABLE_CONNECTOR";
    }
  }

  record EnableConnector(String name) implements OperatorAction {
    @Override
    public String actionName() {
      return "ENABLE_CONNECTOR";
    }
  }

  /** Lowers (or restores) the effective in-flight limit: 1 ≤ maxInFlight ≤ boundary.max_in_flight. */
  record SetMaxInFlight(int maxInFlight) implements OperatorAction {
    @Override
    public String actionName() {
      return "SET_MAX_IN_FLIGHT";
    }
  }

  record RedriveDeadLetter(String key) implements OperatorAction {
    @Override
    public String actionName() {
      return "REDRIVE_DEAD_LETTER";
    }
  }

  record DiscardDeadLetter(String key) implements OperatorAction {
    @Override
    public String actionName() {
      return "DISCARD_DEAD_LETTER";
    }
  }

  record CancelBatch(String key) implements OperatorAction {
    @Override
    public String actionName() {
      return "CANCEL_BATCH";
    }
  }

  /**
   * An applied {@code update_pipeline} (SPEC 3.9), as the audit log records it: the update mask's
   * paths as given. Only {@link PipelineRuntime#updatePipeline} applies it; apply_action refuses it.
   */
  record UpdatePipeline(java.util.List<String> updateMask) implements OperatorAction {
    public UpdatePipeline {
      updateMask = java.util.List.copyOf(updateMask);
    }

    @Override
    public String actionName() {
      return "UPDATE_PIPELINE";
    }
  }

  /** The action's name as in SPEC's table, e.g. {@code PAUSE_STAGE}. */
  String actionName();
}
