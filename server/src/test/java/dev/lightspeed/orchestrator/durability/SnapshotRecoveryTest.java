package dev.lightspeed.orchestrator.durability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lightspeed.orchestrator.journal.JournalCorruptException;
import dev.lightspeed.orchestrator.journal.v1.SnapshotFile;
import dev.lightspeed.orchestrator.server.OrchestratorServer;
import dev.lightspeed.orchestrator.v1.AckBatchRequest;
import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.Boundary;
import dev.lightspeed.orchestrator.v1.Connector;
import dev.lightspeed.orchestrator.v1.ConnectorKind;
import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchRequest;
import dev.lightspeed.orchestrator.v1.GetStatusRequest;
import dev.lightspeed.orchestrator.v1.ListBatchesRequest;
import dev.lightspeed.orchestrator.v1.ListPipelinesRequest;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceBlockingStub;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.PipelineSpec;
import dev.lightspeed.orchestrator.v1.StartAvailableRequest;
import dev.lightspeed.orchestrator.v1.StartRunRequest;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Damaged snapshots at start-up: the server falls back to the previous snapshot (and the journal
 * after it), or refuses naming the file and saying what to do; never starts with less or other
 * state than was acknowledged. And a data directory of the formats before (journal format 1,
 * snapshots without a header) still opens.
 */
class SnapshotRecoveryTest {
  @TempDir Path dir;

  private OrchestratorServer server;
  private ManagedChannel channel;
  private OrchestratorServiceBlockingStub stub;
  private long sequence;

  @AfterEach
  void stop() throws InterruptedException {
    stopServer();
  }

