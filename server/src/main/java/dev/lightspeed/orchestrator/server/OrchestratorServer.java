package dev.lightspeed.orchestrator.server;

import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.grpc.ClusterGrpcService;
import dev.lightspeed.orchestrator.grpc.ClusterRouting;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.grpc.CallGuard;
import dev.lightspeed.orchestrator.grpc.EarlyHeaders;
import dev.lightspeed.orchestrator.grpc.ErrorMapper;
import dev.lightspeed.orchestrator.grpc.MalformedRequests;
import dev.lightspeed.orchestrator.grpc.OrchestratorGrpcService;
import dev.lightspeed.orchestrator.grpc.ProtoMapper;
import dev.lightspeed.orchestrator.grpc.TransportMetrics;
import dev.lightspeed.orchestrator.host.CallContext;
import dev.lightspeed.orchestrator.host.PipelineHandle;
import dev.lightspeed.orchestrator.host.PipelineRegistry;
import dev.lightspeed.orchestrator.host.PipelineStore;
import dev.lightspeed.orchestrator.host.ServerReason;
import dev.lightspeed.orchestrator.metrics.MetricsInterceptor;
import dev.lightspeed.orchestrator.metrics.ServerMetrics;
import dev.lightspeed.orchestrator.security.AuthInterceptor;
import dev.lightspeed.orchestrator.security.CredentialSafeLogging;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
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

  static {
    // for embedded servers and tests; ServerMain installs it first thing
    CredentialSafeLogging.install();
  }
  /** The health service name of the orchestrator, besides the whole server's "". */
  public static final String SERVICE_NAME = OrchestratorServiceGrpc.SERVICE_NAME;

  private final Server server;
  private final HealthStatusManager health = new HealthStatusManager();
  private final PipelineStore store;
  private final PipelineRegistry registry;
  /** Null for a single server. */
  private final ClusterRouting cluster;
  private final Clock clock;
  private final ExecutorService watchExecutor;
  /** Runs the reads that may cost O(state), each pipeline's one at a time (see the service). */
  private final ExecutorService readPool;
  private final ServerSettings settings;
  /** Null when metrics are off. */
  private final ServerMetrics metrics;
  private int metricsPort = -1;
  /**
   * Threads of the read pool: as many large reads of different pipelines run at once (a read of
   * a pipeline waits only for reads of the same pipeline, and for a free thread).
   */
  static final int READ_THREADS = Math.max(4, Runtime.getRuntime().availableProcessors());
  /** A cluster node's service (null for a single server): --config goes through it. */
  private final ClusterGrpcService clusterService;
  /** The service with its interceptors, for {@link DashboardHttpServer}. */
  private final io.grpc.ServerServiceDefinition httpService;

  /** A server whose pipelines live in memory only. */
  public OrchestratorServer(ServerBuilder<?> builder, Clock clock, int watchBufferCapacity) {
    this(builder, clock, watchBufferCapacity, PipelineStore.inMemory());
  }

  /** A server on recovered (or in-memory) pipelines; it closes {@code store} at stop. */
  public OrchestratorServer(
      ServerBuilder<?> builder, Clock clock, int watchBufferCapacity, PipelineStore store) {
    this(builder, clock, store,
        ServerSettings.defaults().withWatchBufferCapacity(watchBufferCapacity));
  }

  /**
   * A server with limits, optional bearer-token authentication and optional metrics. Interceptors,
   * outermost first: malformed requests (parses each request), metrics (sees every parsed call,
   * refused ones too), authentication, early headers.
   */
  public OrchestratorServer(
      ServerBuilder<?> builder, Clock clock, PipelineStore store, ServerSettings settings) {
    this(builder, clock, store, settings, null);
  }

  /**
   * A cluster node's server when {@code cluster} is not null: every call goes through the Raft
   * group of its pipeline ({@link ClusterGrpcService}) and {@code store} holds nothing.
   */
  public OrchestratorServer(
      ServerBuilder<?> builder, Clock clock, PipelineStore store, ServerSettings settings,
      ClusterRouting cluster) {
    this.store = store;
    this.settings = settings;
    this.registry = store.registry();
    this.cluster = cluster;
    this.clock = clock;
    this.watchExecutor =
        Executors.newFixedThreadPool(
            2,
            r -> {
              Thread t = new Thread(r, "watch-started-drain");
              t.setDaemon(true);
              return t;
            });
    java.util.concurrent.atomic.AtomicInteger readers = new java.util.concurrent.atomic.AtomicInteger();
    this.readPool = Executors.newFixedThreadPool(READ_THREADS, r -> {
      Thread t = new Thread(r, "pipeline-reads-" + readers.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    registry.maxPipelines(settings.limits().maxPipelines());
    registry.eventRetention(settings.limits().eventRetention());
    MalformedRequests.quietOversizeWarnings();
    // A cluster node's pipelines are its replicas' (its own store holds none).
    this.metrics = !settings.metricsEnabled() ? null
        : cluster != null ? new ServerMetrics(cluster::localPipelines, clock)
        : new ServerMetrics(registry, clock);
    if (metrics != null && cluster != null) {
      cluster.registerMetrics(metrics);
    }
    if (metrics != null) {
      TransportMetrics.register(metrics, settings.connections(), settings.outbound());
    }
    if (settings.outbound() != null) {
      // Outermost, on every service: health and reflection replies wait for readers too.
      builder.intercept(settings.outbound())
          .addTransportFilter(settings.outbound().transportFilter());
    }
    // Hosting learns of the gRPC call it serves (deadline, caller) only through these.
    CallContext.install(CallGuard::ensureCallLive, AuthInterceptor::callerName);
    this.clusterService = cluster != null
        ? new ClusterGrpcService(cluster, clock, settings.limits(), watchExecutor,
            settings.watchBufferCapacity(), new dev.lightspeed.orchestrator.metrics.DomainMetrics(
                metrics), settings.memberCredentials())
        : null;
    if (clusterService != null && metrics != null) {
      metrics.registry.register(clusterService.relayMetrics());
    }
    io.grpc.BindableService service = cluster != null
        ? clusterService
        : new OrchestratorGrpcService(
            registry, clock, watchExecutor, readPool, settings.watchBufferCapacity(),
            settings.limits(), metrics);
    List<ServerInterceptor> interceptors = new ArrayList<>();
    if (cluster != null) {
      // Innermost (the last in the list runs first): decides on the first request, after every
      // check a local stream passes, whether a member of the pipeline's group serves the stream.
      interceptors.add(clusterService.relay());
    }
    interceptors.add(new EarlyHeaders(OrchestratorServiceGrpc.getWatchStartedMethod()));
    interceptors.add(new EarlyHeaders(OrchestratorServiceGrpc.getWatchEventsMethod()));
    if (cluster != null) {
      // Inside authentication: a caller without a valid token learns nothing of membership.
      interceptors.add(new dev.lightspeed.orchestrator.grpc.NotAMemberGuard(cluster));
    }
    if (settings.tokens() != null) {
      interceptors.add(new AuthInterceptor(settings.tokens()));
    }
    if (metrics != null) {
      interceptors.add(new MetricsInterceptor(metrics));
    }
    // The dashboard's HTTP port serves the same handler behind the same interceptors; Armeria
    // parses (and transcodes JSON) itself, so it gets the protobuf marshallers, unguarded.
    this.httpService = ServerInterceptors.intercept(service, interceptors);
    this.server =
        builder
            .addService(MalformedRequests.guard(
                ServerInterceptors.intercept(service, interceptors), metrics))
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
   * Creates the pipelines of a config file before serving; any refusal stops start-up and names
   * the pipeline (its name and its index in the file) besides the field. A pipeline that already
   * exists in the data directory keeps its recovered state, and a changed spec is applied to it as
   * an UpdatePipeline (see {@link ConfigReconciler}); a name listed twice is refused.
   */
  public void createPipelines(List<dev.lightspeed.orchestrator.v1.PipelineSpec> specs) {
    checkConfig(specs);
    for (int i = 0; i < specs.size(); i++) {
      var spec = specs.get(i);
      try {
        var core = ProtoMapper.toCore(spec);
        if (registry.exists(core.name())) {
          ConfigReconciler.reconcile(registry.get(core.name()), spec, clock.millis());
        } else {
          registry.create(core, clock.millis()).join();
        }
      } catch (Rejection r) {
        String where = "pipeline '" + spec.getName() + "' (pipelines[" + i + "]): ";
        throw Rejection.of(r.reason(), where + r.getMessage());
      }
    }
  }

  /**
   * Checks the pipelines of a config file without applying them: each spec's own rules and names
   * listed twice; the Rejection names the pipeline and its index in the file.
   */
  public static void checkConfig(List<dev.lightspeed.orchestrator.v1.PipelineSpec> specs) {
    java.util.Set<String> listed = new java.util.HashSet<>();
    for (int i = 0; i < specs.size(); i++) {
      var spec = specs.get(i);
      try {
        var core = ProtoMapper.toCore(spec);
        dev.lightspeed.orchestrator.core.PipelineSpecValidator.validate(core);
        if (!listed.add(core.name())) {
          throw Rejection.of(ServerReason.PIPELINE_EXISTS,
              "the config lists pipeline '" + core.name() + "' more than once");
        }
      } catch (Rejection r) {
        String where = "pipeline '" + spec.getName() + "' (pipelines[" + i + "]): ";
        throw Rejection.of(r.reason(), where + r.getMessage());
      }
    }
  }

  /**
   * A cluster node's {@code --config} (docs/cluster.md, "--config on a cluster"): each pipeline
   * created, or updated to the file's spec, through its Raft group as a client's call would be,
   * waiting up to {@code wait} for groups without a leader. Returns the pipelines left undone when
   * the wait ran out (the node serves anyway); throws the Rejection of a refused change, naming
   * the pipeline.
   */
  public List<String> applyClusterConfig(List<dev.lightspeed.orchestrator.v1.PipelineSpec> specs,
      String nodeId, java.time.Duration wait) throws InterruptedException {
    if (clusterService == null) {
      throw new IllegalStateException("not a cluster node");
    }
    checkConfig(specs);
    return new ClusterConfigApplier(clusterService, nodeId).apply(specs, wait).notApplied();
  }

  public OrchestratorServer start() throws IOException {
    try {
      server.start();
    } catch (IOException | RuntimeException e) {
      closeConnectionLimiter();
      throw e;
    }
    if (metrics != null) {
      try {
        metricsPort = metrics.serve(settings.metricsBind(), settings.metricsPort());
      } catch (IOException e) {
        server.shutdownNow();
        closeConnectionLimiter();
        throw new IOException("cannot serve metrics on " + settings.metricsBind() + ":"
            + settings.metricsPort() + ": " + e.getMessage(), e);
      }
    }
    health.setStatus("", ServingStatus.SERVING);
    health.setStatus(SERVICE_NAME, ServingStatus.SERVING);
    // After a journal failure the server refuses every call (JournalGate): load balancers and
    // orchestrators should route around it, and a liveness probe on health restarts it.
    registry.gate().onFailure(() -> {
      health.setStatus("", ServingStatus.NOT_SERVING);
      health.setStatus(SERVICE_NAME, ServingStatus.NOT_SERVING);
      // open WatchStarted streams would stay silent for good: end them, saying why
      for (PipelineHandle h : registry.all()) {
        h.closeWatchers(ErrorMapper.toException(registry.gate().refusal(), h.name(), ""));
      }
    });
    return this;
  }

  /** The port the server listens on (useful with port 0); -1 for an in-process server. */
  public int port() {
    return server.getPort();
  }

  /** The orchestrator service behind its interceptors, as the dashboard's HTTP port serves it. */
  public io.grpc.ServerServiceDefinition httpService() {
    return httpService;
  }

  /** The metrics HTTP port, or -1 when metrics are off. */
  public int metricsPort() {
    return metricsPort;
  }

  /** The metrics, or null when they are off (tests read them directly). */
  ServerMetrics metrics() {
    return metrics;
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
    // A cluster node's streams are fed by its replicas: their workers and watchers move on to
    // another node now rather than after the grace period.
    if (cluster != null) {
      for (PipelineRegistry replica : cluster.localReplicas()) {
        for (PipelineHandle h : replica.all()) {
          h.closeWatchers(goingAway.asRuntimeException());
        }
      }
      // The streams this node relays to other members end with it (UNAVAILABLE, saying so).
      clusterService.close();
    }
    if (!server.awaitTermination(grace, unit)) {
      log.warn("calls still running after {} {}; cancelling them", grace, unit);
      server.shutdownNow();
      server.awaitTermination(5, TimeUnit.SECONDS);
    }
    closeConnectionLimiter();
    watchExecutor.shutdown();
    readPool.shutdown();
    if (metrics != null) {
      metrics.close();
    }
    try {
      store.close();
    } catch (IOException e) {
      log.error("closing the data directory failed; the next start recovers from the journal", e);
    }
  }

  /** The connection limiter owns the server's event loops; they stop after the server. */
  private void closeConnectionLimiter() {
    if (settings.connections() != null) {
      settings.connections().close();
    }
  }

  /** Takes a snapshot now (tests and operators; snapshots are also taken on their own). */
  public void snapshot() throws IOException {
    store.snapshot();
  }

  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  /** A readable explanation of a refused pipeline in a config file. */
  public static String describe(Rejection r) {
    return r.reason() + ": " + r.getMessage();
  }
}
