package dev.lightspeed.orchestrator.bench;

import static dev.lightspeed.orchestrator.bench.LoadGenerator.say;

import dev.lightspeed.orchestrator.core.Batch;
import dev.lightspeed.orchestrator.core.PipelineRuntime;
import dev.lightspeed.orchestrator.journal.FileCommandLog;
import dev.lightspeed.orchestrator.journal.FsyncMode;
import dev.lightspeed.orchestrator.core.Command;
import dev.lightspeed.orchestrator.journal.JournalCodec;
import dev.lightspeed.orchestrator.v1.Boundary;
import dev.lightspeed.orchestrator.v1.Connector;
import dev.lightspeed.orchestrator.v1.ConnectorKind;
import dev.lightspeed.orchestrator.v1.GetStatusRequest;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.PipelineSpec;
import dev.lightspeed.orchestrator.v1.RetryPolicy;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Recovery time of the real server. The journal is written directly — through the real {@link
 * FileCommandLog} and the real journal encoding ({@link JournalCodec}), exactly the records the server
 * writes for unary EnqueueBatch, StartAvailable and AckBatch calls — while the same calls are
 * applied to an in-process core, whose signature the recovered server must then report. Then the
 * real server jar is started on that data directory and timed until "listening"; stopped with
 * SIGTERM (which writes a snapshot); and started and timed again, now from the snapshot.
 */
final class Recovery {
  private static final String PIPELINE = "recovery";
  private static final int STAGES = 64;
  /** The recorded clock starts here and moves 1 ms per life cycle. */
  private static final long T0 = 1_700_000_000_000L;

  private final Path serverJar;
  private final List<String> jvmFlags;
  private final Path out;
  private final long records;

  Recovery(Path serverJar, List<String> jvmFlags, Path out, long records) {
    this.serverJar = serverJar;
    this.jvmFlags = jvmFlags;
    this.out = out;
    this.records = records;
  }

  List<CaseResult> run() throws Exception {
    say("");
    say("== recovery ==");
    List<CaseResult> rows = new ArrayList<>();
    Path empty = out.resolve("data-recovery-empty");
    LoadGenerator.deleteTree(empty);
    try (ServerProcess s = start(empty, "empty")) {
      rows.add(row("empty data dir (JVM start-up baseline)", s, "nothing to recover"));
    }

    Path dir = out.resolve("data-recovery");
    LoadGenerator.deleteTree(dir);
    long t0 = System.nanoTime();
    Generated g = generate(dir);
    say("wrote %,d journal records (%,d life cycles, %,d bytes) in %.1f s", records, g.lifecycles,
        journalBytes(dir), (System.nanoTime() - t0) / 1e9);

    try (ServerProcess s = start(dir, "journal")) {
      String note = check(s, g);
      rows.add(row(String.format("%,d journal records", records), s, note));
    }
    // The clean stop above wrote a snapshot; the next start loads it and replays nothing.
    try (ServerProcess s = start(dir, "snapshot")) {
      String note = check(s, g);
      rows.add(row("snapshot of the same state", s, note));
    }
    return rows;
  }

  private ServerProcess start(Path dir, String label) throws IOException, InterruptedException {
    List<String> flags = jvmFlags.stream()
        .map(f -> f.replace("server-recovery.jfr", "server-recovery-" + label + ".jfr"))
        .toList();
    ServerProcess s = ServerProcess.start(serverJar, flags,
        out.resolve("server-recovery-" + label + ".log"), List.of("--data-dir", dir.toString()));
    long[] rec = s.recovered();
    say("recovery (%s): listening %,d ms after spawn; server log: %s", label, s.startMillis,
        rec == null ? "no recovery line" : String.format("%d pipelines, %s snapshot + %,d journal"
            + " records in %,d ms", rec[0], rec[1] == 1 ? "a" : "no", rec[2], rec[3]));
    return s;
  }

  private CaseResult row(String id, ServerProcess s, String note) throws IOException {
    long[] rec = s.recovered();
    CaseResult r = new CaseResult();
    r.id = id;
    r.server = "durable";
    r.kind = "recovery";
    r.journalRecords = rec == null ? 0 : rec[2];
    r.fromSnapshot = rec != null && rec[1] == 1;
    r.recoveryLoggedMs = rec == null ? -1 : rec[3];
    r.listeningMs = s.startMillis;
    r.note = note;
    return r;
  }