  private Durability.Options options() {
    return Durability.Options.defaults(dir).withSegmentBytes(4096).withPreallocate(false);
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
      server.stop(5, TimeUnit.SECONDS); // takes the shutdown snapshot
      server = null;
    }
  }

  /** A pipeline with {@code batches} batches enqueued and started, half of them acknowledged. */
  private void workload(String pipeline, int batches) {
    stub.createPipeline(CreatePipelineRequest.newBuilder().setSpec(PipelineSpec.newBuilder()
        .setName(pipeline).addStages("s0")
        .setBoundary(Boundary.newBuilder().setMaxInFlight(1000).setLeaseMs(3_600_000))
        .addConnectors(Connector.newBuilder().setName("src").setStage("s0")
            .setKind(ConnectorKind.CONNECTOR_KIND_SOURCE))).build());
    stub.startRun(StartRunRequest.newBuilder().setPipeline(pipeline).build());
    for (int i = 0; i < batches; i++) {
      stub.enqueueBatch(EnqueueBatchRequest.newBuilder().setPipeline(pipeline)
          .setBatch(Batch.newBuilder().setKey(pipeline + "-key-" + i).setStage("s0")
              .setRecords(10).setIdempotencyKey(pipeline + "-" + i).setSequence(++sequence))
          .build());
    }
    // every other batch acknowledged, the rest left in flight (listed by ListBatches)
    stub.startAvailable(StartAvailableRequest.newBuilder().setPipeline(pipeline).build())
        .forEachRemaining(r -> {
          String key = r.getStarted().getBatch().getKey();
          if (key.endsWith("0") || key.endsWith("2") || key.endsWith("4") || key.endsWith("6")
              || key.endsWith("8")) {
            stub.ackBatch(AckBatchRequest.newBuilder().setPipeline(pipeline).setKey(key)
                .setAttempt(r.getStarted().getAttempt()).build());
          }
        });
  }

  /** Every pipeline's signature and batch keys. */
  private Map<String, String> state() {
    Map<String, String> seen = new TreeMap<>();
    for (PipelineSpec p : stub.listPipelines(
        ListPipelinesRequest.newBuilder().setPageSize(1000).build()).getPipelinesList()) {
      String name = p.getName();
      seen.put(name + "/signature", stub.getStatus(
          GetStatusRequest.newBuilder().setPipeline(name).build()).getSignature());
      seen.put(name + "/batches", stub.listBatches(ListBatchesRequest.newBuilder()
          .setPipeline(name).setPageSize(1000).build()).getBatchesList().stream()
          .map(b -> b.getBatch().getKey() + ":" + b.getState()).toList().toString());
    }
    return seen;
  }

  private List<Path> files(String sub, String suffix) throws IOException {
    try (Stream<Path> s = Files.list(dir.resolve(sub))) {
      return s.filter(p -> p.getFileName().toString().endsWith(suffix)).sorted().toList();
    }
  }

  private Path newestSnapshot() throws IOException {
    List<Path> all = files("snapshots", ".pb");
    return all.get(all.size() - 1);
  }

  /**
   * Three pipelines of 50 acknowledged batches, a snapshot after each of the first two, and the
   * shutdown snapshot; returns the state before the shutdown.
   */
  private Map<String, String> threeSnapshots() throws Exception {
    startServer(options());
    workload("alpha", 50);
    server.snapshot();
    workload("beta", 50);
    server.snapshot();
    workload("gamma", 50);
    Map<String, String> before = state();
    stopServer();
    return before;
  }

  /** Where the snapshot's body (a SnapshotFile protobuf) starts: after the header, if any. */
  private static int bodyStart(byte[] file) {
    return ByteBuffer.wrap(file).getInt(0) == 0x4C53534E ? 32 : 0;
  }

  @Test
  void aSnapshotTruncatedAtAnEntryBoundary_isNotLoaded_theServerFallsBackToThePreviousOne()
      throws Exception {
    Map<String, String> before = threeSnapshots();
    Path newest = newestSnapshot();
    byte[] bytes = Files.readAllBytes(newest);
    int body = bodyStart(bytes);
    SnapshotFile parsed;
    try (InputStream in = new java.io.ByteArrayInputStream(bytes, body, bytes.length - body)) {
      parsed = SnapshotFile.parseFrom(in);
    }
    assertThat(parsed.getPipelinesCount()).isEqualTo(3);
    // The same file without its last pipeline: a valid protobuf, a prefix of the original.
    byte[] shorter = parsed.toBuilder().removePipelines(2).build().toByteArray();
    assertThat(Arrays.equals(bytes, body, body + shorter.length, shorter, 0, shorter.length))
        .isTrue();
    try (RandomAccessFile f = new RandomAccessFile(newest.toFile(), "rw")) {
      f.setLength(body + shorter.length);
    }

    startServer(options());
    assertThat(state()).isEqualTo(before);
    assertThat(Files.exists(Path.of(newest + ".corrupt"))).as("moved aside").isTrue();
  }

  /** Header: magic 0, format 4, index 8, body length 16, body crc 24, header crc 28. */
  @ParameterizedTest(name = "byte {0}")
  @ValueSource(ints = {0, 7, 15, 23, 27, 31, 32})
  void aSnapshotWithADamagedHeaderOrBody_isNotLoaded_theServerFallsBackToThePreviousOne(int at)
      throws Exception {
    Map<String, String> before = threeSnapshots();
    Path newest = newestSnapshot();
    byte[] bytes = Files.readAllBytes(newest);
    bytes[at] ^= 0x01;
    Files.write(newest, bytes);

    startServer(options());
    assertThat(state()).isEqualTo(before);
    assertThat(Files.exists(Path.of(newest + ".corrupt"))).as("moved aside").isTrue();
  }

  @Test
  void aSnapshotWithOneChangedByte_isNotLoaded_noKeyAppearsThatNoClientSent() throws Exception {
    Map<String, String> before = threeSnapshots();
    Path newest = newestSnapshot();
    byte[] bytes = Files.readAllBytes(newest);
    byte[] key = "alpha-key-17".getBytes(StandardCharsets.UTF_8);
    int at = indexOf(bytes, key);
    assertThat(at).isPositive();
    bytes[at + key.length - 1] = 'X'; // alpha-key-1X
    Files.write(newest, bytes);

    startServer(options());
    assertThat(state()).isEqualTo(before);
    assertThat(state().get("alpha/batches")).contains("alpha-key-17").doesNotContain("alpha-key-1X");
  }

  @Test
  void theNewestAndThePreviousSnapshotCorrupt_refusesToStart_namingTheFileAndWhatToDo()
      throws Exception {
    threeSnapshots();
    assertThat(files("journal", ".log").get(0).getFileName().toString())
        .as("the journal before the previous snapshot was compacted")
        .isNotEqualTo("journal-00000000000000000001.log");
    Path newest = newestSnapshot();
    for (Path snapshot : files("snapshots", ".pb")) {
      byte[] bytes = Files.readAllBytes(snapshot);
      bytes[bytes.length - 1] ^= 0x01;
      Files.write(snapshot, bytes);
    }
    assertThatThrownBy(() -> Durability.open(options()))
        .isInstanceOf(IOException.class)
        .hasMessageContaining(newest.toString())
        .hasMessageContaining("no older snapshot can replace it")
        .hasMessageContaining("Restore the data directory from a backup");
  }

  @Test
  void missingSnapshotsAfterCompaction_refuseToStart_sayingWhatIsMissing() throws Exception {
    threeSnapshots();
    long journalStart = Long.parseLong(
        files("journal", ".log").get(0).getFileName().toString().substring(8, 28));
    assertThat(journalStart).isGreaterThan(1);
    for (Path snapshot : files("snapshots", ".pb")) {
      Files.delete(snapshot);
    }
    assertThatThrownBy(() -> Durability.open(options()))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("starts at record " + journalStart)
        .hasMessageContaining("there is no snapshot in " + dir.resolve("snapshots"));
  }

  @Test
  void aMissingFirstJournalSegment_refusesToStart_namingTheMissingRecords() throws Exception {
    threeSnapshots();
    // The shutdown snapshot lost, and the segment after the previous one: neither snapshot can
    // be continued by the journal.
    List<Path> snapshots = files("snapshots", ".pb");
    Files.delete(snapshots.get(1));
    List<Path> segments = files("journal", ".log");
    assertThat(segments).hasSizeGreaterThan(1);
    Files.delete(segments.get(0));
    assertThatThrownBy(() -> Durability.open(options()))
        .isInstanceOf(IOException.class)
        .hasMessageContaining(snapshots.get(0).toString())
        .hasMessageContaining("are missing");
  }

  // ---- a data directory of the formats before ------------------------------------------------

  private void copyFixture() throws IOException {
    Path fixture = Path.of("src/test/resources/fixtures/format1-data-dir");
    try (Stream<Path> all = Files.walk(fixture)) {
      for (Path p : all.toList()) {
        Path target = dir.resolve(fixture.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }

  /**
   * The fixture's signatures as this version computes them. The code that wrote the fixture
   * returned 96c3d72c… (alpha) and e58fc31b… (beta) (fixtures/format1-data-dir.txt); since API
   * version 2 the signature also covers the next event id (SPEC 3.10), which the replay of the
   * fixture's journal advances, so the same state has these signatures now.
   */
  private static final Map<String, String> FIXTURE_SIGNATURES = Map.of(
      "alpha", "e72c9359dd26bcf2581d927d2e7ebaf0863d1ef46c06ef649c28402057056daa",
      "beta", "5e45b39e6fb42cc374e3e813ad04d1c9efc9f3fcbc6440af880c876d9dc5ee5e");

  private Map<String, String> signatures() {
    Map<String, String> out = new TreeMap<>();
    state().forEach((k, v) -> {
      if (k.endsWith("/signature")) {
        out.put(k.substring(0, k.indexOf('/')), v);
      }
    });
    return out;
  }

  @Test
  void aDataDirectoryOfTheFormatsBefore_opens_andIsWrittenInTheNewFormatsFromThen()
      throws Exception {
    copyFixture();
    startServer(options());
    assertThat(signatures()).isEqualTo(FIXTURE_SIGNATURES);
    workload("gamma", 20);
    Map<String, String> before = state();
    stopServer(); // the shutdown snapshot, in format 2
    byte[] snapshot = Files.readAllBytes(newestSnapshot());
    assertThat(bodyStart(snapshot)).as("a snapshot with a header").isEqualTo(32);
    List<Path> segments = files("journal", ".log");
    try (RandomAccessFile f = new RandomAccessFile(segments.get(segments.size() - 1).toFile(),
        "r")) {
      f.seek(4);
      assertThat(f.readInt()).as("the newest segment's format").isEqualTo(2);
    }
    startServer(options());
    assertThat(state()).isEqualTo(before);
  }

  @Test
  void aDataDirectoryOfTheFormatsBeforeWithACorruptRecord_refusesToStart() throws Exception {
    copyFixture();
    Path segment = dir.resolve("journal/journal-00000000000000000071.log");
    // The first record's length (offset 16), one bit: 46 -> 47 bytes.
    try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "rw")) {
      f.seek(16 + 3);
      int b = f.read();
      f.seek(16 + 3);
      f.write(b ^ 0x01);
    }
    assertThatThrownBy(() -> Durability.open(options()))
        .isInstanceOf(JournalCorruptException.class)
        .hasMessageContaining(segment.toString())
        .hasMessageContaining("offset 16");
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
