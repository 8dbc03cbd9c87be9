package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.durability.Durability;
import dev.lightspeed.orchestrator.v1.Event;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceBlockingStub;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import dev.lightspeed.orchestrator.v1.WatchEventsRequest;
import dev.lightspeed.orchestrator.v1.WatchEventsResponse;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The event log across a clean restart and a kill -9 (a copy of the data directory): ids and
 * payloads survive, from the snapshot (events before it) and from the journal (events after it),
 * and a consumer resumes from its last id with no gap, no duplicate, and new ids continuing.
 */
class WatchEventsRestartTest {
  @TempDir Path dir;

  private OrchestratorServer server;
  private ManagedChannel channel;
  private OrchestratorServiceBlockingStub stub;

  @AfterEach
  void stop() throws InterruptedException {
    stopServer();
  }

  private void startServer(Path data) throws IOException {
    String name = InProcessServerBuilder.generateName();
    server = new OrchestratorServer(
        InProcessServerBuilder.forName(name).directExecutor(), Clock.systemUTC(), 1024,
        Durability.open(Durability.Options.defaults(data).withSegmentBytes(4096))).start();
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

  private void lifecycles(PipelineClient p, String prefix, int n) {
    for (int i = 0; i < n; i++) {
      p.enqueue(batch(prefix + i, "extract", 0));
      StartedBatch s = p.startOne(prefix + i);
      if (i % 3 == 0) {
        p.fail(prefix + i, s.getAttempt(), "boom", true);
      } else {
        p.ack(prefix + i, s.getAttempt());
      }
    }
  }

  private List<Event> eventsAfter(long after, int n) {
    Iterator<WatchEventsResponse> it = stub.withDeadlineAfter(30, TimeUnit.SECONDS).watchEvents(
        WatchEventsRequest.newBuilder().setPipeline("orders").setAfterEventId(after).build());
    List<Event> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(it.next().getEvent());
    }
    return out;
  }

  private List<Event> workload() throws IOException {
    PipelineClient p = PipelineClient.create(stub, pipeline("orders", "extract").build());
    lifecycles(p, "a", 10); // 30 events, then a snapshot holds them
    server.snapshot();
    lifecycles(p, "b", 10); // 30 more, only in the journal
    p.apply(Fixtures.pause());
    return eventsAfter(0, 61);
  }

  @Test
  void cleanRestart_keepsIdsAndPayloads_andNewIdsContinue() throws Exception {
    startServer(dir);
    List<Event> before = workload();
    stopServer();
    startServer(dir);
    assertThat(eventsAfter(0, 61)).isEqualTo(before);
    assertThat(eventsAfter(45, 16)).isEqualTo(before.subList(45, 61));
    new PipelineClient(stub, "orders").apply(Fixtures.resume());
    assertThat(eventsAfter(61, 1).get(0).getEventId()).isEqualTo(62);
  }

  @Test
  void killMinus9_keepsIdsAndPayloads_fromSnapshotAndJournal() throws Exception {
    Path live = dir.resolve("live");
    startServer(live);
    List<Event> before = workload();
    Path crash = dir.resolve("crash");
    copyTree(live, crash); // every reply came after its fsync: what a kill -9 leaves
    stopServer();
    startServer(crash);
    assertThat(eventsAfter(0, 61)).isEqualTo(before);
    assertThat(eventsAfter(29, 3)).isEqualTo(before.subList(29, 32));
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
