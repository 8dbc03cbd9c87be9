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
    } else if (action instanceof OperatorAction.UpdatePipeline a) {
      return String.join(",", a.updateMask()); // paths never contain ','
    }
    return "";
  }

  /** The action named {@code name} (as {@link OperatorAction#actionName}) with its argument. */
  static OperatorAction parse(String name, String argument) {
    return switch (name) {
      case "PAUSE" -> new OperatorAction.Pause();
      case "RESUME" -> new OperatorAction.Resume();
      case "DRAIN" -> new OperatorAction.Drain();
      case "PAUSE_STAGE" -> new OperatorAction.PauseStage(argument);
      case "RESUME_STAGE" -> new OperatorAction.ResumeStage(argument);
      case "DISABLE_CONNECTOR" -> new OperatorAction.DisableConnector(argument);
      case "ENABLE_CONNECTOR" -> new OperatorAction.EnableConnector(argument);
      case "SET_MAX_IN_FLIGHT" -> new OperatorAction.SetMaxInFlight(Integer.parseInt(argument));
      case "REDRIVE_DEAD_LETTER" -> new OperatorAction.RedriveDeadLetter(argument);
      case "DISCARD_DEAD_LETTER" -> new OperatorAction.DiscardDeadLetter(argument);
      case "CANCEL_BATCH" -> new OperatorAction.CancelBatch(argument);
      case "UPDATE_PIPELINE" ->
          new OperatorAction.UpdatePipeline(
              argument.isEmpty() ? java.util.List.of() : java.util.List.of(argument.split(",", -1)));
      default -> throw new IllegalArgumentException("unknown operator action " + name);
    };
  }
}
