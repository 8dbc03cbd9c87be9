package dev.lightspeed.orchestrator.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lightspeed.orchestrator.security.AuthInterceptor;
import dev.lightspeed.orchestrator.v1.ListPipelinesRequest;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No log level prints a credential: the real server jar with every logger at TRACE (the README's
 * debug switch, one step further), a call with the right token and one with a wrong token, and
 * neither token appears anywhere in the server's output.
 */
class TokenLoggingIT {
  private static final String GOOD = "good-token-0123456789abcdef";
  private static final String WRONG = "wrong-token-0123456789abcdef";

  @TempDir Path dir;

  @Test
  void traceLogging_neverPrintsABearerToken() throws Exception {
    Path tokens = Files.writeString(dir.resolve("tokens"), GOOD + " reader ci-reader\n");
    try (ServerProcess server = ServerProcess.start(dir,
        List.of("-Dorg.slf4j.simpleLogger.defaultLogLevel=trace"),
        "--token-file", tokens.toString())) {
      ManagedChannel channel =
          NettyChannelBuilder.forAddress("127.0.0.1", server.port).usePlaintext().build();
      try {
        assertThat(call(channel, GOOD).getPipelinesList()).isEmpty();
        assertThatThrownBy(() -> call(channel, WRONG)).isInstanceOf(StatusRuntimeException.class);
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      String log = server.log();
      // TRACE was on (Netty logs at DEBUG, the refused token at DEBUG) and nothing leaked
      assertThat(log).contains("DEBUG").contains("event=auth_refused");
      assertThat(log).doesNotContain(GOOD).doesNotContain(WRONG);
    }
  }

  private static dev.lightspeed.orchestrator.v1.ListPipelinesResponse call(
      ManagedChannel channel, String token) {
    Metadata headers = new Metadata();
    headers.put(AuthInterceptor.AUTHORIZATION, "Bearer " + token);
    return OrchestratorServiceGrpc.newBlockingStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .listPipelines(ListPipelinesRequest.getDefaultInstance());
  }
}
