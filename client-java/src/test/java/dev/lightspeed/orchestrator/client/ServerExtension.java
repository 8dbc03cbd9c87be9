package dev.lightspeed.orchestrator.client;

import dev.lightspeed.orchestrator.server.OrchestratorServer;
import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.Boundary;
import dev.lightspeed.orchestrator.v1.Connector;
import dev.lightspeed.orchestrator.v1.ConnectorKind;
import dev.lightspeed.orchestrator.v1.PipelineSpec;
import dev.lightspeed.orchestrator.v1.RetryPolicy;
import io.grpc.ServerInterceptor;
import io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The real server in this JVM on a loopback Netty port, one per test class, plus a client for it.
 * Pipelines get unique names per test so that tests of a class never see each other's state.
 */
public final class ServerExtension implements BeforeAllCallback, AfterAllCallback {
  private static final AtomicInteger names = new AtomicInteger();
  private final List<ServerInterceptor> interceptors;
  private OrchestratorServer server;
  private OrchestratorClient client;

  private final int watchBuffer;

  public ServerExtension(ServerInterceptor... interceptors) {
    this(4096, interceptors);
  }

  /** With a watch buffer of {@code watchBuffer} messages per watch stream. */
  public ServerExtension(int watchBuffer, ServerInterceptor... interceptors) {
    this.watchBuffer = watchBuffer;
    this.interceptors = List.of(interceptors);
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    // The server's handlers never block (no journal in this build), so they may run on the
    // transport threads: see shared/TOOLCHAIN.md on executor hand-offs.
    NettyServerBuilder builder =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).directExecutor();
    interceptors.forEach(builder::intercept);
    server = new OrchestratorServer(builder, Clock.systemUTC(), watchBuffer).start();
    client = clientBuilder().build();
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    if (client != null) {
      client.close();
    }
    if (server != null) {
      server.stop(2, TimeUnit.SECONDS);
    }
  }

  public String target() {
    return "127.0.0.1:" + server.port();
  }

  public OrchestratorClient.Builder clientBuilder() {
    return OrchestratorClient.builder().target(target()).deadline(Duration.ofSeconds(10));
  }

  /** A client shared by the tests of the class; don't close it. */
  public OrchestratorClient client() {
    return client;
  }

  /** A fresh pipeline name. */
  public static String uniqueName(String prefix) {
    return prefix + "-" + names.incrementAndGet();
  }

  /**
   * A spec with one stage {@code work} and its source connector {@code src}; retries immediate
   * (initial_backoff_ms 0) with the given attempts, and the given lease.
   */
  public static PipelineSpec.Builder spec(String name, int maxAttempts, long leaseMs) {
    return PipelineSpec.newBuilder()
        .setName(name)
        .addStages("work")
        .addConnectors(
            Connector.newBuilder()
                .setName("src")
                .setKind(ConnectorKind.CONNECTOR_KIND_SOURCE)
                .setStage("work"))
        .setBoundary(Boundary.newBuilder().setLeaseMs(leaseMs))
        .setRetry(
            RetryPolicy.newBuilder().setMaxAttempts(maxAttempts).setInitialBackoffMs(0));
  }

  /** Creates a fresh pipeline from {@link #spec} and returns its name. */
  public String createPipeline(String prefix, int maxAttempts, long leaseMs) {
    String name = uniqueName(prefix);
    client.createPipeline(spec(name, maxAttempts, leaseMs).build());
    return name;
  }

  /** A batch of stage {@code work} with idempotency key {@code key + "-1"}. */
  public static Batch batch(String key, long sequence) {
    return Batch.newBuilder()
        .setKey(key)
        .setStage("work")
        .setRecords(10)
        .setIdempotencyKey(key + "-1")
        .setSequence(sequence)
        .build();
  }

  /** Polls {@code condition} every 10 ms until it holds; fails the test after {@code timeout}. */
  public static void await(Duration timeout, String what, BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
      }
      Thread.sleep(10);
    }
  }
}
