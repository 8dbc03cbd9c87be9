package dev.lightspeed.orchestrator.server;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The dashboard's Armeria must not change the gRPC port's transport: grpc-netty picks epoll over
 * NIO by itself whenever Netty's epoll native library is usable, and Armeria brings that library
 * unless the pom excludes it (docs/dashboard.md).
 */
class GrpcTransportUnchangedTest {
  @Test
  void grpcNettyFindsNoEpollSoTheGrpcPortStaysOnNio() throws Exception {
    boolean epollUsable;
    try {
      Class<?> epoll = Class.forName("io.netty.channel.epoll.Epoll");
      epollUsable = (Boolean) epoll.getMethod("isAvailable").invoke(null);
    } catch (ClassNotFoundException e) {
      epollUsable = false;
    }
    assertThat(epollUsable).as("Netty's epoll transport usable on the class path").isFalse();
  }
}
