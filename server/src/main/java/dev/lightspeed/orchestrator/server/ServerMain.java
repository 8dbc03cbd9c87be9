package dev.lightspeed.orchestrator.server;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.v1.ServerConfig;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code lightspeed-orchestrator} command: starts the server on a Netty port. */
@Command(
    name = "lightspeed-orchestrator",
    mixinStandardHelpOptions = true,
    version = "lightspeed-orchestrator 0.1.0",
    description = {
      "Serves the Lightspeed Orchestrator gRPC API (lightspeed.orchestrator.v1.OrchestratorService),",
      "with the standard health service and server reflection, so grpcurl works without .proto files.",
      "",
      "Stop it with Ctrl-C or SIGTERM: it stops accepting calls, lets running calls finish",
      "(up to --shutdown-grace), then exits."
    },
    footer = {
      "",
      "Example:",
      "  java -jar lightspeed-orchestrator-server-all.jar --config examples/pipelines.json",
      "  grpcurl -plaintext 127.0.0.1:50051 list"
    })
public final class ServerMain implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(ServerMain.class);

  @Option(
      names = "--port",
      defaultValue = "50051",
      description = "TCP port to listen on; 0 picks a free one (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(
      names = "--bind",
      defaultValue = "127.0.0.1",
      description = "Address to bind; 0.0.0.0 for every interface (default: ${DEFAULT-VALUE}).")
  String bind;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description =
          "JSON ServerConfig ({\"pipelines\": [PipelineSpec, ...]}) whose pipelines are created at"
              + " start-up; see examples/pipelines.json. An invalid pipeline stops start-up.")
  Path config;

  @Option(
      names = "--watch-buffer",
      defaultValue = "4096",
      description =
          "Started batches buffered per WatchStarted stream before a slow watcher is cut off with"
              + " RESOURCE_EXHAUSTED (default: ${DEFAULT-VALUE}).")
  int watchBuffer;

  @Option(
      names = "--shutdown-grace",
      defaultValue = "10",
      paramLabel = "SECONDS",
      description = "How long running calls may take to finish at shutdown (default: ${DEFAULT-VALUE}).")
  long shutdownGraceSeconds;

  public static void main(String[] args) {
    System.exit(new CommandLine(new ServerMain()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    if (watchBuffer < 1) {
      throw new CommandLine.ParameterException(
          new CommandLine(this), "--watch-buffer must be ≥ 1 (got " + watchBuffer + ")");
    }
    OrchestratorServer server =
        new OrchestratorServer(
            NettyServerBuilder.forAddress(new InetSocketAddress(bind, port)),
            Clock.systemUTC(),
            watchBuffer);
    if (config != null) {
      ServerConfig parsed;
      try {
        parsed = readConfig(config);
        server.createPipelines(parsed.getPipelinesList());
      } catch (IOException e) {
        System.err.println("cannot read config " + config + ": " + e.getMessage());
        return 2;
      } catch (Rejection r) {
        System.err.println("config " + config + ": " + OrchestratorServer.describe(r));
        return 2;
      }
      log.info("created {} pipelines from {}", parsed.getPipelinesCount(), config);
    }
    server.start();
    log.info("lightspeed-orchestrator listening on {}:{}", bind, server.port());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  log.info("shutting down");
                  try {
                    server.stop(shutdownGraceSeconds, TimeUnit.SECONDS);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                  stopped.countDown();
                },
                "shutdown"));
    server.awaitTermination();
    stopped.await();
    return 0;
  }

  static ServerConfig readConfig(Path file) throws IOException {
    ServerConfig.Builder builder = ServerConfig.newBuilder();
    try {
      JsonFormat.parser().merge(Files.readString(file), builder);
    } catch (InvalidProtocolBufferException e) {
      throw new IOException("not a valid ServerConfig JSON: " + e.getMessage(), e);
    }
    return builder.build();
  }
}