  /** The recovered pipeline must have the signature the in-process core computed. */
  private String check(ServerProcess s, Generated g) throws InterruptedException {
    ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", s.port).usePlaintext().build();
    try {
      var status = OrchestratorServiceGrpc.newBlockingStub(ch)
          .getStatus(GetStatusRequest.newBuilder().setPipeline(PIPELINE).build());
      if (!status.getSignature().equals(g.signature)) {
        throw new IllegalStateException("recovered signature " + status.getSignature()
            + " differs from the expected " + g.signature);
      }
      return "signature matches the in-process core (" + g.signature.substring(0, 12) + "…); "
          + String.format("%,d acked batches in the dedup window", g.remembered);
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private record Generated(long lifecycles, String signature, long remembered) {}

  private Generated generate(Path dir) throws IOException {
    PipelineSpec spec = effectiveSpec();
    PipelineRuntime core = PipelineRuntime.create(coreSpec(spec));
    FileCommandLog journal = FileCommandLog.open(dir.resolve("journal"), FsyncMode.NEVER,
        FileCommandLog.DEFAULT_SEGMENT_BYTES, false, 0, (index, bytes) -> {});
    long lifecycles = (records - 1) / 3;
    long extraEnqueues = (records - 1) % 3;
    long[] sequence = new long[STAGES];
    try {
      journal.append(JournalCodec.encode(PIPELINE, T0, new Command.CreatePipeline(coreSpec(spec))));
      for (long i = 0; i < lifecycles + extraEnqueues; i++) {
        long now = T0 + i;
        int stageIndex = (int) (i % STAGES);
        String stage = Pipelines.stage(stageIndex);
        String key = "b" + i;
        long seq = ++sequence[stageIndex];
        Batch batch = new Batch(key, stage, 10, 0, key, seq);
        core.enqueueBatch(batch, now);
        append(journal, core, Command.Enqueue.of(batch));
        if (i >= lifecycles) {
          continue; // the last few records: enqueued only
        }
        if (core.startAvailable(now, 1, Set.of(stage)).started().size() != 1) {
          throw new IllegalStateException("start_available started nothing at " + i);
        }
        append(journal, core, new Command.StartAvailable(1, Set.of(stage)));
        core.ackBatch(key, 1, now);
        append(journal, core, Command.Ack.of(key, 1));
      }
    } finally {
      journal.close();
    }
    if (journal.lastIndex() != records) {
      throw new IllegalStateException("wrote " + journal.lastIndex() + " records, not " + records);
    }
    long remembered = Math.min(lifecycles, coreSpec(spec).dedupWindowMs());
    return new Generated(lifecycles, core.queries().signature(), remembered);
  }

  /** As the server journals a call: with its pipeline and the time it effectively ran at. */
  private static void append(FileCommandLog journal, PipelineRuntime core, Command<?> command) {
    journal.append(JournalCodec.encode(PIPELINE, core.queries().lastNowMs(), command));
  }

  /** The spec as the server journals it: every field present (the effective spec). */
  private static PipelineSpec effectiveSpec() {
    PipelineSpec base = Pipelines.spec(PIPELINE, STAGES);
    PipelineSpec.Builder spec = base.toBuilder().clearConnectors();
    for (Connector c : base.getConnectorsList()) {
      spec.addConnectors(c.toBuilder().setDisabled(false).setMaxBatchRecords(0)
          .setDeadLetterDestination("").setOrdered(false));
    }
    spec.setBoundary(Boundary.newBuilder()
        .setMaxInFlight(Pipelines.MAX_IN_FLIGHT)
        .setMaxQueued(Pipelines.MAX_QUEUED)
        .setMaxLagMs(0)
        .setMaxInFlightRecords(0)
        .setLeaseMs(Pipelines.LEASE_MS));
    var r = dev.lightspeed.orchestrator.core.RetryPolicy.DEFAULT;
    spec.setRetry(RetryPolicy.newBuilder()
        .setMaxAttempts(r.maxAttempts())
        .setInitialBackoffMs(r.initialBackoffMs())
        .setMaxBackoffMs(r.maxBackoffMs())
        .setMultiplier(r.multiplier()));
    spec.setDedupWindowMs(dev.lightspeed.orchestrator.core.PipelineSpec.DEFAULT_DEDUP_WINDOW_MS);
    spec.setAllowUnboundStages(false);
    return spec.build();
  }

  private static dev.lightspeed.orchestrator.core.PipelineSpec coreSpec(PipelineSpec p) {
    List<dev.lightspeed.orchestrator.core.Connector> connectors = new ArrayList<>();
    for (Connector c : p.getConnectorsList()) {
      if (c.getKind() != ConnectorKind.CONNECTOR_KIND_SOURCE) {
        throw new IllegalArgumentException("only SOURCE connectors here");
      }
      connectors.add(dev.lightspeed.orchestrator.core.Connector.of(
          c.getName(), dev.lightspeed.orchestrator.core.ConnectorKind.SOURCE, c.getStage()));
    }
    var b = p.getBoundary();
    var r = p.getRetry();
    return dev.lightspeed.orchestrator.core.PipelineSpec.builder(p.getName())
        .stages(p.getStagesList())
        .connectors(connectors)
        .boundary(new dev.lightspeed.orchestrator.core.Boundary(b.getMaxInFlight(),
            b.getMaxQueued(), b.getMaxLagMs(), b.getMaxInFlightRecords(), b.getLeaseMs()))
        .retry(new dev.lightspeed.orchestrator.core.RetryPolicy(r.getMaxAttempts(),
            r.getInitialBackoffMs(), r.getMaxBackoffMs(), r.getMultiplier()))
        .dedupWindowMs(p.getDedupWindowMs())
        .allowUnboundStages(p.getAllowUnboundStages())
        .build();
  }

  private static long journalBytes(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir.resolve("journal"))) {
      long sum = 0;
      for (Path f : files.toList()) {
        sum += Files.size(f);
      }
      return sum;
    }
  }
}
