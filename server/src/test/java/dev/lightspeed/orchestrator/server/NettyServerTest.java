package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static dev.lightspeed.orchestrator.server.RpcErrors.assertRefused;
import static dev.lightspeed.orchestrator.server.RpcErrors.retryInfo;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.lightspeed.orchestrator.v1.Boundary;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import dev.lightspeed.orchestrator.v1.WatchStartedRequest;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Over a real Netty port of 127.0.0.1: reflection, health, errors on the wire, WatchStarted. */
class NettyServerTest {
  @RegisterExtension final GrpcServerExtension grpc = GrpcServerExtension.netty();

  // ---- reflection -----------------------------------------------------------------------------

  /** One request on a v1 reflection stream, and its one response. */
  private static ServerReflectionResponse reflect(Channel channel, ServerReflectionRequest req)
      throws Exception {
    CompletableFuture<ServerReflectionResponse> response = new CompletableFuture<>();
    StreamObserver<ServerReflectionRequest> requests =
        ServerReflectionGrpc.newStub(channel)
            .serverReflectionInfo(
                new StreamObserver<>() {
                  @Override
                  public void onNext(ServerReflectionResponse value) {
                    response.complete(value);
                  }

                  @Override
                  public void onError(Throwable t) {
                    response.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {
                    response.completeExceptionally(new AssertionError("no reflection response"));
                  }
                });
    requests.onNext(req);
    requests.onCompleted();
    return response.get(10, TimeUnit.SECONDS);
  }

  private static List<String> fileNames(ServerReflectionResponse resp)
      throws InvalidProtocolBufferException {
    List<String> names = new ArrayList<>();
    for (ByteString file : resp.getFileDescriptorResponse().getFileDescriptorProtoList()) {
      names.add(FileDescriptorProto.parseFrom(file).getName());
    }
    return names;
  }

  @Test
  void reflectionV1_listServices_listsTheOrchestratorServiceHealthAndReflection() throws Exception {
    ServerReflectionResponse resp =
        reflect(
            grpc.newChannel(), ServerReflectionRequest.newBuilder().setListServices("*").build());

    assertThat(resp.getListServicesResponse().getServiceList())
        .extracting(ServiceResponse::getName)
        .contains(
            "lightspeed.orchestrator.v1.OrchestratorService",
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection");
  }

  @Test
  @SuppressWarnings("deprecation")
  void reflectionV1alpha_listServices_listsTheOrchestratorService() throws Exception {
    CompletableFuture<io.grpc.reflection.v1alpha.ServerReflectionResponse> response =
        new CompletableFuture<>();
    var requests =
        io.grpc.reflection.v1alpha.ServerReflectionGrpc.newStub(grpc.newChannel())
            .serverReflectionInfo(
                new StreamObserver<>() {
                  @Override
                  public void onNext(io.grpc.reflection.v1alpha.ServerReflectionResponse value) {
                    response.complete(value);
                  }

                  @Override
                  public void onError(Throwable t) {
                    response.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {
                    response.completeExceptionally(new AssertionError("no reflection response"));
                  }
                });
    requests.onNext(
        io.grpc.reflection.v1alpha.ServerReflectionRequest.newBuilder().setListServices("*")
            .build());
    requests.onCompleted();

    assertThat(response.get(10, TimeUnit.SECONDS).getListServicesResponse().getServiceList())
        .extracting(io.grpc.reflection.v1alpha.ServiceResponse::getName)
        .contains("lightspeed.orchestrator.v1.OrchestratorService");
  }

  @Test
  void reflection_servesTheServiceFileAndErrorDetails_soToolsCanDecodeErrorInfo()
      throws Exception {
    Channel channel = grpc.newChannel();

    ServerReflectionResponse service =
        reflect(
            channel,
            ServerReflectionRequest.newBuilder()
                .setFileContainingSymbol("lightspeed.orchestrator.v1.OrchestratorService")
                .build());
    ServerReflectionResponse errorInfo =
        reflect(
            channel,
            ServerReflectionRequest.newBuilder()
                .setFileContainingSymbol("google.rpc.ErrorInfo")
                .build());

    assertThat(fileNames(service))
        .contains("lightspeed/orchestrator/v1/orchestrator_service.proto");
    assertThat(fileNames(errorInfo)).contains("google/rpc/error_details.proto");
  }

  // ---- health ---------------------------------------------------------------------------------

  @Test
  void healthCheck_isServing_forTheServerAndForTheOrchestratorService() {
    var health = HealthGrpc.newBlockingStub(grpc.newChannel());

    for (String service : new String[] {"", "lightspeed.orchestrator.v1.OrchestratorService"}) {
      assertThat(health.check(HealthCheckRequest.newBuilder().setService(service).build())
              .getStatus())
          .as("health of '%s'", service)
          .isEqualTo(ServingStatus.SERVING);
    }
  }

  // ---- errors on the wire ---------------------------------------------------------------------

  @Test
  void enqueueBatch_whenQueueFull_isResourceExhaustedWithRetryInfo_overTheWire() {
    PipelineClient p =
        PipelineClient.create(
            grpc.blocking(),
            pipeline("tiny", "s").setBoundary(Boundary.newBuilder().setMaxQueued(1)).build());
    p.enqueue(batch("b1", "s", 1));

    var status =
        assertRefused(
            () -> p.enqueue(batch("b2", "s", 2)), Status.Code.RESOURCE_EXHAUSTED, "QUEUE_FULL");
    assertThat(retryInfo(status)).isPresent();
  }

  // ---- WatchStarted ---------------------------------------------------------------------------

  @Test
  void watchStarted_seesTheBatchesThatAnotherClientStarts_inStartOrder() throws Exception {
    PipelineClient worker =
        PipelineClient.create(
            OrchestratorServiceGrpc.newBlockingStub(grpc.newChannel()),
            pipeline("orders", "extract", "load", WatchRecorder.PROBE_STAGE).build());
    WatchRecorder watcher = new WatchRecorder();
    grpc.async()
        .watchStarted(WatchStartedRequest.newBuilder().setPipeline("orders").build(), watcher);
    watcher.awaitEstablished(worker);

    List<StartedBatch> startedByWorker = new ArrayList<>();
    for (int i = 1; i <= 20; i++) {
      worker.enqueue(batch("one-" + i, i % 2 == 0 ? "extract" : "load", i));
      StartedBatch s = worker.start(1, "extract", "load").get(0);
      startedByWorker.add(s);
      worker.ackProcessed(s.getBatch().getKey(), s.getAttempt());
    }
    for (int i = 1; i <= 5; i++) {
      worker.enqueue(batch("many-" + i, "extract", 100 + i));
    }
    startedByWorker.addAll(worker.start(0, "extract", "load"));

    assertThat(watcher.next(startedByWorker.size())).containsExactlyElementsOf(startedByWorker);
    assertThat(watcher.hasEnded()).isFalse();
  }
}
