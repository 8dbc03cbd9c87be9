package dev.lightspeed.orchestrator.durability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.journal.FsyncMode;
import dev.lightspeed.orchestrator.server.OrchestratorServer;
import dev.lightspeed.orchestrator.v1.AckBatchRequest;
import dev.lightspeed.orchestrator.v1.ApplyActionRequest;
import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.Boundary;
import dev.lightspeed.orchestrator.v1.CompleteRunRequest;
import dev.lightspeed.orchestrator.v1.Connector;
import dev.lightspeed.orchestrator.v1.ConnectorKind;
import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchRequest;
import dev.lightspeed.orchestrator.v1.FailBatchRequest;
import dev.lightspeed.orchestrator.v1.GetPipelineRequest;
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
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Restarts of a durable server: what was acknowledged before is exactly there after. */
class DurabilityTest {
  @TempDir Path dir;

  private OrchestratorServer server;
  private ManagedChannel channel;
  private OrchestratorServiceBlockingStub stub;

  @AfterEach
  void stop() throws InterruptedException {
    stopServer();
  }

  private void startServer(Durability.Options options) throws IOException {
    String name = InProcessServerBuilder.generateName();
    server = new OrchestratorServer(
        InProcessServerBuilder.forName(name).directExecutor(), Clock.systemUTC(), 1024,
        Durability.open(options)).start();
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
  void cleanRestart_restoresEveryPipelineWithTheSameSignatureAndLists() throws Exception {
    Durability.Options options = Durability.Options.defaults(dir);
    startServer(options);
    mixedWorkload("alpha", 40);
    mixedWorkload("beta", 25);
    Map<String, String> before = observe();
    stopServer();

    startServer(options);
    assertThat(observe()).isEqualTo(before);
    // and it carries on from the recovered state: the connector is still disabled
    stub.applyAction(ApplyActionRequest.newBuilder().setPipeline("alpha")
        .setAction(OperatorAction.newBuilder().setEnableConnector(
            OperatorAction.EnableConnector.newBuilder().setName("src-s0")))
        .build());
    enqueue("alpha", "after-restart", 1_000);
    assertThat(stub.getStatus(GetStatusRequest.newBuilder().setPipeline("alpha").build()).getValid())
        .isTrue();
  }

  @Test
  void crashImage_withoutTheShutdownSnapshot_recoversFromSnapshotPlusJournal() throws Exception {
    Durability.Options options = Durability.Options.defaults(dir.resolve("live"))
        .withSegmentBytes(4096);
    startServer(options);
    mixedWorkload("alpha", 30);
    server.snapshot(); // a snapshot mid-way, then more journal on top of it
    mixedWorkload("beta", 30);
    Map<String, String> before = observe();
    // Every reply above came after its fsync: a copy of the directory now is what a kill -9
    // would leave behind.
    Path crashImage = dir.resolve("crash");
    copyTree(dir.resolve("live"), crashImage);
    stopServer();

    startServer(Durability.Options.defaults(crashImage).withSegmentBytes(4096));
    assertThat(observe()).isEqualTo(before);
  }

  @Test
  void journalPreallocation_isOnByDefault_andOffWhenAsked() throws Exception {
    Path on = dir.resolve("on");
    startServer(Durability.Options.defaults(on).withSegmentBytes(64 << 10));
    mixedWorkload("alpha", 10);
    Path spare = on.resolve("journal").resolve("journal-spare.tmp");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!(Files.exists(spare) && Files.size(spare) == 64 << 10)) {
      assertThat(System.nanoTime()).as("a spare segment within 20 s").isLessThan(deadline);
      Thread.sleep(10);
    }
    Map<String, String> before = observe();
    stopServer();
    assertThat(spare).as("deleted at shutdown").doesNotExist();
    startServer(Durability.Options.defaults(on).withSegmentBytes(64 << 10));
    assertThat(observe()).isEqualTo(before);
    stopServer();

    Path off = dir.resolve("off");
    startServer(Durability.Options.defaults(off).withSegmentBytes(64 << 10).withPreallocate(false));
    mixedWorkload("alpha", 10);
    Thread.sleep(200);
    assertThat(off.resolve("journal").resolve("journal-spare.tmp")).doesNotExist();
  }

