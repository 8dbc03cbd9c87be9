package dev.lightspeed.orchestrator.cli;

import com.google.protobuf.MessageOrBuilder;
import dev.lightspeed.orchestrator.client.OrchestratorClient;
import dev.lightspeed.orchestrator.v1.ListRunsRequest;
import dev.lightspeed.orchestrator.v1.ListRunsResponse;
import dev.lightspeed.orchestrator.v1.RunSummary;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code lightspeed runs start|complete|list}: runs label work; they never gate it. */
@Command(
    name = "runs",
    description = "Open, close and list runs.",
    subcommands = {RunsCommand.Start.class, RunsCommand.Complete.class, RunsCommand.ListRuns.class})
final class RunsCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  static final List<String> HEADER =
      List.of("RUN", "STARTED", "COMPLETED", "BATCHES", "RECORDS", "RETRIES", "DEAD_LETTERED");

  static List<String> row(RunSummary r) {
    return List.of(
        Long.toString(r.getRunId()),
        Output.time(r.getStartedAtMs()),
        Output.time(r.getCompletedAtMs()),
        Long.toString(r.getBatchesProcessed()),
        Long.toString(r.getRecordsProcessed()),
        Long.toString(r.getRetriesScheduled()),
        Long.toString(r.getDeadLettered()));
  }

  @Command(name = "start", description = "Open a run (or show the active one).")
  static final class Start extends ClientCommand {
    @Parameters(paramLabel = "PIPELINE")
    String pipeline;

    @Override
    int run(OrchestratorClient client) {
      RunSummary run = client.startRun(pipeline);
      out().println("run " + run.getRunId() + " active since " + Output.time(run.getStartedAtMs()));
      return 0;
    }
  }

  @Command(name = "complete", description = "Close the active run and print its summary.")
  static final class Complete extends ClientCommand {
    @Parameters(paramLabel = "PIPELINE")
    String pipeline;

    @Override
    int run(OrchestratorClient client) {
      Optional<RunSummary> run = client.completeRun(pipeline);
      if (run.isEmpty()) {
        out().println("no run was active");
      } else {
        Output.table(out(), HEADER, List.of(row(run.get())));
      }
      return 0;
    }
  }

  @Command(name = "list", description = "List the completed runs, newest first.")
  static final class ListRuns extends ListCommand<RunSummary> {
    @Override
    List<RunSummary> list(OrchestratorClient client) {
      return Pages.all(
          token -> client.listRuns(ListRunsRequest.newBuilder()
              .setPipeline(pipeline).setStaleOk(staleOk)
              .setPageSize(Pages.PAGE_SIZE).setPageToken(token).build()),
          ListRunsResponse::getRunsList,
          ListRunsResponse::getNextPageToken);
    }

    @Override
    MessageOrBuilder response(List<RunSummary> all) {
      return ListRunsResponse.newBuilder().addAllRuns(all);
    }

    @Override
    List<String> header() {
      return HEADER;
    }

    @Override
    List<String> row(RunSummary r) {
      return RunsCommand.row(r);
    }
  }}
