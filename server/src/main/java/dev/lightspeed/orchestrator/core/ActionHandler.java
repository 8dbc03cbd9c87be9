package dev.lightspeed.orchestrator.core;

/**
 * Operator actions (SPEC 3.7). {@link #check} refuses an action or returns its audit message
 * without changing anything; {@link #apply} then makes the change.
 */
final class ActionHandler {
  private final PipelineState state;

  ActionHandler(PipelineState state) {
    this.state = state;
  }

  /** Refuses {@code action} with its error, or returns the message for the audit log. */
  String check(OperatorAction action, long now) {
    if (action instanceof OperatorAction.Pause) {
      return "pipeline paused: nothing starts, enqueues are still accepted";
    } else if (action instanceof OperatorAction.Resume) {
      return "pipeline running";
    } else if (action instanceof OperatorAction.Drain) {
      return "pipeline draining: enqueues refused, starting continues until empty";
    } else if (action instanceof OperatorAction.PauseStage a) {
      return "stage '" + stage(a.stage()).name + "' paused";
    } else if (action instanceof OperatorAction.ResumeStage a) {
      return "stage '" + stage(a.stage()).name + "' resumed";
    } else if (action instanceof OperatorAction.DisableConnector a) {
      connector(a.name());
      return "connector '" + a.name() + "' disabled";
    } else if (action instanceof OperatorAction.EnableConnector a) {
      connector(a.name());
      return "connector '" + a.name() + "' enabled";
    } else if (action instanceof OperatorAction.SetMaxInFlight a) {
      int max = state.spec.boundary().maxInFlight();
      if (a.maxInFlight() < 1 || a.maxInFlight() > max) {
        throw Rejection.ofField(
            Reason.INVALID_ACTION,
            "set_max_in_flight.max_in_flight",
            "must be between 1 and the boundary's max_in_flight " + max + " (got "
                + a.maxInFlight() + ")");
      }
      return "effective max_in_flight " + a.maxInFlight() + " (was " + state.effectiveMaxInFlight
          + ")";
    } else if (action instanceof OperatorAction.RedriveDeadLetter a) {
      deadLettered(a.key(), now);
      return "dead letter '" + a.key() + "' redriven";
    } else if (action instanceof OperatorAction.DiscardDeadLetter a) {
      deadLettered(a.key(), now);
      return "dead letter '" + a.key() + "' discarded";
    } else if (action instanceof OperatorAction.CancelBatch a) {
      LiveBatch b = known(a.key());
      if (!b.state.isCancellable()) {
        throw Rejection.of(
            Reason.NOT_CANCELLABLE,
            "batch '" + Text.printable(a.key()) + "' is " + b.state
                + "; only QUEUED or RETRY_WAIT batches can be cancelled");
      }
      return "batch '" + a.key() + "' cancelled";
    } else if (action instanceof OperatorAction.UpdatePipeline) {
      throw Rejection.ofField(
          Reason.INVALID_ACTION,
          "update_pipeline",
          "update_pipeline is only recorded in the audit log; change settings with UpdatePipeline");
    }
    throw Rejection.of(Reason.INVALID_ACTION, "unknown operator action " + action);
  }

  /** Applies an action that {@link #check} accepted. */
  void apply(OperatorAction action, long now) {
    if (action instanceof OperatorAction.Pause) {
      state.baseMode = PipelineMode.PAUSED;
    } else if (action instanceof OperatorAction.Resume) {
      state.baseMode = PipelineMode.RUNNING;
    } else if (action instanceof OperatorAction.Drain) {
      state.baseMode = PipelineMode.DRAINING;
    } else if (action instanceof OperatorAction.PauseStage a) {
      state.stages.get(a.stage()).paused = true;
    } else if (action instanceof OperatorAction.ResumeStage a) {
      state.stages.get(a.stage()).paused = false;
    } else if (action instanceof OperatorAction.DisableConnector a) {
      state.setConnectorDisabled(state.connectorIndex(a.name()), true);
    } else if (action instanceof OperatorAction.EnableConnector a) {
      state.setConnectorDisabled(state.connectorIndex(a.name()), false);
    } else if (action instanceof OperatorAction.SetMaxInFlight a) {
      state.effectiveMaxInFlight = a.maxInFlight();
    } else if (action instanceof OperatorAction.RedriveDeadLetter a) {
      state.redrive(state.live.get(a.key()), now);
    } else if (action instanceof OperatorAction.DiscardDeadLetter a) {
      state.discard(state.live.get(a.key()), now);
    } else if (action instanceof OperatorAction.CancelBatch a) {
      state.cancel(state.live.get(a.key()), now);
    }
  }

  private StageState stage(String name) {
    StageState s = name == null ? null : state.stages.get(name);
    if (s == null) {
      throw Rejection.ofField(
          Reason.UNKNOWN_STAGE,
          "stage",
          "pipeline '" + state.spec.name() + "' has no stage '" + Text.printable(String.valueOf(name))
              + "'; use one of " + state.spec.stages());
    }
    return s;
  }

  private void connector(String name) {
    if (name == null || state.connectorIndex(name) < 0) {
      throw Rejection.ofField(
          Reason.CONNECTOR_NOT_FOUND,
          "name",
          "pipeline '" + state.spec.name() + "' has no connector '"
              + Text.printable(String.valueOf(name)) + "'");
    }
  }

  private void deadLettered(String key, long now) {
    LiveBatch b = known(key);
    if (b.state != BatchState.DEAD_LETTERED) {
      throw Rejection.of(
          Reason.NOT_DEAD_LETTERED,
          "batch '" + Text.printable(key) + "' is " + b.state
              + ", not DEAD_LETTERED; only dead letters can be redriven or discarded");
    }
  }

  /**
   * The live batch with {@code key}, or BATCH_NOT_FOUND. Unlike ack, fail and extend_lease (SPEC
   * 3.3), actions act on live batches only: a DONE key is not found.
   */
  private LiveBatch known(String key) {
    LiveBatch b = key == null ? null : state.live.get(key);
    if (b == null) {
      throw ReportHandler.notFound(String.valueOf(key));
    }
    return b;
  }
}
