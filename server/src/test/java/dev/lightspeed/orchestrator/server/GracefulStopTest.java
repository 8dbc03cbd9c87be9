package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.lightspeed.orchestrator.v1.GetStatusRequest;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.WatchStartedRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * OrchestratorServer.stop over Netty: it ends open watch streams with UNAVAILABLE (they would
 * never end by themselves) and lets a unary call that is in progress complete. The server is
 * built here, not by the extension, because stopping it is what the test is about.
 */
class GracefulStopTest {
  /**
   * A clock whose next read, once armed, blocks until released: it holds a handler inside its
   * call, so that the test can stop the server while the call is in progress.
   */
  private static final class GatedClock extends Clock {
    private final AtomicBoolean armed = new AtomicBoolean();
    private final CountDownLatch entered = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);

    void holdNextRead() {
      armed.set(true);
    }

    boolean awaitHeld() throws InterruptedException {
      return entered.await(10, TimeUnit.SECONDS);
    }

    void release() {
      release.countDown();
    }

    @Override
    public long millis() {
      if (armed.compareAndSet(true, false)) {
        entered.countDown();
        try {
          if (!release.await(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the test never released the clock");
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return GrpcServerExtension.START_MS;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis());
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      throw new UnsupportedOperationException();
    }
  }

  private final ExecutorService background = Executors.newCachedThreadPool();
  private final GatedClock clock = new GatedClock();
  private OrchestratorServer server;
  private boolean stopped;
  private ManagedChannel channel;

  @AfterEach
  void tearDown() throws InterruptedException {
    clock.release();
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (server != null && !stopped) {
      server.stop(5, TimeUnit.SECONDS);
    }
    background.shutdownNow();
    assertThat(background.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void stop_endsOpenWatchStreamsWithUnavailable_andLetsAUnaryCallInProgressComplete()
      throws Exception {
    server =
        new OrchestratorServer(
                NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)), clock, 64)
            .start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    PipelineClient p =
        PipelineClient.create(
            OrchestratorServiceGrpc.newBlockingStub(channel),
            pipeline("orders", "extract", WatchRecorder.PROBE_STAGE).build());
    WatchRecorder watch = new WatchRecorder();
    OrchestratorServiceGrpc.newStub(channel)
        .watchStarted(WatchStartedRequest.newBuilder().setPipeline("orders").build(), watch);
    watch.awaitEstablished(p);

    clock.holdNextRead();
    Future<Boolean> inProgress = background.submit(() -> p.enqueue(batch("b1", "extract", 1)));
    assertThat(clock.awaitHeld()).as("the enqueue is inside its handler").isTrue();

    Future<?> stopping =
        background.submit(
            () -> {
              server.stop(10, TimeUnit.SECONDS);
              return null;
            });

    Throwable end = watch.awaitEnd();
    assertThat(Status.fromThrowable(end).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(inProgress).as("still held in its handler").isNotDone();
    assertThat(stopping).as("stop waits for the call in progress").isNotDone();

    clock.release();

    assertThat(inProgress.get(10, TimeUnit.SECONDS)).as("enqueued, not deduplicated").isFalse();
    stopping.get(10, TimeUnit.SECONDS);
    stopped = true;
    Throwable refused =
        catchThrowable(
            () -> OrchestratorServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(10, TimeUnit.SECONDS)
                .getStatus(GetStatusRequest.newBuilder().setPipeline("orders").build()));
    assertThat(Status.fromThrowable(refused).getCode())
        .as("a call after stop: %s", refused)
        .isEqualTo(Status.Code.UNAVAILABLE);
  }
}
