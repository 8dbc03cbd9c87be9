package dev.lightspeed.orchestrator.cli;

import com.google.protobuf.MessageOrBuilder;
import dev.lightspeed.orchestrator.client.OrchestratorClient;
import java.util.List;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * A command that lists one pipeline's items: reads every page ({@link Pages}), then prints them
 * as a table or, with {@code --json}, as the list response's protobuf JSON holding every item.
 * A subclass says only which call, which response and which columns.
 */
abstract class ListCommand<T> extends ClientCommand {
  @Parameters(paramLabel = "PIPELINE")
  String pipeline;

  @Option(names = "--json", description = "Print protobuf JSON instead of a table.")
  boolean json;

  @Option(
      names = "--stale-ok",
      description = "On a cluster node: answer from that node's own replica (may miss recent"
          + " writes made elsewhere; answers while the pipeline's group has no leader). A"
          + " single server ignores it.")
  boolean staleOk;

  /** Every item, read page by page with {@link Pages#all}. */
  abstract List<T> list(OrchestratorClient client);

  /** The list response holding {@code all}: what {@code --json} prints. */
  abstract MessageOrBuilder response(List<T> all);

  abstract List<String> header();

  abstract List<String> row(T item);

  @Override
  final int run(OrchestratorClient client) {
    List<T> all = list(client);
    if (json) {
      out().println(Output.json(response(all)));
    } else {
      Output.table(out(), header(), all.stream().map(this::row).toList());
    }
    return 0;
  }
}
