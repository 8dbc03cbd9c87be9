package dev.lightspeed.orchestrator.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.FieldMask;
import com.google.protobuf.util.JsonFormat;
import dev.lightspeed.orchestrator.durability.Durability;
import dev.lightspeed.orchestrator.v1.AckBatchRequest;
import dev.lightspeed.orchestrator.v1.AckBatchesRequest;
import dev.lightspeed.orchestrator.v1.AckItem;
import dev.lightspeed.orchestrator.v1.ApplyActionRequest;
import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.Boundary;
import dev.lightspeed.orchestrator.v1.CompleteRunRequest;
import dev.lightspeed.orchestrator.v1.Connector;
import dev.lightspeed.orchestrator.v1.ConnectorKind;
import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.DeletePipelineRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesRequest;
import dev.lightspeed.orchestrator.v1.ExtendLeaseRequest;
import dev.lightspeed.orchestrator.v1.FailBatchRequest;
import dev.lightspeed.orchestrator.v1.GetStatusRequest;
import dev.lightspeed.orchestrator.v1.ListAuditLogRequest;
import dev.lightspeed.orchestrator.v1.ListBatchesRequest;
import dev.lightspeed.orchestrator.v1.ListDeadLettersRequest;
import dev.lightspeed.orchestrator.v1.ListPipelinesRequest;
import dev.lightspeed.orchestrator.v1.ListRetriesRequest;
import dev.lightspeed.orchestrator.v1.ListRunsRequest;
import dev.lightspeed.orchestrator.v1.OperatorAction;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceBlockingStub;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.PipelineSpec;
import dev.lightspeed.orchestrator.v1.RetryPolicy;
import dev.lightspeed.orchestrator.v1.StartAvailableRequest;
import dev.lightspeed.orchestrator.v1.StartRunRequest;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import dev.lightspeed.orchestrator.v1.UpdatePipelineRequest;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * A data directory written by the server before the journal had messages of its own (journal
 * records holding the public v1 API messages, journal format 2, commit d50a021) still opens, and
 * recovers exactly the state that server reported: fixtures/format2-data-dir, with what that
 * server answered in fixtures/format2-data-dir.expected. Its journal after the snapshot holds
 * every kind of command, so every kind is read back.
 *
 * <p>The fixture is regenerated (only ever with the code of the format it is named after) by
 * {@code mvn -pl server test -Dtest=JournalFormatUpgradeTest#writeFixture
 * -DwriteJournalFixture=src/test/resources/fixtures}.
 */
class JournalFormatUpgradeTest {
  static final String FIXTURE = "format2-data-dir";

  @TempDir Path dir;

  private OrchestratorServer server;
  private ManagedChannel channel;
  private OrchestratorServiceBlockingStub stub;

  @AfterEach
  void stop() throws InterruptedException {
    stopServer();
  }

  private static Durability.Options options(Path data) {
    return Durability.Options.defaults(data).withSegmentBytes(8192).withPreallocate(false);
  }

  private void startServer(Path data) throws IOException {
    String name = InProcessServerBuilder.generateName();
    server = new OrchestratorServer(
        InProcessServerBuilder.forName(name).directExecutor(), Clock.systemUTC(), 1024,
        Durability.open(options(data))).start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    stub = OrchestratorServiceGrpc.newBlockingStub(channel);
  }

