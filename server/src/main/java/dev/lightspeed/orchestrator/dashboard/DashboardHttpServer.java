package dev.lightspeed.orchestrator.dashboard;

import com.linecorp.armeria.common.SessionProtocol;
import com.linecorp.armeria.common.grpc.GrpcSerializationFormats;
import com.linecorp.armeria.server.Server;
import com.linecorp.armeria.server.ServerBuilder;
import com.linecorp.armeria.server.file.FileService;
import com.linecorp.armeria.server.file.HttpFile;
import com.linecorp.armeria.server.grpc.GrpcService;
import dev.lightspeed.orchestrator.security.TokenFile;
import io.grpc.ServerServiceDefinition;
import io.netty.handler.ssl.ClientAuth;
import java.io.File;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletionException;

/**
 * The dashboard's HTTP port: the same OrchestratorService (the same handler object behind the
 * same authentication and metrics interceptors as the gRPC port) spoken over gRPC-Web (binary
 * and JSON, unary and server-streaming) for the browser page, over unframed JSON or protobuf
 * POSTs for curl, and over plain gRPC; plus the page itself from the jar's {@code /dashboard}
 * resources. Armeria's DocService (a browsable API page) is left out: it doubled the port's
 * start-up time (docs/dashboard.md).
 *
 * <p>It is its own Netty server (Armeria), so the main gRPC port's code path (grpc-netty) is
 * untouched: docs/dashboard.md says why Armeria and what the alternatives were.
 */
public final class DashboardHttpServer implements AutoCloseable {
  /** The page's files inside the jar. */
  static final String RESOURCE_ROOT = "/dashboard";

  private final Server server;

  /**
   * @param service the orchestrator service with its interceptors, with protobuf marshallers
   *     (Armeria needs them to transcode JSON)
   * @param tls certificate chain and key (PEM) or null for plain HTTP
   */
  public DashboardHttpServer(
      ServerServiceDefinition service, TokenFile tokens, String bind, int port, File tlsCert,
      File tlsKey, File tlsClientCa, int maxMessageBytes) {
    GrpcService grpc =
        GrpcService.builder()
            .addService(service)
            .supportedSerializationFormats(GrpcSerializationFormats.values())
            .enableUnframedRequests(true)
            // Handlers never block (they finish from completion callbacks), as on the gRPC port
            // with directExecutor(): run them on the event loop, no hand-off.
            .useBlockingTaskExecutor(false)
            .maxRequestMessageLength(maxMessageBytes)
            .build();
    ServerBuilder builder = Server.builder();
    InetSocketAddress address = new InetSocketAddress(bind, port);
    if (tlsCert != null) {
      builder.port(address, SessionProtocol.HTTPS).tls(tlsCert, tlsKey);
      if (tlsClientCa != null) {
        // Mutual TLS as on the gRPC port: no client certificate, no connection.
        builder.tlsCustomizer(ssl -> ssl.trustManager(tlsClientCa).clientAuth(ClientAuth.REQUIRE));
      }
    } else {
      builder.port(address, SessionProtocol.HTTP);
    }
    FileService files =
        FileService.builder(DashboardHttpServer.class.getClassLoader(), RESOURCE_ROOT)
            .autoIndex(false)
            .build();
    HttpFile index = HttpFile.of(DashboardHttpServer.class.getClassLoader(),
        RESOURCE_ROOT + "/index.html");
    this.server =
        builder
            // WatchStarted and the page's streams stay open for as long as the page is shown.
            .requestTimeout(Duration.ZERO)
            // The overview ends its short WatchEvents reads by cancelling them (a stream has no
            // end); Armeria would otherwise log a WARN every 10 s about those CANCELLED calls
            // not reaching a LoggingService. Refusals are logged by our own interceptors.
            .unloggedExceptionsReportInterval(Duration.ZERO)
            .maxRequestLength(maxMessageBytes + 1024L)
            .service(grpc)
            .service("/dashboard/session", new DashboardSession(tokens))
            .service("/", index.asService())
            .serviceUnder("/", files)
            .build();
  }

  /** Binds the port; throws with the reason when it cannot. */
  public DashboardHttpServer start() {
    try {
      server.start().join();
    } catch (CompletionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      server.stop();
      throw new IllegalStateException(cause.getMessage(), cause);
    }
    return this;
  }

  /** The bound port (useful with port 0). */
  public int port() {
    return server.activeLocalPort();
  }

  @Override
  public void close() {
    server.stop().join();
  }
}
