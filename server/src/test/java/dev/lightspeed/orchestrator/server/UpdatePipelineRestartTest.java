package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.FieldMask;
import dev.lightspeed.orchestrator.durability.Durability;
import dev.lightspeed.orchestrator.v1.Boundary;
import dev.lightspeed.orchestrator.v1.GetPipelineRequest;
import dev.lightspeed.orchestrator.v1.ListAuditLogRequest;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceBlockingStub;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.RetryPolicy;
import dev.lightspeed.orchestrator.v1.UpdatePipelineRequest;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An accepted UpdatePipeline survives a clean restart and a crash (journal replay). */
class UpdatePipelineRestartTest {
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
        Durability.open(Durability.Options.defaults(data))).start();
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

  /** Creates, enqueues, updates (boundary, retry, a new stage) and enqueues into the new stage. */
  private String workload() {
    PipelineClient p = PipelineClient.create(stub, pipeline("orders", "extract").build());
    p.enqueue(batch("a", "extract", 0));
    stub.updatePipeline(UpdatePipelineRequest.newBuilder()
        .setPipeline(pipeline("orders", "extract", "publish")
            .setBoundary(Boundary.newBuilder().setMaxQueued(7).setLeaseMs(0))
            .setRetry(RetryPolicy.newBuilder().setMaxAttempts(2)))
        .setUpdateMask(FieldMask.newBuilder()
            .addAllPaths(List.of("boundary", "retry.max_attempts", "stages", "connectors")))
        .build());
    p.enqueue(batch("b", "publish", 0));
    p.startAll();
    return observe();
  }

  private String observe() {
    return stub.getPipeline(GetPipelineRequest.newBuilder().setName("orders").build()) + "|"
        + new PipelineClient(stub, "orders").status().getSignature() + "|"
        + stub.listAuditLog(ListAuditLogRequest.newBuilder().setPipeline("orders").build());
  }

  @Test
  void cleanRestart_keepsTheUpdatedSpecAndSignature() throws Exception {
    startServer(dir);
    String before = workload();
    stopServer();
    startServer(dir);
    assertThat(observe()).isEqualTo(before);
    assertThat(new PipelineClient(stub, "orders").status().getValid()).isTrue();
  }

  @Test
  void crashImage_replaysTheUpdateFromTheJournal() throws Exception {
    Path live = dir.resolve("live");
    startServer(live);
    String before = workload();
    Path crash = dir.resolve("crash");
    copyTree(live, crash); // every reply above came after its fsync: what kill -9 leaves
    stopServer();
    startServer(crash);
    assertThat(observe()).isEqualTo(before);
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
