package dev.lightspeed.orchestrator.server;

import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Lightspeed Orchestrator server: the orchestrator service, the standard health service and
 * server reflection (v1 and v1alpha) on one gRPC server. It takes a {@link ServerBuilder} so that
 * tests can pass an in-process one and production a Netty one.
 */
public final class OrchestratorServer {
  private static final Logger log = LoggerFactory.getLogger(OrchestratorServer.class);
  /** The health service name of the orchestrator, besides the whole server's "". */
  public static final String SERVICE_NAME = OrchestratorServiceGrpc.SERVICE_NAME;

  private final Server server;
  private final HealthStatusManager health = new HealthStatusManager();
  private final PipelineRegistry registry = new PipelineRegistry();
  private final ExecutorService watchExecutor;

  public OrchestratorServer(ServerBuilder<?> builder, Clock clock, int watchBufferCapacity) {
    this.watchExecutor =
        Executors.newFixedThreadPool(
            2,
            r -> {
              Thread t = new Thread(r, "watch-started-drain");
              t.setDaemon(true);
              return t;
            });
    OrchestratorGrpcService service =
        new OrchestratorGrpcService(registry, clock, watchExecutor, watchBufferCapacity);
    this.server =
        builder
            .addService(service)
            .addService(health.getHealthService())
            .addService(ProtoReflectionServiceV1.newInstance())
            .addService(legacyReflection())
            .build();
  }

  /** grpcurl before 1.9 and some other tools still speak only v1alpha reflection. */
  @SuppressWarnings("deprecation")
  private static io.grpc.BindableService legacyReflection() {
    return ProtoReflectionService.newInstance();
  }

  /**
   * Creates the pipelines of a config file before serving; any refusal stops start-up. The
   * refusal names the pipeline (its name and its index in the file) besides the field.
   */
  public void createPipelines(List<dev.lightspeed.orchestrator.v1.PipelineSpec> specs) {
    for (int i = 0; i < specs.size(); i++) {
      var spec = specs.get(i);
      try {
        registry.create(ProtoMapper.toCore(spec));
      } catch (Rejection r) {
        String where = "pipeline '" + spec.getName() + "' (pipelines[" + i + "]): ";
        throw Rejection.of(r.reason(), where + r.getMessage());
      }
    }
  }

  public OrchestratorServer start() throws IOException {
    server.start();
    health.setStatus("", ServingStatus.SERVING);
    health.setStatus(SERVICE_NAME, ServingStatus.SERVING);
    return this;
  }

  /** The port the server listens on (useful with port 0); -1 for an in-process server. */
  public int port() {
    return server.getPort();
  }

  /**
   * Graceful stop: report NOT_SERVING, stop accepting calls, end watch streams (they would never
   * end by themselves), let running calls finish for up to {@code grace}, then cancel the rest.
   */
  public void stop(long grace, TimeUnit unit) throws InterruptedException {
    health.enterTerminalState();
    server.shutdown();
    var goingAway =
        Status.UNAVAILABLE.withDescription("server shutting down; watch again after it restarts");
    for (PipelineHandle h : registry.all()) {
      h.closeWatchers(goingAway.asRuntimeException());
    }
    if (!server.awaitTermination(grace, unit)) {
      log.warn("calls still running after {} {}; cancelling them", grace, unit);
      server.shutdownNow();
      server.awaitTermination(5, TimeUnit.SECONDS);
    }
    watchExecutor.shutdown();
  }

  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  /** A readable explanation of a refused pipeline in a config file. */
  static String describe(Rejection r) {
    return r.reason() + ": " + r.getMessage();
  }
}
