package dev.lightspeed.orchestrator.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.lightspeed.orchestrator.core.Reason;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.durability.Durability;
import dev.lightspeed.orchestrator.host.ServerReason;
import dev.lightspeed.orchestrator.journal.FsyncMode;
import dev.lightspeed.orchestrator.server.GrpcServerExtension;
import dev.lightspeed.orchestrator.v1.Connector;
import dev.lightspeed.orchestrator.v1.GetPipelineRequest;
import dev.lightspeed.orchestrator.v1.ListPipelinesRequest;
import dev.lightspeed.orchestrator.v1.PipelineSpec;
import dev.lightspeed.orchestrator.v1.ServerConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** ServerMain's config file: examples/pipelines.json, and invalid configs that name the field. */
class ServerMainConfigTest {
  /** Tests run in the server module; the example lives at the repository root. */
  private static final Path EXAMPLE = Path.of("../examples/pipelines.json");

  @RegisterExtension final GrpcServerExtension grpc = GrpcServerExtension.inProcess();

  @TempDir Path dir;

  private Path write(String json) throws IOException {
    Path file = dir.resolve("config.json");
    Files.writeString(file, json);
    return file;
  }

  private PipelineSpec get(String name) {
    return grpc.blocking().getPipeline(GetPipelineRequest.newBuilder().setName(name).build())
        .getPipeline();
  }

  @Test
  void readConfig_ofTheExample_parsesTwoPipelinesThatBothCreate() throws IOException {
    ServerConfig config = ServerMain.readConfig(EXAMPLE);

    assertThat(config.getPipelinesList()).extracting(PipelineSpec::getName)
        .containsExactly("orders", "clickstream");

    grpc.server().createPipelines(config.getPipelinesList());

    assertThat(grpc.blocking().listPipelines(ListPipelinesRequest.getDefaultInstance())
            .getPipelinesList())
        .extracting(PipelineSpec::getName)
        .containsExactly("clickstream", "orders");
    PipelineSpec orders = get("orders");
    assertThat(orders.getStagesList()).containsExactly("extract", "load");
    assertThat(orders.getBoundary().getMaxInFlight()).isEqualTo(16);
    assertThat(orders.getBoundary().getLeaseMs()).isEqualTo(30_000);
    assertThat(orders.getBoundary().getMaxLagMs()).as("default").isZero();
    assertThat(orders.getRetry().getMaxAttempts()).isEqualTo(3);
    assertThat(orders.getRetry().getInitialBackoffMs()).isEqualTo(500);
    assertThat(orders.getRetry().getMaxBackoffMs()).isEqualTo(10_000);
    assertThat(orders.getDedupWindowMs()).as("default").isEqualTo(300_000);
    assertThat(orders.getConnectorsList())
        .extracting(Connector::getName, Connector::getMaxBatchRecords,
            Connector::getDeadLetterDestination)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("orders-kafka", 5000L, ""),
            org.assertj.core.groups.Tuple.tuple("orders-warehouse", 0L, "s3://dlq/orders"));
    PipelineSpec clicks = get("clickstream");
    assertThat(clicks.getConnectors(0).getOrdered()).isTrue();
    assertThat(clicks.getBoundary().getMaxLagMs()).isEqualTo(60_000);
    assertThat(clicks.getBoundary().getMaxInFlight()).as("default").isEqualTo(64);
    assertThat(clicks.getRetry().getMaxAttempts()).as("default").isEqualTo(5);
  }

  @Test
  void createPipelines_withAnInvalidSpec_isRefusedNamingThePipelineAndTheField()
      throws IOException {
    ServerConfig config =
        ServerMain.readConfig(
            write(
                """
                {"pipelines": [
                  {"name": "good", "stages": ["s"], "allowUnboundStages": true},
                  {"name": "bad", "stages": ["s"], "allowUnboundStages": true,
                   "boundary": {"maxInFlight": 0}}
                ]}
                """));

    Rejection r =
        catchThrowableOfType(
            Rejection.class, () -> grpc.server().createPipelines(config.getPipelinesList()));

    assertThat(r).isNotNull();
    assertThat(r.reason()).isEqualTo(Reason.INVALID_PIPELINE_SPEC);
    assertThat(r.getMessage()).contains("bad").contains("boundary.max_in_flight");
  }

  @Test
  void createPipelines_withARepeatedName_isRefusedNamingThePipeline() throws IOException {
    ServerConfig config =
        ServerMain.readConfig(
            write(
                """
                {"pipelines": [
                  {"name": "twice", "stages": ["s"], "allowUnboundStages": true},
                  {"name": "twice", "stages": ["t"], "allowUnboundStages": true}
                ]}
                """));

    Rejection r =
        catchThrowableOfType(
            Rejection.class, () -> grpc.server().createPipelines(config.getPipelinesList()));

    assertThat(r).isNotNull();
    assertThat(r.reason()).isEqualTo(ServerReason.PIPELINE_EXISTS);
    assertThat(r.getMessage()).contains("twice");
  }

  @Test
  void readConfig_withAnUnknownJsonField_failsNamingIt() throws IOException {
    Path file =
        write(
            """
            {"pipelines": [{"name": "p", "stages": ["s"], "boundary": {"maxInflight": 3}}]}
            """);

    IOException e = catchThrowableOfType(IOException.class, () -> ServerMain.readConfig(file));

    assertThat(e).isNotNull();
    assertThat(e.getMessage()).contains("maxInflight");
  }

  @Test
  void serverMain_withAnInvalidConfig_exitsWith2AndNamesThePipelineAndTheField()
      throws IOException {
    Path file =
        write(
            """
            {"pipelines": [{"name": "orders", "stages": ["s"], "allowUnboundStages": true,
                            "retry": {"maxAttempts": 0}}]}
            """);
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream original = System.err;
    int exit;
    try {
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      exit =
          new CommandLine(new ServerMain())
              .execute("--bind", "127.0.0.1", "--port", "0", "--in-memory", "--config",
                  file.toString());
    } finally {
      System.setErr(original);
    }

    assertThat(exit).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("INVALID_PIPELINE_SPEC")
        .contains("orders")
        .contains("retry.max_attempts");
  }

  @Test
  void durabilityFlags_setTheDataDirectoryOptions_andTheDefaultsAreOn() {
    ServerMain defaults = new ServerMain();
    new CommandLine(defaults).parseArgs("--data-dir", "data");
    Durability.Options on = defaults.durabilityOptions(FsyncMode.ALWAYS);
    assertThat(on.snapshotFollow()).isTrue();
    assertThat(on.preallocate()).isTrue();
    assertThat(on.snapshotEveryRecords()).isEqualTo(Durability.DEFAULT_SNAPSHOT_EVERY_RECORDS);

    ServerMain off = new ServerMain();
    new CommandLine(off).parseArgs("--data-dir", "data", "--no-snapshot-follow",
        "--no-journal-preallocate", "--snapshot-every", "5000", "--snapshot-nice", "3");
    Durability.Options options = off.durabilityOptions(FsyncMode.NEVER);
    assertThat(options.snapshotFollow()).isFalse();
    assertThat(options.preallocate()).isFalse();
    assertThat(options.snapshotEveryRecords()).isEqualTo(5000);
    assertThat(options.snapshotNice()).isEqualTo(3);
    assertThat(options.fsync()).isEqualTo(FsyncMode.NEVER);
  }
}
