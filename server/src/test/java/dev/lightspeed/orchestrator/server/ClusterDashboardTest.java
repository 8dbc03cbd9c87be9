package dev.lightspeed.orchestrator.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.cluster.ClusterLayout;
import dev.lightspeed.orchestrator.dashboard.DashboardHttpServer;
import dev.lightspeed.orchestrator.v1.ClusterConfig;
import dev.lightspeed.orchestrator.v1.ClusterPeer;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.WatchEventsRequest;
import dev.lightspeed.orchestrator.v1.WatchEventsResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The dashboard's HTTP port on cluster nodes (docs/dashboard.md, "On a cluster node"): the
 * port serves the node's own cluster service behind the same interceptors (as ClusterBoot
 * builds it), so the page's calls are a client's calls: writes replicated through the pipeline's
 * group, reads linearizable wherever they arrive, and the event feed (WatchEvents) served from the
 * node's own replica, or refused, naming the group's nodes, by a node that holds none.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClusterDashboardTest extends ClusterTestBase {
  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final Map<String, DashboardHttpServer> http = new LinkedHashMap<>();

  @AfterEach
  void stopHttp() {
    http.values().forEach(DashboardHttpServer::close);
  }

  private void startDashboards() {
    nodes.forEach((id, node) -> http.put(id, new DashboardHttpServer(node.server().httpService(),
        null, "127.0.0.1", 0, null, null, null, 4 << 20).start()));
  }

  private HttpResponse<String> post(String node, String method, String body) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
            + http.get(node).port() + "/lightspeed.orchestrator.v1.OrchestratorService/" + method))
        .header("Content-Type", "application/json")
        .timeout(Duration.ofSeconds(30))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> ok(String node, String method, String body) throws Exception {
    HttpResponse<String> r = post(node, method, body);
    assertThat(r.statusCode()).as("%s through %s: %s", method, node, r.body()).isEqualTo(200);
    return r;
  }

  @Test
  void theDashboardsJsonCallsAnswerOnEveryNodeThroughTheCluster() throws Exception {
    startCluster(2);
    startDashboards();
    // The first write waits for the group's first leader.
    awaitTrue("CreatePipeline through n1's dashboard", () -> {
      try {
        return post("n1", "CreatePipeline", "{\"spec\":{\"name\":\"orders\",\"stages\":"
            + "[\"load\"],\"allowUnboundStages\":true}}").statusCode() == 200;
      } catch (Exception e) {
        return false;
      }
    });
    ok("n2", "EnqueueBatch", "{\"pipeline\":\"orders\",\"batch\":{\"key\":\"b1\",\"stage\":"
        + "\"load\",\"records\":5,\"idempotencyKey\":\"idem-b1\",\"sequence\":1}}");
    ok("n3", "ApplyAction", "{\"pipeline\":\"orders\",\"action\":{\"pause\":{}}}");
    for (String id : nodes.keySet()) {
      // Linearizable: each node's page sees the writes made through the others at once.
      String status = ok(id, "GetStatus", "{\"pipeline\":\"orders\"}").body();
      assertThat(status).as(id).contains("\"queuedCount\":\"1\"").contains("PAUSED");
      assertThat(ok(id, "ListPipelines", "{}").body()).as(id).contains("\"name\":\"orders\"");
      assertThat(ok(id, "GetPipeline", "{\"name\":\"orders\"}").body()).as(id)
          .contains("\"stages\":[\"load\"]");
      assertThat(ok(id, "ListBatches", "{\"pipeline\":\"orders\"}").body()).as(id)
          .contains("\"key\":\"b1\"");
      assertThat(ok(id, "ListAuditLog", "{\"pipeline\":\"orders\"}").body()).as(id)
          .contains("pipeline paused");
      for (String list : new String[] {"ListRetries", "ListDeadLetters", "ListRuns"}) {
        ok(id, list, "{\"pipeline\":\"orders\"}");
      }
      assertThat(client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
              + http.get(id).port() + "/")).build(), HttpResponse.BodyHandlers.ofString())
          .body()).as("the page").contains("<html");
    }
    // Refusals as on one node, through the page's port too.
    HttpResponse<String> missing = post("n2", "GetStatus", "{\"pipeline\":\"nope\"}");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(missing.body()).contains("PIPELINE_NOT_FOUND");

    // The event feed: from each node's own replica, the same events with the same ids.
    String firstEvents = null;
    for (String id : nodes.keySet()) {
      ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", http.get(id).port())
          .usePlaintext().build();
      try {
        Iterator<WatchEventsResponse> events = OrchestratorServiceGrpc.newBlockingStub(ch)
            .withDeadlineAfter(30, TimeUnit.SECONDS)
            .watchEvents(WatchEventsRequest.newBuilder().setPipeline("orders")
                .setAfterEventId(0).build());
        StringBuilder seen = new StringBuilder();
        for (int i = 0; i < 2; i++) { // the first events: enqueued, then the pause
          WatchEventsResponse e = events.next();
          seen.append(e.getEvent().getEventId()).append(":").append(e.getEvent().getPayloadCase())
              .append(' ');
        }
        if (firstEvents == null) {
          firstEvents = seen.toString();
        }
        assertThat(seen.toString()).as("events through %s's dashboard port", id)
            .isEqualTo(firstEvents);
      } finally {
        ch.shutdownNow();
      }
    }
  }

  @Test
  void aNodeWithoutAReplicaRelaysTheEventFeedFromAMember() throws Exception {
    // One replica per group: two of the three nodes hold no replica of a pipeline.
    ClusterConfig.Builder config = ClusterConfig.newBuilder().setName("test").setGroups(1)
        .setReplicationFactor(1);
    for (int i = 1; i <= 3; i++) {
      config.addPeers(ClusterPeer.newBuilder().setId("n" + i)
          .setRaftAddress("127.0.0.1:" + freePort()).setApiAddress("127.0.0.1:" + freePort()));
    }
    layout = new ClusterLayout(config.build());
    for (ClusterPeer peer : layout.config().getPeersList()) {
      startNode(peer.getId(), ServerSettings.defaults(), null);
    }
    startDashboards();
    String member = layout.placement().membersOf(0).get(0);
    String other = nodes.keySet().stream().filter(id -> !id.equals(member)).findFirst()
        .orElseThrow();
    awaitTrue("CreatePipeline through " + other + "'s dashboard", () -> {
      try {
        return post(other, "CreatePipeline", "{\"spec\":{\"name\":\"orders\",\"stages\":"
            + "[\"load\"],\"allowUnboundStages\":true}}").statusCode() == 200;
      } catch (Exception e) {
        return false;
      }
    });
    // Reads are routed to the group wherever they arrive ...
    assertThat(ok(other, "GetStatus", "{\"pipeline\":\"orders\"}").body())
        .contains("PIPELINE_MODE_RUNNING");
    // ... and so is the event feed: a node without a replica relays a member's (StreamRelay).
    nodes.get(member).stub().enqueueBatch(dev.lightspeed.orchestrator.v1.EnqueueBatchRequest
        .newBuilder().setPipeline("orders").setBatch(Fixtures.batch("b1", "load", 1)).build());
    ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", http.get(other).port())
        .usePlaintext().build();
    io.grpc.Context.CancellableContext watching = io.grpc.Context.current().withCancellation();
    try {
      WatchEventsResponse relayed = watching.call(() -> OrchestratorServiceGrpc
          .newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS)
          .watchEvents(WatchEventsRequest.newBuilder().setPipeline("orders").setAfterEventId(0)
              .build()).next());
      WatchEventsResponse onMember = watching.call(() -> OrchestratorServiceGrpc
          .newBlockingStub(nodes.get(member).channel()).withDeadlineAfter(30, TimeUnit.SECONDS)
          .watchEvents(WatchEventsRequest.newBuilder().setPipeline("orders").setAfterEventId(0)
              .build()).next());
      assertThat(relayed.getEvent().getEnqueued().getKey()).isEqualTo("b1");
      assertThat(relayed).isEqualTo(onMember);
    } finally {
      watching.cancel(null);
      ch.shutdownNow();
    }
  }
}
