package dev.lightspeed.orchestrator.cli;

import dev.lightspeed.orchestrator.client.OrchestratorClient;
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
      return run(client);
    }
  }

  PrintWriter out() {
    return spec.commandLine().getOut();
  }
}
