package dev.lightspeed.orchestrator.server;

import dev.lightspeed.orchestrator.durability.Durability;
import dev.lightspeed.orchestrator.journal.FaultyFiles;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceBlockingStub;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.TimeUnit;

/**
 * A durable server on loopback whose journal and snapshots are written through {@link
 * FaultyFiles}: tests inject faults, simulate a power loss ({@link #crash}) and start it again on
 * what the disk kept.
 */
public final class FaultyDisk implements AutoCloseable {
  private final Durability.Options options;
  FaultyFiles files;
  OrchestratorServer server;
  ManagedChannel channel;
  OrchestratorServiceBlockingStub stub;

  FaultyDisk(Durability.Options options) {
    this.options = options;
  }

  /** Small segments without preallocation: every write grows a file (so a full disk shows). */
  public static Durability.Options options(Path dir) {
    return Durability.Options.defaults(dir).withPreallocate(false).withSegmentBytes(256 << 10);
  }

  /** Starts the server on the directory as the disk left it, with a new fault layer. */
  FaultyDisk start() throws IOException {
    files = new FaultyFiles();
    server = new OrchestratorServer(
            NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).directExecutor(),
            Clock.systemUTC(), Durability.open(options, files), ServerSettings.defaults())
        .start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    stub = OrchestratorServiceGrpc.newBlockingStub(channel);
    return this;
  }

  /** A power loss: whatever was not fsynced is gone, and this server is dead. */
  void crash() throws IOException, InterruptedException {
    files.crash();
    stop();
  }

  /** Restarts after a crash (or a clean stop). */
  FaultyDisk restart() throws IOException, InterruptedException {
    stop();
    return start();
  }

  ServingStatus health() {
    return HealthGrpc.newBlockingStub(channel)
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(HealthCheckRequest.newBuilder().setService(OrchestratorServer.SERVICE_NAME).build())
        .getStatus();
  }

  void stop() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      channel = null;
    }
    if (server != null) {
      server.stop(0, TimeUnit.SECONDS);
      server = null;
    }
  }

  @Override
  public void close() throws InterruptedException {
    stop();
  }
}
