package dev.lightspeed.orchestrator.client;

import static dev.lightspeed.orchestrator.client.ServerExtension.await;
import static dev.lightspeed.orchestrator.client.ServerExtension.batch;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lightspeed.orchestrator.client.errors.OrchestratorException;
import dev.lightspeed.orchestrator.v1.Event;
import io.grpc.Status;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A client given several targets ({@link OrchestratorClient.Builder#targets}) against two real,
 * independent single-node servers A and B on loopback: it uses A while A is up, and B once A is
 * stopped, for calls and for a running worker alike. (Two independent servers stand in for the
 * nodes of a cluster: what the client does is the same.)
 */
class FailoverTest {
  private final ServerExtension a = new ServerExtension();
  private final ServerExtension b = new ServerExtension();
  private boolean aStopped;

  @BeforeEach
  void startBoth() throws Exception {
    a.beforeAll(null);
    b.beforeAll(null);
  }

  @AfterEach
  void stopBoth() throws Exception {
    if (!aStopped) {
      a.afterAll(null);
    }
    b.afterAll(null);
  }

  @Test
  void callsAndAWorker_moveToTheSecondTarget_whenTheFirstStops() throws Exception {
    String p = ServerExtension.uniqueName("failover");
    a.client().createPipeline(ServerExtension.spec(p, 3, 60_000).build());
    b.client().createPipeline(ServerExtension.spec(p, 3, 60_000).build());
    Set<String> handled = ConcurrentHashMap.newKeySet();

    try (OrchestratorClient client =
            OrchestratorClient.builder()
                .targets(List.of(a.target(), b.target()))
                .deadline(Duration.ofSeconds(10))
                .build();
        Worker worker =
            Worker.start(
                client,
                WorkerOptions.builder(p)
                    .reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(500))
                    .build(),
                started -> handled.add(started.getBatch().getKey()))) {
      assertThat(client.enqueueBatch(p, batch("on-a", 1))).isFalse();
      // pick_first: the first target took it (A answers "deduplicated" to the same key).
      assertThat(a.client().enqueueBatch(p, batch("on-a", 1))).isTrue();
      await(Duration.ofSeconds(20), "the worker handles on-a from A", () -> handled.contains("on-a"));

      a.afterAll(null);
      aStopped = true;

      // The next call reconnects, finds A refusing and B answering; B now has the batch.
      assertThat(client.enqueueBatch(p, batch("on-b", 1))).isFalse();
      assertThat(b.client().enqueueBatch(p, batch("on-b", 1))).isTrue();
      // The worker's Work stream broke with A; it reconnected, to B.
      await(Duration.ofSeconds(30), "the worker handles on-b from B", () -> handled.contains("on-b"));
      assertThat(client.getStatus(p).getQueuedCount()).isZero();
    }
  }

  @Test
  void anEventStream_resumesOnTheSecondTarget_afterItsLastId() throws Exception {
    String p = ServerExtension.uniqueName("failover-events");
    a.client().createPipeline(ServerExtension.spec(p, 3, 60_000).build());
    b.client().createPipeline(ServerExtension.spec(p, 3, 60_000).build());
    a.client().enqueueBatch(p, batch("a1", 1)); // A's event 1
    for (int i = 1; i <= 3; i++) {
      b.client().enqueueBatch(p, batch("b" + i, i)); // B's events 1, 2, 3
    }
    try (OrchestratorClient client =
            OrchestratorClient.builder().targets(List.of(a.target(), b.target())).build();
        EventStream events = client.watchEvents(p, 0L, List.of())) {
      Event first = events.poll(Duration.ofSeconds(20)).orElseThrow();
      assertThat(first.getEnqueued().getKey()).as("from A").isEqualTo("a1");

      a.afterAll(null);
      aStopped = true;

      // Resumed after id 1, on B: B's event 2. (Independent servers number their own events;
      // the nodes of a cluster give every event the same id, so there nothing is skipped.)
      Event next = events.poll(Duration.ofSeconds(30)).orElseThrow();
      assertThat(next.getEventId()).isEqualTo(2);
      assertThat(next.getEnqueued().getKey()).as("from B").isEqualTo("b2");
      assertThat(events.reconnects()).isPositive();
    }
  }

  @Test
  void onlyDeadTargets_failUnavailable_namingTheRefusal() throws Exception {
    try (OrchestratorClient client =
        OrchestratorClient.builder()
            .targets(List.of("127.0.0.1:" + deadPort(), "127.0.0.1:" + deadPort()))
            .deadline(Duration.ofSeconds(10))
            .retryPolicy(2, Duration.ofMillis(10), Duration.ofMillis(10), 1.0)
            .build()) {
      assertThatThrownBy(() -> client.getStatus("orders"))
          .isInstanceOfSatisfying(
              OrchestratorException.class,
              e -> {
                assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE);
                assertThat(e.getMessage()).containsIgnoringCase("connection refused");
              });
    }
  }

  @Test
  void severalTargets_mustEachBeHostAndPort() {
    assertThatThrownBy(
            () -> OrchestratorClient.builder().targets(List.of("dns:///a:1", "b:2")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("host:port");
  }

  /** A loopback port nobody listens on (bound, then released). */
  private static int deadPort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
