package dev.lightspeed.orchestrator.boot;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.io.File;
import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * A container health check that needs nothing but the server's own classpath (the image has no
 * shell, curl or grpc_health_probe): one {@code grpc.health.v1.Health/Check} call. Exit 0 when
 * the answer is SERVING, 1 otherwise (NOT_SERVING during a graceful stop, unreachable, refused),
 * 2 on a usage error. Prints the status or the error on one line.
 *
 * <pre>
 * java -cp @/app/jib-classpath-file dev.lightspeed.orchestrator.boot.HealthProbe \
 *     [--tls-ca PEM] [--service NAME] [--timeout-ms N] [HOST:PORT]
 * </pre>
 *
 * HOST:PORT defaults to 127.0.0.1:50051; the service to "" (the whole server). With {@code
 * --tls-ca} the call uses TLS trusting that CA (a server that also demands client certificates
 * cannot be probed this way: use its metrics port or a TCP check).
 */
public final class HealthProbe {
  private HealthProbe() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  static int run(String[] args) {
    String target = "127.0.0.1:50051";
    String service = "";
    String tlsCa = null;
    long timeoutMs = 5000;
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--tls-ca" -> tlsCa = args[++i];
          case "--service" -> service = args[++i];
          case "--timeout-ms" -> timeoutMs = Long.parseLong(args[++i]);
          default -> {
            if (args[i].startsWith("-")) {
              throw new IllegalArgumentException("unknown option " + args[i]);
            }
            target = args[i];
          }
        }
      }
    } catch (RuntimeException e) {
      System.out.println("usage: HealthProbe [--tls-ca PEM] [--service NAME] [--timeout-ms N]"
          + " [HOST:PORT] (" + e.getMessage() + ")");
      return 2;
    }
    ChannelCredentials credentials;
    try {
      credentials = tlsCa == null
          ? InsecureChannelCredentials.create()
          : TlsChannelCredentials.newBuilder().trustManager(new File(tlsCa)).build();
    } catch (IOException e) {
      System.out.println("cannot read " + tlsCa + ": " + e.getMessage());
      return 2;
    }
    ManagedChannel channel = Grpc.newChannelBuilder(target, credentials).build();
    try {
      HealthCheckResponse reply = HealthGrpc.newBlockingStub(channel)
          .withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS)
          .check(HealthCheckRequest.newBuilder().setService(service).build());
      System.out.println(reply.getStatus());
      return reply.getStatus() == HealthCheckResponse.ServingStatus.SERVING ? 0 : 1;
    } catch (StatusRuntimeException e) {
      System.out.println(e.getStatus().getCode() + ": " + e.getStatus().getDescription());
      return 1;
    } finally {
      channel.shutdownNow();
    }
  }
}
