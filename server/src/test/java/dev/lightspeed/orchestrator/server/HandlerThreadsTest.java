package dev.lightspeed.orchestrator.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.boot.ProductionOptions;
import dev.lightspeed.orchestrator.durability.Durability;
import dev.lightspeed.orchestrator.v1.GetStatusRequest;
import dev.lightspeed.orchestrator.v1.ListPipelinesRequest;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceBlockingStub;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import io.grpc.ForwardingServerCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.netty.NettyChannelBuilder;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Where call handlers run: on the Netty event loops by default (--handler-threads 0), on a pool
 * with --handler-threads N; GetStatus, whose answer can cost O(state), always on the read pool.
 */
class HandlerThreadsTest {
  /** The thread each RPC's handler ran on (where it sent its response), by method name. */
  private final Map<String, String> threads = new ConcurrentHashMap<>();
  private OrchestratorServer server;
  private ManagedChannel channel;

  @AfterEach
  void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.stop(5, TimeUnit.SECONDS);
    }
  }

  private OrchestratorServiceBlockingStub start(String... flags) throws Exception {
    ProductionOptions options = new ProductionOptions();
    new CommandLine(options).parseArgs(flags);
    assertThat(options.problems()).isEmpty();
    var builder = options.nettyServerBuilder("127.0.0.1", 0);
    builder.intercept(new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(
          ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String method = call.getMethodDescriptor().getBareMethodName();
        return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
          @Override
          public void sendMessage(R message) {
            threads.put(method, Thread.currentThread().getName());
            super.sendMessage(message);
          }
        }, headers);
      }
    });
    server = new OrchestratorServer(builder, Clock.systemUTC(), Durability.inMemory(),
        options.settings(64, null)).start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    OrchestratorServiceBlockingStub stub = OrchestratorServiceGrpc.newBlockingStub(channel);
    PipelineClient.create(stub, Fixtures.pipeline("orders", "s").build());
    stub.listPipelines(ListPipelinesRequest.getDefaultInstance());
    stub.getStatus(GetStatusRequest.newBuilder().setPipeline("orders").build());
    return stub;
  }

  @Test
  void byDefault_handlersRunOnTheEventLoops_andGetStatusOnTheReadPool() throws Exception {
    start();
    assertThat(threads.get("CreatePipeline")).contains("worker-ELG");
    assertThat(threads.get("ListPipelines")).contains("worker-ELG");
    assertThat(threads.get("GetStatus")).startsWith("pipeline-reads-");
  }

  @Test
  void withHandlerThreads_handlersRunOnThatPool() throws Exception {
    start("--handler-threads", "2");
    assertThat(threads.get("ListPipelines")).startsWith("lightspeed-handler-");
    assertThat(threads.get("GetStatus")).startsWith("pipeline-reads-");
  }

  @Test
  void negativeHandlerThreads_isRefused() {
    ProductionOptions options = new ProductionOptions();
    new CommandLine(options).parseArgs("--handler-threads", "-1");
    assertThat(options.problems()).containsExactly("--handler-threads must be ≥ 0 (got -1)");
  }
}
