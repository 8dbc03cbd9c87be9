package dev.lightspeed.orchestrator.cli;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.lightspeed.orchestrator.client.OrchestratorClient;
import dev.lightspeed.orchestrator.v1.PipelineSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code lightspeed pipelines update NAME --set PATH=VALUE ... | --from-file FILE [--mask ...]}:
 * UpdatePipeline with a mask built from what the operator named.
 */
@Command(
    name = "update",
    description = {
      "Change settings of a live pipeline (UpdatePipeline) and print its effective spec.",
      "  --set boundary.max_queued=50000 --set retry.max_attempts=3",
      "  --from-file spec.json      the settings present in the file (stages, connectors, ...)",
      "  --mask boundary,retry      exactly these paths (a named field absent = its default)",
      "Paths: boundary[.max_in_flight|.max_queued|.max_lag_ms|.max_in_flight_records|.lease_ms],",
      "retry[.max_attempts|.initial_backoff_ms|.max_backoff_ms|.multiplier], dedup_window_ms,",
      "allow_unbound_stages, stages, connectors."
    })
final class PipelineUpdateCommand extends ClientCommand {
  @Parameters(paramLabel = "PIPELINE", description = "The pipeline's name.")
  String name;

  @Option(
      names = "--set",
      paramLabel = "PATH=VALUE",
      description = "Set one number or boolean setting; repeatable.")
  List<String> sets = new ArrayList<>();

  @Option(
      names = {"-f", "--from-file"},
      paramLabel = "FILE",
      description = "A JSON PipelineSpec (as for 'pipelines create'); - for stdin.")
  String file;

  @Option(
      names = "--mask",
      split = ",",
      paramLabel = "PATH",
      description = "The update mask; default: the paths given by --set and present in the file.")
  List<String> mask = new ArrayList<>();

  @Override
  int run(OrchestratorClient client) {
    PipelineSpec.Builder values = PipelineSpec.newBuilder();
    Set<String> paths = new LinkedHashSet<>();
    if (file != null) {
      readFile(values);
      paths.addAll(presentPaths(values));
    }
    for (String set : sets) {
      paths.add(applySet(values, set));
    }
    if (!values.getName().isEmpty() && !values.getName().equals(name)) {
      throw usage("the file names pipeline '" + values.getName() + "', not '" + name + "'");
    }
    values.setName(name);
    List<String> updateMask = mask.isEmpty() ? List.copyOf(paths) : mask;
    if (updateMask.isEmpty()) {
      throw usage("nothing to update: give --set PATH=VALUE, --from-file FILE or --mask");
    }
    out().println(Output.json(client.updatePipeline(values.build(), updateMask)));
    return 0;
  }

  /** The leaf paths whose values the file sets: absent settings stay as they are. */
  static List<String> presentPaths(PipelineSpec.Builder spec) {
    List<String> paths = new ArrayList<>();
    for (String section : List.of("boundary", "retry")) {
      FieldDescriptor f = PipelineSpec.getDescriptor().findFieldByName(section);
      Message m = (Message) spec.getField(f);
      for (FieldDescriptor leaf : m.getDescriptorForType().getFields()) {
        if (m.hasField(leaf)) {
          paths.add(section + "." + leaf.getName());
        }
      }
    }
    if (spec.hasDedupWindowMs()) {
      paths.add("dedup_window_ms");
    }
    if (spec.hasAllowUnboundStages()) {
      paths.add("allow_unbound_stages");
    }
    if (spec.getStagesCount() > 0) {
      paths.add("stages");
    }
    if (spec.getConnectorsCount() > 0) {
      paths.add("connectors");
    }
    return paths;
  }

  /** Sets {@code path=value} (a number or boolean leaf) on {@code spec}; returns the path. */
  static String applySet(PipelineSpec.Builder spec, String assignment) {
    int eq = assignment.indexOf('=');
    if (eq <= 0) {
      throw usage("--set takes PATH=VALUE, got '" + assignment + "'");
    }
    String path = assignment.substring(0, eq).trim();
    String value = assignment.substring(eq + 1).trim();
    String[] parts = path.split("\\.", -1);
    Message.Builder target = spec;
    for (int i = 0; i < parts.length - 1; i++) {
      FieldDescriptor section = target.getDescriptorForType().findFieldByName(parts[i]);
      if (section == null || section.getType() != FieldDescriptor.Type.MESSAGE) {
        throw usage("unknown setting '" + path + "'");
      }
      target = target.getFieldBuilder(section);
    }
    FieldDescriptor leaf = target.getDescriptorForType().findFieldByName(parts[parts.length - 1]);
    if (leaf == null || leaf.isRepeated() || leaf.getType() == FieldDescriptor.Type.MESSAGE
        || leaf.getName().equals("name")) {
      throw usage("'" + path + "' cannot be set with --set; use --from-file for stages and"
          + " connectors");
    }
    try {
      Object parsed =
          switch (leaf.getJavaType()) {
            case INT -> Integer.parseInt(value);
            case LONG -> Long.parseLong(value);
            case DOUBLE -> Double.parseDouble(value);
            case BOOLEAN -> parseBoolean(value);
            default -> throw usage("'" + path + "' cannot be set with --set");
          };
      target.setField(leaf, parsed);
    } catch (NumberFormatException e) {
      throw usage("'" + value + "' is not a number for " + path);
    }
    return path;
  }

  private static boolean parseBoolean(String value) {
    if (value.equals("true") || value.equals("false")) {
      return Boolean.parseBoolean(value);
    }
    throw usage("'" + value + "' is not true or false");
  }

  private void readFile(PipelineSpec.Builder into) {
    String text;
    try {
      text = file.equals("-")
          ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8)
          : Files.readString(Path.of(file));
    } catch (IOException e) {
      throw new CliException("INVALID_FILE", "cannot read " + file + ": " + e, OrchestratorCli.USAGE);
    }
    try {
      JsonFormat.parser().merge(text, into);
    } catch (InvalidProtocolBufferException e) {
      throw new CliException("INVALID_FILE",
          file + " is not a JSON PipelineSpec: " + e.getMessage(), OrchestratorCli.USAGE);
    }
  }

  private static CliException usage(String message) {
    return new CliException("USAGE", message, OrchestratorCli.USAGE);
  }
}
