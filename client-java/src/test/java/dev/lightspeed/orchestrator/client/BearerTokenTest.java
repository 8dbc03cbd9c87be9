package dev.lightspeed.orchestrator.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.cli.OrchestratorCli;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import picocli.CommandLine;

/** The client and the CLI send {@code authorization: Bearer <token>} when given a token. */
class BearerTokenTest {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  private static final List<String> seen = new CopyOnWriteArrayList<>();

  @RegisterExtension
  static final ServerExtension server =
      new ServerExtension(
          new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(
                ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
              seen.add(String.valueOf(headers.get(AUTHORIZATION)));
              return next.startCall(call, headers);
            }
          });

  @BeforeEach
  void clear() {
    seen.clear();
  }

  @Test
  void bearerToken_isSentOnEveryCall() throws Exception {
    try (OrchestratorClient client = server.clientBuilder().bearerToken(" s3cret ").build()) {
      client.listPipelines(dev.lightspeed.orchestrator.v1.ListPipelinesRequest.getDefaultInstance());
      client.listPipelines(dev.lightspeed.orchestrator.v1.ListPipelinesRequest.getDefaultInstance());
    }
    assertThat(seen).containsExactly("Bearer s3cret", "Bearer s3cret");
  }

  @Test
  void withoutAToken_noAuthorizationHeaderIsSent() throws Exception {
    try (OrchestratorClient client = server.clientBuilder().build()) {
      client.listPipelines(dev.lightspeed.orchestrator.v1.ListPipelinesRequest.getDefaultInstance());
    }
    assertThat(seen).containsExactly("null");
  }

  @Test
  void cli_tokenOption_isSent() {
    CommandLine cli = OrchestratorCli.newCommandLine();
    StringWriter out = new StringWriter();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(new StringWriter()));
    int code = cli.execute("--target", server.target(), "--token", "cli-token", "pipelines", "list");
    assertThat(code).isZero();
    assertThat(seen).containsExactly("Bearer cli-token");
  }
}
