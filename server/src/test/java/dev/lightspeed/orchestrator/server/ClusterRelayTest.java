package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static dev.lightspeed.orchestrator.server.RpcErrors.assertRefused;
import static dev.lightspeed.orchestrator.server.RpcErrors.assertStatus;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.host.PipelineRegistry;
import dev.lightspeed.orchestrator.security.TokenFile;
import dev.lightspeed.orchestrator.v1.Event;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.ProcessOutcome;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import dev.lightspeed.orchestrator.v1.WatchEventsRequest;
import dev.lightspeed.orchestrator.v1.WatchEventsResponse;
import dev.lightspeed.orchestrator.v1.WatchStartedRequest;
import dev.lightspeed.orchestrator.v1.WatchStartedResponse;
import dev.lightspeed.orchestrator.v1.WorkResult;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Streams on a node outside the pipeline's Raft group (docs/cluster.md, "Streams on a node outside
 * the pipeline's group"): four nodes, replication factor 3, so one node holds no replica of the
 * one group. Through that node a Work stream, WatchStarted and WatchEvents are relayed to a member
 * and behave as on the member; the member's refusals keep their ErrorInfo; cancelling ends the
 * member's stream; a member going away ends the caller's stream UNAVAILABLE; the caller's token is
 * what the member checks.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ClusterRelayTest extends ClusterTestBase {
  /** The node that holds no replica of group 0 (every pipeline's group here). */
  private String outsider;
  private List<String> members;

  private void startFourNodes(ServerSettings settings, String token) throws Exception {
    startCluster(1, 4, 3, settings, token);
    members = layout.placement().membersOf(0);
    outsider = nodes.keySet().stream().filter(id -> !members.contains(id)).findFirst()
        .orElseThrow();
    assertThat(members).hasSize(3);
  }

  private PipelineClient createOrders(String through) throws InterruptedException {
    PipelineClient[] created = new PipelineClient[1];
    untilAccepted("CreatePipeline once the group has a leader", () ->
        created[0] = PipelineClient.create(stub(through), pipeline("orders", "extract").build()));
    return created[0];
  }

  private Channel channel(String node) {
    return nodes.get(node).channel();
  }

  /** The WatchStarted streams open on the group's members' replicas of "orders". */
  private int watchersOnMembers() {
    int n = 0;
    for (String m : members) {
      Node node = nodes.get(m);
      if (node == null) {
        continue;
      }
      PipelineRegistry replica = node.host().localReplica("orders");
      if (replica != null && replica.exists("orders")) {
        n += replica.get("orders").watcherCount();
      }
    }
    return n;
  }

  /** A WatchStarted stream read into a queue; its end in {@link #ended}. */
  private static final class StartedWatch
      implements ClientResponseObserver<WatchStartedRequest, WatchStartedResponse> {
    final BlockingQueue<StartedBatch> started = new LinkedBlockingQueue<>();
    final CompletableFuture<Void> ended = new CompletableFuture<>();
    ClientCallStreamObserver<WatchStartedRequest> call;

    @Override
    public void beforeStart(ClientCallStreamObserver<WatchStartedRequest> c) {
      call = c;
    }

    @Override
    public void onNext(WatchStartedResponse value) {
      started.add(value.getStarted());
    }

    @Override
    public void onError(Throwable t) {
      ended.completeExceptionally(t);
    }

    @Override
    public void onCompleted() {
      ended.complete(null);
    }

    Throwable endedWith() throws Exception {
      try {
        ended.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        return null;
      } catch (java.util.concurrent.ExecutionException e) {
        return e.getCause();
      }
    }
  }

  private StartedWatch watchStarted(Channel channel) {
    StartedWatch w = new StartedWatch();
    OrchestratorServiceGrpc.newStub(channel).watchStarted(
        WatchStartedRequest.newBuilder().setPipeline("orders").build(), w);
    return w;
  }

  /** The first {@code n} events of "orders" from its first one, read through {@code channel}. */
  private static List<Event> events(Channel channel, int n) {
    io.grpc.Context.CancellableContext context = io.grpc.Context.current().withCancellation();
    try {
      return context.call(() -> {
        Iterator<WatchEventsResponse> events = OrchestratorServiceGrpc.newBlockingStub(channel)
            .withDeadlineAfter(WAIT.toMillis(), TimeUnit.MILLISECONDS)
            .watchEvents(WatchEventsRequest.newBuilder().setPipeline("orders")
                .setAfterEventId(0).build());
        List<Event> out = new ArrayList<>();
        while (out.size() < n) {
          out.add(events.next().getEvent());
        }
        return out;
      });
    } catch (Exception e) {
      throw new AssertionError("reading " + n + " events: " + e, e);
    } finally {
      context.cancel(null);
    }
  }

  @Test
  void aNonMemberRelaysWorkAndWatchStreams_asTheMemberServesThem() throws Exception {
    startFourNodes(ServerSettings.defaults().withMetrics("127.0.0.1", 0), null);
    int outsiderMetrics = nodes.get(outsider).server().metricsPort();
    assertThat(MetricsScrape.of(outsiderMetrics).value("lightspeed_relay_streams_opened_total",
        "method", "Work")).as("a series before the first stream").isZero();
    String member = members.get(0);
    PipelineClient orders = createOrders(member);

    // The Work stream through the outsider: starts, acks with results, a refusal as an error.
    WorkClient worker = WorkClient.open(OrchestratorServiceGrpc.newStub(channel(outsider)),
        "orders", 2, "extract");
    for (int i = 1; i <= 4; i++) {
      orders.enqueue(batch("b" + i, "extract", i));
    }
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      StartedBatch s = worker.nextStarted();
      keys.add(s.getBatch().getKey());
      worker.ack(100 + i, s.getBatch().getKey(), s.getAttempt());
      WorkResult r = worker.nextResult();
      assertThat(r.getRequestId()).isEqualTo(100 + i);
      assertThat(r.getOutcome().getOutcomeCase()).isEqualTo(ProcessOutcome.OutcomeCase.PROCESSED);
    }
    assertThat(keys).containsExactlyInAnyOrder("b1", "b2", "b3", "b4");
    worker.ack(200, "never-enqueued", 1);
    WorkResult refused = worker.nextResult();
    assertThat(refused.getRequestId()).isEqualTo(200);
    assertStatus(refused.getError(), Status.Code.NOT_FOUND, "BATCH_NOT_FOUND");
    worker.halfClose();
    assertThat(worker.endedWith()).as("a half-closed relayed stream ends OK").isNull();
    assertThat(orders.status().getInFlightCount()).isZero();

    // WatchEvents through the outsider: the member's events, with the member's ids.
    // 4 enqueued, 4 started, 4 acked: 12 events at least.
    List<Event> relayed = events(channel(outsider), 12);
    assertThat(relayed).extracting(Event::getEventId).doesNotHaveDuplicates();
    assertThat(relayed).isEqualTo(events(channel(member), 12));

    // A refusal of the member reaches the caller with its ErrorInfo.
    assertRefused(() -> OrchestratorServiceGrpc.newBlockingStub(channel(outsider))
            .withDeadlineAfter(WAIT.toMillis(), TimeUnit.MILLISECONDS)
            .watchEvents(WatchEventsRequest.newBuilder().setPipeline("nope").build()).hasNext(),
        Status.Code.NOT_FOUND, "PIPELINE_NOT_FOUND");
    WorkClient lost = WorkClient.open(OrchestratorServiceGrpc.newStub(channel(outsider)),
        "nope", 1, "extract");
    Throwable end = lost.endedWith();
    assertThat(end).isInstanceOf(StatusRuntimeException.class);
    assertStatus(io.grpc.protobuf.StatusProto.fromThrowable(end), Status.Code.NOT_FOUND,
        "PIPELINE_NOT_FOUND");

    // WatchStarted through the outsider sees starts; cancelling it ends the member's watcher.
    StartedWatch watch = watchStarted(channel(outsider));
    awaitTrue("the relayed watch registered on a member", () -> watchersOnMembers() == 1);
    orders.enqueue(batch("w1", "extract", 10));
    StartedBatch started = orders.startOne("w1");
    StartedBatch seen = watch.started.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(seen).as("the start, seen through the outsider").isNotNull();
    assertThat(seen.getBatch().getKey()).isEqualTo("w1");
    assertThat(seen.getAttempt()).isEqualTo(started.getAttempt());
    watch.call.cancel("the test is done watching", null);
    awaitTrue("the member's watcher ended with the caller's cancel",
        () -> watchersOnMembers() == 0);

    // A member that goes away mid-stream: the caller's stream ends UNAVAILABLE.
    StartedWatch doomed = watchStarted(channel(outsider));
    awaitTrue("the relayed watch registered on a member", () -> watchersOnMembers() == 1);
    String serving = members.stream().filter(m -> {
      PipelineRegistry r = nodes.get(m).host().localReplica("orders");
      return r.get("orders").watcherCount() == 1;
    }).findFirst().orElseThrow();
    nodes.remove(serving).stop();
    Throwable gone = doomed.endedWith();
    assertThat(Status.fromThrowable(gone).getCode()).as("%s", gone)
        .isEqualTo(Status.Code.UNAVAILABLE);

    // Opened again on the outsider, the stream reaches one of the two members still up (the
    // stopped one, first in line if the outsider still takes it for the leader, is passed over).
    StartedWatch again = watchStarted(channel(outsider));
    awaitTrue("the watch opened again on a remaining member", () -> watchersOnMembers() == 1);
    orders = new PipelineClient(stub(members.stream().filter(nodes::containsKey).findFirst()
        .orElseThrow()), "orders");
    PipelineClient later = orders;
    untilAccepted("an enqueue once the group has a leader again",
        () -> later.enqueue(batch("w2", "extract", 11)));
    untilAccepted("a start once the group has a leader again", () -> later.startOne("w2"));
    StartedBatch seenAgain = again.started.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(seenAgain).isNotNull();
    assertThat(seenAgain.getBatch().getKey()).isEqualTo("w2");
    again.call.cancel("done", null);

    // The outsider's /metrics counts what it relayed: the three WatchStarted streams (one lost
    // with its member), the Work streams and WatchEvents streams above; none is left open.
    awaitTrue("the outsider's relayed streams all ended",
        () -> activeRelays(outsiderMetrics) == 0);
    MetricsScrape scrape = MetricsScrape.of(outsiderMetrics);
    assertThat(scrape.value("lightspeed_relay_streams_opened_total", "method", "WatchStarted"))
        .isEqualTo(3);
    assertThat(scrape.value("lightspeed_relay_streams_lost_total", "method", "WatchStarted"))
        .isEqualTo(1);
    assertThat(scrape.value("lightspeed_relay_streams_opened_total", "method", "Work"))
        .isEqualTo(2);
    assertThat(scrape.value("lightspeed_relay_streams_opened_total", "method", "WatchEvents"))
        .isGreaterThanOrEqualTo(2);
    assertThat(scrape.sum("lightspeed_relay_streams_lost_total", "method", "Work")).isZero();
    // The members relayed nothing.
    for (String m : members) {
      if (nodes.containsKey(m)) {
        assertThat(MetricsScrape.of(nodes.get(m).server().metricsPort())
            .sum("lightspeed_relay_streams_opened_total")).as(m).isZero();
      }
    }
  }

  private static double activeRelays(int metricsPort) {
    try {
      return MetricsScrape.of(metricsPort).sum("lightspeed_relay_streams_active");
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void theRelayForwardsTheCallersToken_andAMissingTokenIsRefusedAsOnAMember() throws Exception {
    startFourNodes(ServerSettings.defaults().withTokens(TokenFile.parse(
        AuthTest.ROOT + " producer,worker,admin,reader\n" + AuthTest.READER + " reader",
        "tokens.txt")), AuthTest.ROOT);
    PipelineClient orders = createOrders(members.get(0));
    orders.enqueue(batch("b1", "extract", 1));

    // With the token: served by a member, which only accepts it when the relay forwards it.
    Channel withToken = AuthTest.withHeader(channel(outsider), "Bearer " + AuthTest.ROOT);
    assertThat(events(withToken, 1)).isEqualTo(
        events(AuthTest.withHeader(channel(members.get(1)), "Bearer " + AuthTest.ROOT), 1));
    WorkClient worker = WorkClient.open(OrchestratorServiceGrpc.newStub(withToken), "orders", 1,
        "extract");
    StartedBatch s = worker.nextStarted();
    worker.ack(1, s.getBatch().getKey(), s.getAttempt());
    assertThat(worker.nextResult().getOutcome().hasProcessed()).isTrue();
    worker.halfClose();
    assertThat(worker.endedWith()).isNull();

    // Without a token, or with a reader's for the Work stream: refused as a member refuses them.
    assertRefused(() -> OrchestratorServiceGrpc.newBlockingStub(channel(outsider))
            .withDeadlineAfter(WAIT.toMillis(), TimeUnit.MILLISECONDS)
            .watchEvents(WatchEventsRequest.newBuilder().setPipeline("orders").build()).hasNext(),
        Status.Code.UNAUTHENTICATED, "MISSING_CREDENTIALS");
    WorkClient reader = WorkClient.open(OrchestratorServiceGrpc.newStub(
        AuthTest.withHeader(channel(outsider), "Bearer " + AuthTest.READER)), "orders", 1,
        "extract");
    Throwable end = reader.endedWith();
    assertStatus(io.grpc.protobuf.StatusProto.fromThrowable(end), Status.Code.PERMISSION_DENIED,
        "ROLE_REQUIRED");
  }

  @Test
  void underMutualTls_theRelayDialsMembersWithTheNodesOwnCertificate(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path certs) throws Exception {
    TestCertificates.Authority ca = TestCertificates.authority(certs, "cluster-ca");
    java.util.Map<String, TestCertificates.Issued> own = new java.util.HashMap<>();
    for (int i = 1; i <= 4; i++) {
      own.put("n" + i, TestCertificates.node(certs, ca, "n" + i));
    }
    TestCertificates.Issued caller = TestCertificates.client(certs, ca, "caller");
    apiTls = id -> {
      try {
        return io.grpc.TlsServerCredentials.newBuilder()
            .keyManager(own.get(id).certFile().toFile(), own.get(id).keyFile().toFile())
            .trustManager(ca.certFile().toFile())
            .clientAuth(io.grpc.TlsServerCredentials.ClientAuth.REQUIRE).build();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    };
    apiClientTls = id -> {
      try {
        return dev.lightspeed.orchestrator.grpc.MemberChannels.tls(caller.certFile().toFile(),
            caller.keyFile().toFile(), ca.certFile().toFile());
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    };
    // As ClusterBoot sets it from --tls-cert, --tls-key and --tls-client-ca.
    nodeSettings = (id, s) -> {
      try {
        return s.withMemberCredentials(dev.lightspeed.orchestrator.grpc.MemberChannels.tls(
            own.get(id).certFile().toFile(), own.get(id).keyFile().toFile(),
            ca.certFile().toFile()));
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    };
    startFourNodes(ServerSettings.defaults(), null);
    PipelineClient orders = createOrders(members.get(0));
    orders.enqueue(batch("b1", "extract", 1));
    assertThat(events(channel(outsider), 1)).isEqualTo(events(channel(members.get(0)), 1));
  }
}