  @Test
  void snapshots_compactTheJournal_andDiskUseStaysBounded() throws Exception {
    Durability.Options options = Durability.Options.defaults(dir).withSegmentBytes(2048);
    startServer(options);
    long maxSegments = 0;
    for (int round = 0; round < 6; round++) {
      mixedWorkload("p" + round, 20);
      server.snapshot();
      maxSegments = Math.max(maxSegments, segmentCount());
    }
    // Two snapshots are kept (the older one is the fallback if the newest fails its checks), so
    // the journal is compacted up to the older one: what stays is about two rounds' segments plus
    // the one that holds the older snapshot's index (docs/durability.md).
    assertThat(maxSegments).as("covered segments are deleted after each snapshot").isLessThanOrEqualTo(3);
    Map<String, String> before = observe();
    stopServer();
    startServer(options);
    assertThat(observe()).isEqualTo(before);
  }

  @Test
  void snapshotWhileRequestsKeepArriving_recoversExactly() throws Exception {
    // Snapshots from the log in a loop under 4 clients' life cycles and a fifth creating and
    // deleting pipelines, in 8 KiB segments (so they roll and are compacted under the reads).
    Durability.Options options = Durability.Options.defaults(dir.resolve("live"))
        .withSegmentBytes(8192);
    startServer(options);
    createPipeline("busy", 4);
    List<Thread> workers = new ArrayList<>();
    List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    Thread churn = new Thread(() -> {
      try {
        for (int i = 0; i < 20; i++) {
          createPipeline("churn-" + i, 1);
          enqueue("churn-" + i, "c-" + i, i + 1);
          if (i % 2 == 0) {
            stub.deletePipeline(dev.lightspeed.orchestrator.v1.DeletePipelineRequest.newBuilder()
                .setName("churn-" + i).setForce(true).build());
          }
        }
      } catch (Throwable e) {
        failures.add(e);
      }
    });
    workers.add(churn);
    churn.start();
    for (int t = 0; t < 4; t++) {
      String stage = "s" + t;
      Thread worker = new Thread(() -> {
        try {
          for (int i = 0; i < 150; i++) {
            enqueue("busy", stage + "-" + i, i + 1, stage);
            for (StartedBatch s : start("busy", stage)) {
              ack("busy", s.getBatch().getKey(), s.getAttempt());
            }
          }
        } catch (Throwable e) {
          failures.add(e);
        }
      });
      workers.add(worker);
      worker.start();
    }
    java.util.Set<String> snapshotFiles = new java.util.TreeSet<>();
    while (workers.stream().anyMatch(Thread::isAlive)) {
      server.snapshot();
      try (Stream<Path> files = Files.list(dir.resolve("live").resolve("snapshots"))) {
        files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".pb"))
            .forEach(snapshotFiles::add);
      }
    }
    for (Thread w : workers) {
      w.join();
    }
    assertThat(failures).isEmpty();
    assertThat(snapshotFiles).as("distinct snapshots taken under load").hasSizeGreaterThan(3);
    Map<String, String> before = observe();
    assertThat(before.keySet()).contains("churn-19/status").doesNotContain("churn-18/status");
    Path crashImage = dir.resolve("crash");
    copyTree(dir.resolve("live"), crashImage);
    stopServer();
    startServer(Durability.Options.defaults(crashImage));
    assertThat(observe()).isEqualTo(before);
  }

  @Test
  void backgroundSnapshots_areTakenWhenTheTriggerSaysSo() throws Exception {
    Durability.Options options = Durability.Options.defaults(dir.resolve("live"))
        .withSnapshotEveryRecords(20);
    startServer(options);
    mixedWorkload("alpha", 30); // well over 20 records, and more journal than the state's size
    Path snapshots = dir.resolve("live").resolve("snapshots");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (snapshotFloors(snapshots).isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(snapshotFloors(snapshots)).as("the snapshotter thread took one").isNotEmpty();
    Map<String, String> before = observe();
    Path crashImage = dir.resolve("crash");
    copyTree(dir.resolve("live"), crashImage);
    stopServer();
    startServer(Durability.Options.defaults(crashImage));
    assertThat(observe()).isEqualTo(before);
  }

  @Test
  void afterARestart_theRecoveredJournalCountsTowardsTheNextSnapshot() throws Exception {
    Durability.Options never = Durability.Options.defaults(dir.resolve("live"))
        .withSnapshotEveryRecords(1_000_000).withSnapshotEveryBytes(1L << 30);
    startServer(never);
    mixedWorkload("alpha", 30); // some KB of journal, no snapshot
    Path crashImage = dir.resolve("crash");
    copyTree(dir.resolve("live"), crashImage);
    stopServer();
    assertThat(snapshotFloors(crashImage.resolve("snapshots"))).isEmpty();

    // Due after 1 KiB of journal: the journal recovered at start-up is more than that, and no
    // record is appended after the restart.
    startServer(Durability.Options.defaults(crashImage).withSnapshotEveryRecords(1_000_000)
        .withSnapshotEveryBytes(1024));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (snapshotFloors(crashImage.resolve("snapshots")).isEmpty()
        && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(snapshotFloors(crashImage.resolve("snapshots"))).isNotEmpty();
  }

  private static List<String> snapshotFloors(Path snapshots) throws IOException {
    try (Stream<Path> files = Files.list(snapshots)) {
      return files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".pb")).toList();
    }
  }

  @Test
  void fsyncNever_stillRecoversAfterAProcessRestart() throws Exception {
    Durability.Options options = Durability.Options.defaults(dir).withFsync(FsyncMode.NEVER);
    startServer(options);
    mixedWorkload("alpha", 20);
    Map<String, String> before = observe();
    stopServer();
    startServer(options);
    assertThat(observe()).isEqualTo(before);
  }

  // ---- workload ------------------------------------------------------------------------------

  private final AtomicLong sequence = new AtomicLong();

  /** Enqueues, starts, acks, fails (to retry and to dead letter), redrives, pauses, runs. */
  private void mixedWorkload(String pipeline, int batches) {
    createPipeline(pipeline, 1);
    stub.startRun(StartRunRequest.newBuilder().setPipeline(pipeline).build());
    for (int i = 0; i < batches; i++) {
      enqueue(pipeline, pipeline + "-" + i, sequence.incrementAndGet());
    }
    int n = 0;
    for (StartedBatch s : start(pipeline, null)) {
      String key = s.getBatch().getKey();
      switch (n++ % 4) {
        case 0 -> ack(pipeline, key, s.getAttempt());
        case 1 -> fail(pipeline, key, s.getAttempt(), false);
        case 2 -> fail(pipeline, key, s.getAttempt(), true);
        default -> { } // stays in flight
      }
    }
    stub.completeRun(CompleteRunRequest.newBuilder().setPipeline(pipeline).build());
    stub.applyAction(ApplyActionRequest.newBuilder().setPipeline(pipeline)
        .setAction(OperatorAction.newBuilder().setRedriveDeadLetter(
            OperatorAction.RedriveDeadLetter.newBuilder().setKey(pipeline + "-2")))
        .build());
    stub.applyAction(ApplyActionRequest.newBuilder().setPipeline(pipeline)
        .setAction(OperatorAction.newBuilder().setDisableConnector(
            OperatorAction.DisableConnector.newBuilder().setName("src-s0")))
        .build());
    stub.startRun(StartRunRequest.newBuilder().setPipeline(pipeline).build());
  }

  private void createPipeline(String name, int stages) {
    PipelineSpec.Builder spec = PipelineSpec.newBuilder().setName(name)
        .setBoundary(Boundary.newBuilder().setMaxInFlight(1000).setLeaseMs(3_600_000))
        .setRetry(RetryPolicy.newBuilder().setMaxAttempts(3).setInitialBackoffMs(0));
    for (int s = 0; s < stages; s++) {
      spec.addStages("s" + s).addConnectors(Connector.newBuilder().setName("src-s" + s)
          .setKind(ConnectorKind.CONNECTOR_KIND_SOURCE).setStage("s" + s));
    }
    stub.createPipeline(CreatePipelineRequest.newBuilder().setSpec(spec).build());
  }

  private void enqueue(String pipeline, String key, long seq) {
    enqueue(pipeline, key, seq, "s0");
  }

  private void enqueue(String pipeline, String key, long seq, String stage) {
    stub.enqueueBatch(EnqueueBatchRequest.newBuilder().setPipeline(pipeline)
        .setBatch(Batch.newBuilder().setKey(key).setStage(stage).setRecords(10)
            .setIdempotencyKey("idem-" + key).setSequence(seq))
        .build());
  }

  private List<StartedBatch> start(String pipeline, String stage) {
    StartAvailableRequest.Builder req = StartAvailableRequest.newBuilder().setPipeline(pipeline);
    if (stage != null) {
      req.addStages(stage);
    }
    List<StartedBatch> out = new ArrayList<>();
    Iterator<dev.lightspeed.orchestrator.v1.StartAvailableResponse> it = stub.startAvailable(req.build());
    it.forEachRemaining(r -> out.add(r.getStarted()));
    return out;
  }

  private void ack(String pipeline, String key, int attempt) {
    stub.ackBatch(AckBatchRequest.newBuilder().setPipeline(pipeline).setKey(key)
        .setAttempt(attempt).build());
  }

  private void fail(String pipeline, String key, int attempt, boolean nonRetryable) {
    stub.failBatch(FailBatchRequest.newBuilder().setPipeline(pipeline).setKey(key)
        .setAttempt(attempt).setReason("boom").setNonRetryable(nonRetryable).build());
  }

  /** Everything a client can see of every pipeline, as text. */
  private Map<String, String> observe() {
    Map<String, String> seen = new LinkedHashMap<>();
    for (PipelineSpec p : stub.listPipelines(ListPipelinesRequest.newBuilder().setPageSize(1000).build())
        .getPipelinesList()) {
      String name = p.getName();
      seen.put(name + "/spec", stub.getPipeline(GetPipelineRequest.newBuilder().setName(name).build()).toString());
      seen.put(name + "/status", stub.getStatus(GetStatusRequest.newBuilder().setPipeline(name).build()).toString());
      seen.put(name + "/batches", stub.listBatches(ListBatchesRequest.newBuilder().setPipeline(name).setPageSize(1000).build()).toString());
      seen.put(name + "/retries", stub.listRetries(ListRetriesRequest.newBuilder().setPipeline(name).setPageSize(1000).build()).toString());
      seen.put(name + "/dead", stub.listDeadLetters(ListDeadLettersRequest.newBuilder().setPipeline(name).setPageSize(1000).build()).toString());
      seen.put(name + "/runs", stub.listRuns(ListRunsRequest.newBuilder().setPipeline(name).setPageSize(1000).build()).toString());
      seen.put(name + "/audit", stub.listAuditLog(ListAuditLogRequest.newBuilder().setPipeline(name).setPageSize(1000).build()).toString());
    }
    assertThat(seen).isNotEmpty();
    return seen;
  }

  private long segmentCount() throws IOException {
    try (Stream<Path> s = Files.list(dir.resolve("journal"))) {
      return s.filter(p -> p.toString().endsWith(".log")).count();
    }
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
