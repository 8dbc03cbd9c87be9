package dev.lightspeed.orchestrator.cli;

import dev.lightspeed.orchestrator.client.OrchestratorClient;
import dev.lightspeed.orchestrator.client.StartedBatchStream;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code lightspeed watch}: prints batches as they are started, by anyone. */
@Command(
    name = "watch",
    description = {
      "Print the batches started from now on, by any worker.",
      "Runs until Ctrl-C, or until --count batches were printed."
    })
final class WatchCommand extends ClientCommand {
  @Parameters(paramLabel = "PIPELINE")
  String pipeline;

  @Option(names = "--count", defaultValue = "0", description = "Stop after this many; 0 = until Ctrl-C.")
  long count;

  @Option(names = "--json", description = "Print one StartedBatch JSON per line.")
  boolean json;

  @Override
  int run(OrchestratorClient client) {
    try (StartedBatchStream stream = client.watchStarted(pipeline)) {
      if (!json) {
        out().println(String.join("  ", Output.STARTED_HEADER));
        out().flush();
      }
      long seen = 0;
      while ((count == 0 || seen < count) && stream.hasNext()) {
        StartedBatch s = stream.next();
        out().println(json ? Output.jsonLine(s) : String.join("  ", Output.row(s)));
        out().flush();
        seen++;
      }
    }
    return 0;
  }
}
