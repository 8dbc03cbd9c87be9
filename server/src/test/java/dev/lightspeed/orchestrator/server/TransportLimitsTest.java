package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.lightspeed.orchestrator.boot.ProductionOptions;
import dev.lightspeed.orchestrator.durability.Durability;
import dev.lightspeed.orchestrator.grpc.ErrorMapper;
import dev.lightspeed.orchestrator.v1.EnqueueBatchRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesRequest;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.StartAvailableRequest;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import dev.lightspeed.orchestrator.v1.WatchStartedRequest;
import io.grpc.Context;
import io.grpc.ForwardingServerCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import picocli.CommandLine;

/** Transport limits set by the server's flags, and deadlines, over a Netty port of 127.0.0.1. */
class TransportLimitsTest {

  /** A server built from flags exactly as ServerMain builds it. */
  @Nested
  class FromFlags {
    private OrchestratorServer server;
    private final List<ManagedChannel> channels = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
      for (ManagedChannel c : channels) {
        c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      server.stop(5, TimeUnit.SECONDS);
    }

    private PipelineClient start(String... flags) throws Exception {
      ProductionOptions options = new ProductionOptions();
      new CommandLine(options).parseArgs(flags);
      server = new OrchestratorServer(options.nettyServerBuilder("127.0.0.1", 0),
          Clock.systemUTC(), Durability.inMemory(), options.settings(64, null)).start();
      return PipelineClient.create(OrchestratorServiceGrpc.newBlockingStub(channel()),
          pipeline("orders", "s", WatchRecorder.PROBE_STAGE).build());
    }

    private ManagedChannel channel() {
      ManagedChannel c = NettyChannelBuilder.forAddress("127.0.0.1", server.port())
          .usePlaintext().build();
      channels.add(c);
      return c;
    }

    @Test
    void aMessageOverMaxMessageBytes_isResourceExhausted_andChangesNothing() throws Exception {
      PipelineClient p = start("--max-message-bytes", "2048");
      String before = p.status().getSignature();
      EnqueueBatchesRequest.Builder big = EnqueueBatchesRequest.newBuilder().setPipeline("orders");
      for (int i = 1; i <= 40; i++) {
        big.addBatches(batch("batch-with-a-long-key-" + "x".repeat(40) + i, "s", i));
      }
      assertThat(big.build().getSerializedSize()).isGreaterThan(2048);

      Throwable thrown = catchThrowable(() -> p.stub.enqueueBatches(big.build()));
      assertThat(Status.fromThrowable(thrown).getCode())
          .isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      assertThat(Status.fromThrowable(thrown).getDescription()).contains("2048");
      assertThat(p.status().getSignature()).isEqualTo(before);
      p.enqueue(batch("small", "s", 1));
    }

    @Test
    void aRefusalQuotingAHugeRequestValue_isCut_soItsTrailersReachTheClient() throws Exception {
      PipelineClient p = start();
      for (String huge : new String[] {"x".repeat(20_000), "é".repeat(10_000), "中".repeat(7_000)}) {
        var status = RpcErrors.assertRefused(
            () -> p.stub.getStatus(dev.lightspeed.orchestrator.v1.GetStatusRequest.newBuilder()
                .setPipeline(huge).build()),
            Status.Code.NOT_FOUND, "PIPELINE_NOT_FOUND");
        assertThat(status.getMessage().getBytes(java.nio.charset.StandardCharsets.UTF_8).length)
            .isLessThanOrEqualTo(ErrorMapper.MAX_MESSAGE_BYTES + 3);
        assertThat(status.getMessage()).endsWith("…");
        assertThat(RpcErrors.errorInfo(status).getMetadataOrThrow("pipeline")).hasSizeLessThan(130);
      }
    }

    @Test
    void afterMaxConnectionAge_newCallsReconnect_andAWatchStartedBeforeRunsOn() throws Exception {
      PipelineClient p = start("--max-connection-age", "1");
      WatchRecorder watcher = new WatchRecorder();
      OrchestratorServiceGrpc.newStub(channel())
          .watchStarted(WatchStartedRequest.newBuilder().setPipeline("orders").build(), watcher);
      watcher.awaitEstablished(p);

      Thread.sleep(2_500);
      p.enqueue(batch("late", "s", 1));
      StartedBatch started = p.start(0, "s").get(0);

      assertThat(watcher.next()).isEqualTo(started);
      assertThat(watcher.hasEnded()).isFalse();
    }
  }

  /** Holds the handler of a call with a deadline until it has passed, as a busy server would. */
  private static final class HoldUntilDeadline implements ServerInterceptor {
    private final Set<String> methods;

    HoldUntilDeadline(String... methods) {
      this.methods = Set.of(methods);
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
      ServerCall.Listener<Q> listener = next.startCall(call, headers);
      Context context = Context.current();
      if (!methods.contains(call.getMethodDescriptor().getBareMethodName())
          || context.getDeadline() == null) {
        return listener;
      }
      return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
        @Override
        public void onHalfClose() {
          long limit = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
          while (!context.isCancelled() && System.nanoTime() < limit) {
            try {
              Thread.sleep(5);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              return;
            }
          }
          super.onHalfClose();
        }
      };
    }
  }

  @Nested
  class Deadlines {
    @RegisterExtension
    final GrpcServerExtension grpc =
        GrpcServerExtension.netty().intercept(new HoldUntilDeadline("EnqueueBatch", "StartAvailable"));

    @Test
    void aMutationWhoseDeadlinePassedBeforeItRan_isNotApplied() {
      PipelineClient p = PipelineClient.create(grpc.blocking(), pipeline("orders", "s").build());
      String before = p.status().getSignature();

      Throwable thrown = catchThrowable(() -> grpc.blocking()
          .withDeadlineAfter(200, TimeUnit.MILLISECONDS)
          .enqueueBatch(EnqueueBatchRequest.newBuilder().setPipeline("orders")
              .setBatch(batch("late", "s", 1)).build()));

      assertThat(Status.fromThrowable(thrown).getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
      assertThat(p.status().getSignature()).as("the late enqueue was not applied")
          .isEqualTo(before);
      assertThat(p.batches()).isEmpty();
    }

    @Test
    void aStartAvailableWhoseDeadlinePassed_startsNothing() {
      PipelineClient p = PipelineClient.create(grpc.blocking(), pipeline("orders", "s").build());
      p.enqueue(batch("b1", "s", 1));
      String before = p.status().getSignature();

      Throwable thrown = catchThrowable(() -> grpc.blocking()
          .withDeadlineAfter(200, TimeUnit.MILLISECONDS)
          .startAvailable(StartAvailableRequest.newBuilder().setPipeline("orders").build())
          .forEachRemaining(s -> { }));

      assertThat(Status.fromThrowable(thrown).getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
      assertThat(p.status().getSignature()).isEqualTo(before);
      assertThat(p.status().getInFlightCount()).isZero();
    }
  }
}
