package dev.lightspeed.orchestrator.cli;

import dev.lightspeed.orchestrator.client.OrchestratorClient;
import dev.lightspeed.orchestrator.client.errors.OrchestratorException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** A command that talks to the server: connects with the global options, runs, disconnects. */
abstract class ClientCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  /** Runs against the server; returns the exit code. */
  abstract int run(OrchestratorClient client);

  @Override
  public final Integer call() {
    OrchestratorCli root = (OrchestratorCli) spec.root().userObject();
    try (OrchestratorClient client = root.connect()) {
      try {
        return run(client);
      } catch (OrchestratorException e) {
        // Hints are worked out here, while the client can still list pipelines for them.
        Hints.Context context = new Hints.Context(root.effectiveTarget(), root.usesTls(),
            () -> PipelinesCommand.names(client));
        throw new CliException(e.reasonName(), Hints.message(e), OrchestratorCli.REFUSED,
            Hints.forFailure(e, context), e);
      }
    }
  }

  PrintWriter out() {
    return spec.commandLine().getOut();
  }
}