  private void stopServer() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      channel = null;
    }
    if (server != null) {
      server.stop(5, TimeUnit.SECONDS);
      server = null;
    }
  }

  @Test
  void aDataDirectoryOfTheFormatBefore_opensWithTheStateThatServerReported() throws Exception {
    Path data = dir.resolve("data");
    copyTree(Path.of("src/test/resources/fixtures", FIXTURE), data);
    startServer(data);
    assertThat(observe()).isEqualTo(expected());
  }

  @Test
  void aDataDirectoryOfTheFormatBefore_carriesOn_andReopensInTheNewFormat() throws Exception {
    Path data = dir.resolve("data");
    copyTree(Path.of("src/test/resources/fixtures", FIXTURE), data);
    startServer(data);
    everyKindOfCommand("delta");
    Map<String, String> before = observe();
    stopServer(); // the shutdown snapshot
    startServer(data);
    assertThat(observe()).isEqualTo(before);
  }

  @Test
  void aNewDataDirectory_isReadBackExactly_fromTheJournalAlone() throws Exception {
    Path live = dir.resolve("live");
    startServer(live);
    everyKindOfCommand("alpha");
    Map<String, String> before = observe();
    // every reply came after its fsync: a copy now is what a kill -9 leaves behind
    Path crash = dir.resolve("crash");
    copyTree(live, crash);
    stopServer();
    startServer(crash);
    assertThat(observe()).isEqualTo(before);
  }

  @Test
  void aJournalRecordOfANewerVersion_stopsStartUp_sayingWhatToDo() throws Exception {
    Path data = dir.resolve("data");
    startServer(data);
    everyKindOfCommand("alpha");
    stopServer();
    // a newer server's record after the shutdown snapshot's floor
    try (var journal = dev.lightspeed.orchestrator.journal.FileCommandLog.open(
        data.resolve("journal"), dev.lightspeed.orchestrator.journal.FsyncMode.NEVER, 8192,
        false, 0, (index, bytes) -> { })) {
      journal.append(dev.lightspeed.orchestrator.journal.v1.Command.newBuilder()
          .setPipeline("alpha").setNowMs(1)
          .setVersion(dev.lightspeed.orchestrator.journal.JournalCodec.VERSION + 1)
          .setStartRun(dev.lightspeed.orchestrator.journal.v1.StartRun.getDefaultInstance())
          .build().toByteArray()).durable().join();
    }
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Durability.open(options(data)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("is of journal version "
            + (dev.lightspeed.orchestrator.journal.JournalCodec.VERSION + 1))
        .hasMessageContaining("Start the server version that wrote this data directory");
  }

  /** Writes the fixture with the code at hand; run only by hand (see the class comment). */
  @Test
  @EnabledIfSystemProperty(named = "writeJournalFixture", matches = ".+")
  void writeFixture() throws Exception {
    Path live = dir.resolve("live");
    startServer(live);
    everyKindOfCommand("alpha");
    server.snapshot(); // alpha in the snapshot, the rest in the journal after it
    everyKindOfCommand("beta");
    Map<String, String> observed = observe();
    Path out = Path.of(System.getProperty("writeJournalFixture"));
    Path target = out.resolve(FIXTURE);
    copyTree(live, target);
    StringBuilder text = new StringBuilder();
    observed.forEach((k, v) -> text.append(k).append('\t').append(v).append('\n'));
    Files.writeString(out.resolve(FIXTURE + ".expected"), text, StandardCharsets.UTF_8);
  }

  private static Map<String, String> expected() throws IOException {
    Map<String, String> out = new TreeMap<>();
    for (String line : Files.readAllLines(
        Path.of("src/test/resources/fixtures", FIXTURE + ".expected"), StandardCharsets.UTF_8)) {
      int tab = line.indexOf('\t');
      out.put(line.substring(0, tab), line.substring(tab + 1));
    }
    return out;
  }

  /**
   * Creates {@code name} (with absent optional settings, which take defaults) and runs every
   * kind of journaled command on it, including refused bulk items; creates and deletes a second
   * pipeline.
   */
  private void everyKindOfCommand(String name) {
    stub.createPipeline(CreatePipelineRequest.newBuilder().setSpec(PipelineSpec.newBuilder()
        .setName(name).addStages("s0").addStages("s1")
        .setBoundary(Boundary.newBuilder().setMaxInFlight(100).setLeaseMs(3_600_000))
        .setRetry(RetryPolicy.newBuilder().setMaxAttempts(3).setInitialBackoffMs(0))
        .addConnectors(Connector.newBuilder().setName("src").setStage("s0")
            .setKind(ConnectorKind.CONNECTOR_KIND_SOURCE).setMaxBatchRecords(1000))
        .addConnectors(Connector.newBuilder().setName("sink").setStage("s1")
            .setKind(ConnectorKind.CONNECTOR_KIND_SINK).setDeadLetterDestination("dlq-" + name)
            .setOrdered(true))).build());
    stub.startRun(StartRunRequest.newBuilder().setPipeline(name).build());
    for (int i = 0; i < 6; i++) {
      stub.enqueueBatch(EnqueueBatchRequest.newBuilder().setPipeline(name)
          .setBatch(Batch.newBuilder().setKey(name + "-" + i).setStage("s0").setRecords(10 + i)
              .setLagMs(i).setIdempotencyKey(name + "-idem-" + i).setSequence(i + 1))
          .build());
    }
    EnqueueBatchesRequest.Builder bulk = EnqueueBatchesRequest.newBuilder().setPipeline(name);
    for (int i = 6; i < 10; i++) {
      bulk.addBatches(Batch.newBuilder().setKey(name + "-" + i).setStage("s1").setRecords(5)
          .setIdempotencyKey(name + "-idem-" + i));
    }
    bulk.addBatches(Batch.newBuilder().setKey(name + "-0").setStage("s0").setRecords(5)
        .setIdempotencyKey(name + "-other")); // the key exists: refused
    stub.enqueueBatches(bulk.build());
    List<StartedBatch> started = new ArrayList<>();
    stub.startAvailable(StartAvailableRequest.newBuilder().setPipeline(name).addStages("s0")
        .setMaxBatches(4).build()).forEachRemaining(r -> started.add(r.getStarted()));
    stub.startAvailable(StartAvailableRequest.newBuilder().setPipeline(name).build())
        .forEachRemaining(r -> started.add(r.getStarted()));
    stub.ackBatch(AckBatchRequest.newBuilder().setPipeline(name)
        .setKey(started.get(0).getBatch().getKey()).setAttempt(started.get(0).getAttempt())
        .build());
    stub.ackBatches(AckBatchesRequest.newBuilder().setPipeline(name)
        .addAcks(AckItem.newBuilder().setKey(started.get(1).getBatch().getKey()))
        .addAcks(AckItem.newBuilder().setKey("no-such-batch"))
        .addAcks(AckItem.newBuilder().setKey(started.get(2).getBatch().getKey())
            .setAttempt(started.get(2).getAttempt()))
        .build());
    stub.failBatch(FailBatchRequest.newBuilder().setPipeline(name)
        .setKey(started.get(3).getBatch().getKey()).setAttempt(started.get(3).getAttempt())
        .setReason("retry me").build());
    stub.failBatch(FailBatchRequest.newBuilder().setPipeline(name)
        .setKey(started.get(4).getBatch().getKey()).setAttempt(started.get(4).getAttempt())
        .setReason("poison").setNonRetryable(true).build());
    stub.extendLease(ExtendLeaseRequest.newBuilder().setPipeline(name)
        .setKey(started.get(5).getBatch().getKey()).setAttempt(started.get(5).getAttempt())
        .build());
    action(name, OperatorAction.newBuilder().setPauseStage(
        OperatorAction.PauseStage.newBuilder().setStage("s1")));
    action(name, OperatorAction.newBuilder().setResumeStage(
        OperatorAction.ResumeStage.newBuilder().setStage("s1")));
    action(name, OperatorAction.newBuilder().setSetMaxInFlight(
        OperatorAction.SetMaxInFlight.newBuilder().setMaxInFlight(50)));
    action(name, OperatorAction.newBuilder().setRedriveDeadLetter(
        OperatorAction.RedriveDeadLetter.newBuilder().setKey(started.get(4).getBatch().getKey())));
    action(name, OperatorAction.newBuilder().setDisableConnector(
        OperatorAction.DisableConnector.newBuilder().setName("sink")));
    action(name, OperatorAction.newBuilder().setPause(OperatorAction.Pause.getDefaultInstance()));
    action(name, OperatorAction.newBuilder().setResume(OperatorAction.Resume.getDefaultInstance()));
    // values with absent optional settings, which the update takes as their defaults
    stub.updatePipeline(UpdatePipelineRequest.newBuilder()
        .setPipeline(PipelineSpec.newBuilder().setName(name)
            .setBoundary(Boundary.newBuilder().setMaxQueued(500))
            .setRetry(RetryPolicy.newBuilder().setMaxAttempts(5).setMultiplier(1.5)))
        .setUpdateMask(FieldMask.newBuilder().addPaths("boundary.max_queued")
            .addPaths("retry.max_attempts").addPaths("retry.multiplier")
            .addPaths("boundary.max_lag_ms"))
        .build());
    stub.completeRun(CompleteRunRequest.newBuilder().setPipeline(name).build());
    stub.startRun(StartRunRequest.newBuilder().setPipeline(name).build());
    String doomed = name + "-doomed";
    stub.createPipeline(CreatePipelineRequest.newBuilder().setSpec(PipelineSpec.newBuilder()
        .setName(doomed).addStages("only").setAllowUnboundStages(true)).build());
    stub.enqueueBatch(EnqueueBatchRequest.newBuilder().setPipeline(doomed)
        .setBatch(Batch.newBuilder().setKey("k").setStage("only").setRecords(1)
            .setIdempotencyKey("k")).build());
    stub.deletePipeline(DeletePipelineRequest.newBuilder().setName(doomed).setForce(true).build());
  }

  private void action(String pipeline, OperatorAction.Builder action) {
    stub.applyAction(ApplyActionRequest.newBuilder().setPipeline(pipeline).setAction(action)
        .build());
  }

  /** What the server reports of every pipeline: spec, signature, lists, audit log, runs. */
  private Map<String, String> observe() throws IOException {
    Map<String, String> seen = new TreeMap<>();
    JsonFormat.Printer json = JsonFormat.printer().omittingInsignificantWhitespace();
    for (PipelineSpec p : stub.listPipelines(
        ListPipelinesRequest.newBuilder().setPageSize(1000).build()).getPipelinesList()) {
      String name = p.getName();
      seen.put(name + "/spec", json.print(p));
      var status = stub.getStatus(GetStatusRequest.newBuilder().setPipeline(name).build());
      seen.put(name + "/signature", status.getSignature());
      seen.put(name + "/valid", Boolean.toString(status.getValid()));
      seen.put(name + "/batches", json.print(stub.listBatches(
          ListBatchesRequest.newBuilder().setPipeline(name).setPageSize(1000).build())));
      seen.put(name + "/retries", json.print(stub.listRetries(
          ListRetriesRequest.newBuilder().setPipeline(name).setPageSize(1000).build())));
      seen.put(name + "/dead-letters", json.print(stub.listDeadLetters(
          ListDeadLettersRequest.newBuilder().setPipeline(name).setPageSize(1000).build())));
      seen.put(name + "/runs", json.print(stub.listRuns(
          ListRunsRequest.newBuilder().setPipeline(name).setPageSize(1000).build())));
      seen.put(name + "/audit", json.print(stub.listAuditLog(
          ListAuditLogRequest.newBuilder().setPipeline(name).setPageSize(1000).build())));
    }
    return seen;
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> all = Files.walk(from)) {
      for (Path p : all.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else if (!p.getFileName().toString().equals("LOCK")) {
          Files.copy(p, target);
        }
      }
    }
  }
}
