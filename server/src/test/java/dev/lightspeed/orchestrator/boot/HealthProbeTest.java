package dev.lightspeed.orchestrator.boot;

import static org.assertj.core.api.Assertions.assertThat;
import dev.lightspeed.orchestrator.server.OrchestratorServer;

import io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The container health check against the real server on a loopback port. */
class HealthProbeTest {
  @Test
  void aServingServer_exits0_andAStoppedOne_exits1() throws Exception {
    OrchestratorServer server =
        new OrchestratorServer(
                NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)),
                Clock.systemUTC(),
                16)
            .start();
    String target = "127.0.0.1:" + server.port();
    try {
      assertThat(HealthProbe.run(new String[] {target})).isZero();
      assertThat(HealthProbe.run(new String[] {"--service", OrchestratorServer.SERVICE_NAME, target}))
          .isZero();
      assertThat(HealthProbe.run(new String[] {"--service", "no.such.Service", target})).isEqualTo(1);
    } finally {
      server.stop(1, TimeUnit.SECONDS);
    }
    assertThat(HealthProbe.run(new String[] {"--timeout-ms", "3000", target})).isEqualTo(1);
  }

  @Test
  void nothingListening_exits1_andABadOption_exits2() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    assertThat(HealthProbe.run(new String[] {"--timeout-ms", "3000", "127.0.0.1:" + port}))
        .isEqualTo(1);
    assertThat(HealthProbe.run(new String[] {"--bogus"})).isEqualTo(2);
  }
}
