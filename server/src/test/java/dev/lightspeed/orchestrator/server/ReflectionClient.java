package dev.lightspeed.orchestrator.server;

import io.grpc.Channel;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** grpcurl's {@code list}: the services that v1 reflection names. */
final class ReflectionClient {
  private ReflectionClient() {}

  static List<String> listServices(Channel channel) throws Exception {
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
    requests.onNext(ServerReflectionRequest.newBuilder().setListServices("*").build());
    requests.onCompleted();
    return response.get(10, TimeUnit.SECONDS).getListServicesResponse().getServiceList().stream()
        .map(ServiceResponse::getName)
        .toList();
  }
}
