package dev.lightspeed.orchestrator.core;

/** The single argument of an operator action as text ("" for PAUSE, RESUME and DRAIN). */
final class ActionArgument {
  private ActionArgument() {}

  static String of(OperatorAction action) {
    if (action instanceof OperatorAction.PauseStage a) {
      return a.stage();
    } else if (action instanceof OperatorAction.ResumeStage a) {
      return a.stage();
    } else if (action instanceof OperatorAction.DisableConnector a) {
      return a.name();
    } else if (action instanceof OperatorAction.EnableConnector a) {
      return a.name();
    } else if (action instanceof OperatorAction.SetMaxInFlight a) {
      return Integer.toString(a.maxInFlight());
    } else if (action instanceof OperatorAction.RedriveDeadLetter a) {
      return a.key();
    } else if (action instanceof OperatorAction.DiscardDeadLetter a) {
      return a.key();
    } else if (action instanceof OperatorAction.CancelBatch a) {
      return a.key();
    }
    return "";
  }
}
