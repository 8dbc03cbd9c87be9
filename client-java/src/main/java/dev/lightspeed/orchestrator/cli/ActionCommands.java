package dev.lightspeed.orchestrator.cli;

import dev.lightspeed.orchestrator.client.OrchestratorClient;
import dev.lightspeed.orchestrator.v1.OperatorAction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** The operator actions, one command each; every applied action is audited by the server. */
final class ActionCommands {
  private ActionCommands() {}

  /** Applies {@link #action()} to PIPELINE and says so. */
  abstract static class ActionCommand extends ClientCommand {
    @Parameters(index = "0", paramLabel = "PIPELINE")
    String pipeline;

    abstract OperatorAction action();

    @Override
    int run(OrchestratorClient client) {
      OperatorAction action = action();
      client.applyAction(pipeline, action);
      out().println("applied " + spec.name() + " to " + pipeline + ": " + Output.jsonLine(action));
      return 0;
    }
  }

  @Command(name = "pause", description = "Start nothing until resumed; enqueues are still accepted.")
  static final class Pause extends ActionCommand {
    @Override
    OperatorAction action() {
      return OperatorAction.newBuilder()
          .setPause(OperatorAction.Pause.getDefaultInstance())
          .build();
    }
  }

  @Command(name = "resume", description = "Run again (also cancels a drain).")
  static final class Resume extends ActionCommand {
    @Override
    OperatorAction action() {
      return OperatorAction.newBuilder()
          .setResume(OperatorAction.Resume.getDefaultInstance())
          .build();
    }
  }

  @Command(name = "drain", description = "Refuse enqueues; keep starting until empty.")
  static final class Drain extends ActionCommand {
    @Override
    OperatorAction action() {
      return OperatorAction.newBuilder()
          .setDrain(OperatorAction.Drain.getDefaultInstance())
          .build();
    }
  }

  @Command(name = "pause-stage", description = "Stop starting one stage's batches.")
  static final class PauseStage extends ActionCommand {
    @Parameters(index = "1", paramLabel = "STAGE")
    String stage;

    @Override
    OperatorAction action() {
      return OperatorAction.newBuilder()
          .setPauseStage(OperatorAction.PauseStage.newBuilder().setStage(stage))
          .build();
    }
  }

  @Command(name = "resume-stage", description = "Start a paused stage's batches again.")
  static final class ResumeStage extends ActionCommand {
    @Parameters(index = "1", paramLabel = "STAGE")
    String stage;

    @Override
    OperatorAction action() {
      return OperatorAction.newBuilder()
          .setResumeStage(OperatorAction.ResumeStage.newBuilder().setStage(stage))
          .build();
    }
  }

  @Command(name = "disable-connector", description = "Disable a connector: its stage stops accepting and starting batches.")
  static final class DisableConnector extends ActionCommand {
    @Parameters(index = "1", paramLabel = "CONNECTOR")
    String name;

    @Override
    OperatorAction action() {
      return OperatorAction.newBuilder()
          .setDisableConnector(OperatorAction.DisableConnector.newBuilder().setName(name))
          .build();
    }
  }

  @Command(name = "enable-connector", description = "Enable a disabled connector.")
  static final class EnableConnector extends ActionCommand {
    @Parameters(index = "1", paramLabel = "CONNECTOR")
    String name;

    @Override
    OperatorAction action() {
      return OperatorAction.newBuilder()
          .setEnableConnector(OperatorAction.EnableConnector.newBuilder().setName(name))
          .build();
    }
  }

  @Command(name = "set-max-in-flight", description = "Set the effective in-flight limit, from 1 up to the boundary's max.")
  static final class SetMaxInFlight extends ActionCommand {
    @Parameters(index = "1", paramLabel = "N")
    int max;

    @Override
    OperatorAction action() {
      return OperatorAction.newBuilder()
          .setSetMaxInFlight(OperatorAction.SetMaxInFlight.newBuilder().setMaxInFlight(max))
          .build();
    }
  }

  @Command(name = "redrive", description = "Queue a dead-lettered batch again, attempts reset.")
  static final class Redrive extends ActionCommand {
    @Parameters(index = "1", paramLabel = "KEY")
    String key;

    @Override
    OperatorAction action() {
      return OperatorAction.newBuilder()
          .setRedriveDeadLetter(OperatorAction.RedriveDeadLetter.newBuilder().setKey(key))
          .build();
    }
  }

  @Command(name = "discard", description = "Drop a dead-lettered batch; its key is free again.")
  static final class Discard extends ActionCommand {
    @Parameters(index = "1", paramLabel = "KEY")
    String key;

    @Override
    OperatorAction action() {
      return OperatorAction.newBuilder()
          .setDiscardDeadLetter(OperatorAction.DiscardDeadLetter.newBuilder().setKey(key))
          .build();
    }
  }

  @Command(name = "cancel", description = "Remove a QUEUED or RETRY_WAIT batch.")
  static final class Cancel extends ActionCommand {
    @Parameters(index = "1", paramLabel = "KEY")
    String key;

    @Override
    OperatorAction action() {
      return OperatorAction.newBuilder()
          .setCancelBatch(OperatorAction.CancelBatch.newBuilder().setKey(key))
          .build();
    }
  }
}
