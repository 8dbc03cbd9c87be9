package dev.lightspeed.orchestrator.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.lightspeed.orchestrator.client.OrchestratorClient;
import dev.lightspeed.orchestrator.v1.Connector;
import dev.lightspeed.orchestrator.v1.ListPipelinesRequest;
import dev.lightspeed.orchestrator.v1.ListPipelinesResponse;
import dev.lightspeed.orchestrator.v1.PipelineSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code lightspeed pipelines list|get|create|update|delete}. */
@Command(
    name = "pipelines",
    description = "List, show, create, update and delete pipelines.",
    subcommands = {
      PipelinesCommand.ListPipelines.class,
      PipelinesCommand.Get.class,
      PipelinesCommand.Create.class,
      PipelineUpdateCommand.class,
      PipelinesCommand.Delete.class
    })
final class PipelinesCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Every pipeline's name, in name order (every page). */
  static List<String> names(OrchestratorClient client) {
    return all(client).stream().map(PipelineSpec::getName).toList();
  }

  private static List<PipelineSpec> all(OrchestratorClient client) {
    return Pages.all(
        token ->
            client.listPipelines(
                ListPipelinesRequest.newBuilder()
                    .setPageSize(Pages.PAGE_SIZE)
                    .setPageToken(token)
                    .build()),
        ListPipelinesResponse::getPipelinesList,
        ListPipelinesResponse::getNextPageToken);
  }

  @Command(name = "list", description = "List the pipelines, in name order.")
  static final class ListPipelines extends ClientCommand {
    @Option(names = "--json", description = "Print protobuf JSON instead of a table.")
    boolean json;

    @Override
    int run(OrchestratorClient client) {
      List<PipelineSpec> all = all(client);
      if (json) {
        out().println(Output.json(ListPipelinesResponse.newBuilder().addAllPipelines(all)));
        return 0;
      }
      Output.table(
          out(),
          List.of("NAME", "STAGES", "CONNECTORS", "MAX_IN_FLIGHT", "LEASE_MS", "MAX_ATTEMPTS"),
          all.stream()
              .map(
                  p ->
                      List.of(
                          p.getName(),
                          String.join(",", p.getStagesList()),
                          p.getConnectorsList().stream()
                              .map(Connector::getName)
                              .collect(Collectors.joining(",")),
                          Integer.toString(p.getBoundary().getMaxInFlight()),
                          Long.toString(p.getBoundary().getLeaseMs()),
                          Integer.toString(p.getRetry().getMaxAttempts())))
              .toList());
      return 0;
    }
  }

  @Command(name = "get", description = "Print a pipeline's effective spec as JSON.")
  static final class Get extends ClientCommand {
    @Parameters(paramLabel = "PIPELINE", description = "The pipeline's name.")
    String name;

    @Override
    int run(OrchestratorClient client) {
      out().println(Output.json(client.getPipeline(name)));
      return 0;
    }
  }

  @Command(
      name = "create",
      description = {
        "Create a pipeline from a JSON spec and print its effective spec.",
        "The file holds one PipelineSpec in protobuf JSON, like an entry of",
        "examples/pipelines.json."
      })
  static final class Create extends ClientCommand {
    @Option(
        names = {"-f", "--file"},
        required = true,
        paramLabel = "FILE",
        description = "The spec file; - for stdin.")
    String file;

    @Override
    int run(OrchestratorClient client) {
      out().println(Output.json(client.createPipeline(readSpec())));
      return 0;
    }

    private PipelineSpec readSpec() {
      String text;
      try {
        text =
            file.equals("-")
                ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8)
                : Files.readString(Path.of(file));
      } catch (IOException e) {
        throw new CliException("INVALID_FILE", "cannot read " + file + ": " + e, OrchestratorCli.USAGE);
      }
      PipelineSpec.Builder spec = PipelineSpec.newBuilder();
      try {
        JsonFormat.parser().merge(text, spec);
      } catch (InvalidProtocolBufferException e) {
        throw new CliException(
            "INVALID_FILE",
            file + " is not a JSON PipelineSpec: "
                + JsonErrors.explain(e.getMessage(), PipelineSpec.getDescriptor()),
            OrchestratorCli.USAGE);
      }
      return spec.build();
    }
  }

  @Command(name = "delete", description = "Delete a pipeline with all its state.")
  static final class Delete extends ClientCommand {
    @Parameters(paramLabel = "PIPELINE", description = "The pipeline's name.")
    String name;

    @Option(names = "--force", description = "Also when it still has live batches (they are dropped).")
    boolean force;

    @Override
    int run(OrchestratorClient client) {
      client.deletePipeline(name, force);
      out().println("deleted pipeline " + name);
      return 0;
    }
  }
}
