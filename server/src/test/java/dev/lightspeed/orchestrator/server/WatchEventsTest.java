package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static dev.lightspeed.orchestrator.server.RpcErrors.assertRefused;
import static dev.lightspeed.orchestrator.server.RpcErrors.errorInfo;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.host.Limits;
import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.Event;
import dev.lightspeed.orchestrator.v1.EventType;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceBlockingStub;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import dev.lightspeed.orchestrator.v1.WatchEventsRequest;
import dev.lightspeed.orchestrator.v1.WatchEventsResponse;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * WatchEvents over Netty with a watch buffer of 16: live events, resuming with no gap and no
 * duplicate, the type filter, bad requests, and a slow consumer that is cut off and resumes from
 * its last id. (EVENTS_EXPIRED: {@link WatchEventsRetentionTest}.)
 */
class WatchEventsTest {
  private static final int WATCH_BUFFER = 16;
  private static final int RETENTION = 10_000;

  @RegisterExtension
  final GrpcServerExtension grpc =
      GrpcServerExtension.netty()
          .watchBufferCapacity(WATCH_BUFFER)
          .settings(s -> s.withLimits(new Limits(1000, 8, 1000, RETENTION)));

  private OrchestratorServiceBlockingStub stub;
  private PipelineClient p;

  @BeforeEach
  void setUp() {
    stub = grpc.blocking();
    p = PipelineClient.create(stub, pipeline("orders", "extract").build());
  }

  private Iterator<WatchEventsResponse> watch(WatchEventsRequest.Builder req) {
    return stub.withDeadlineAfter(30, TimeUnit.SECONDS).watchEvents(req.setPipeline("orders").build());
  }

  private static List<Event> take(Iterator<WatchEventsResponse> it, int n) {
    List<Event> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(it.next().getEvent());
    }
    return out;
  }

  /** One life cycle: ENQUEUED, STARTED, ACKED (three events). */
  private void lifecycle(String key) {
    p.enqueue(batch(key, "extract", 0));
    StartedBatch s = p.startOne(key);
    p.ack(key, s.getAttempt());
  }

  @Test
  void fromZero_replaysEveryEvent_thenTheLiveOnes_inIdOrder() {
    lifecycle("a");
    Iterator<WatchEventsResponse> it = watch(WatchEventsRequest.newBuilder().setAfterEventId(0));
    List<Event> replayed = take(it, 3);
    assertThat(replayed).extracting(Event::getEventId).containsExactly(1L, 2L, 3L);
    assertThat(replayed).extracting(Event::getPayloadCase).containsExactly(
        Event.PayloadCase.ENQUEUED, Event.PayloadCase.STARTED, Event.PayloadCase.ACKED);
    assertThat(replayed.get(0).getEnqueued().getKey()).isEqualTo("a");
    lifecycle("b");
    assertThat(take(it, 3)).extracting(Event::getEventId).containsExactly(4L, 5L, 6L);
  }

  @Test
  void withoutAfterEventId_onlyNewEventsArrive() throws Exception {
    lifecycle("a");
    Iterator<WatchEventsResponse> it = watch(WatchEventsRequest.newBuilder());
    // The headers are sent once the stream is registered; hasNext would block, so make an event
    // until one arrives (a bounded loop: the first one after registration is delivered).
    CompletableFuture<Event> first = CompletableFuture.supplyAsync(() -> it.next().getEvent());
    for (int i = 0; i < 100 && !first.isDone(); i++) {
      p.apply(Fixtures.resume());
      Thread.sleep(20);
    }
    Event e = first.get(30, TimeUnit.SECONDS);
    assertThat(e.getEventId()).isGreaterThan(3);
    assertThat(e.hasActionApplied()).isTrue();
  }

  @Test
  void theTypeFilter_keepsOnlyThoseTypes() {
    lifecycle("a");
    lifecycle("b");
    Iterator<WatchEventsResponse> it = watch(WatchEventsRequest.newBuilder().setAfterEventId(0)
        .addTypes(EventType.EVENT_TYPE_ACKED));
    assertThat(take(it, 2)).extracting(Event::getEventId).containsExactly(3L, 6L);
  }

  @Test
  void badRequests_areInvalidRequestOrNotFound() {
    assertRefused(() -> watch(WatchEventsRequest.newBuilder().setAfterEventId(-1)).hasNext(),
        Status.Code.INVALID_ARGUMENT, "INVALID_REQUEST");
    assertRefused(() -> watch(WatchEventsRequest.newBuilder().setAfterEventId(99)).hasNext(),
        Status.Code.INVALID_ARGUMENT, "INVALID_REQUEST");
    assertRefused(() -> watch(WatchEventsRequest.newBuilder().setAfterEventId(0)
            .addTypes(EventType.EVENT_TYPE_UNSPECIFIED)).hasNext(),
        Status.Code.INVALID_ARGUMENT, "INVALID_REQUEST");
    assertRefused(() -> stub.watchEvents(
            WatchEventsRequest.newBuilder().setPipeline("nope").build()).hasNext(),
        Status.Code.NOT_FOUND, "PIPELINE_NOT_FOUND");
  }

  /** A WatchEvents call with manual flow control: it reads only what the test requests. */
  private static final class ManualWatch extends ClientCall.Listener<WatchEventsResponse> {
    final ConcurrentLinkedQueue<Event> received = new ConcurrentLinkedQueue<>();
    final CompletableFuture<com.google.rpc.Status> closed = new CompletableFuture<>();

    @Override
    public void onMessage(WatchEventsResponse message) {
      received.add(message.getEvent());
    }

    @Override
    public void onClose(Status status, Metadata trailers) {
      closed.complete(StatusProto.fromStatusAndTrailers(status, trailers));
    }
  }

  @Test
  void aSlowConsumer_isCutOff_andResumesFromItsLastId_missingNothing() throws Exception {
    ManagedChannel slowChannel = grpc.newNettyChannel(b -> b.flowControlWindow(16 * 1024));
    ClientCall<WatchEventsRequest, WatchEventsResponse> call =
        slowChannel.newCall(OrchestratorServiceGrpc.getWatchEventsMethod(), CallOptions.DEFAULT);
    ManualWatch slow = new ManualWatch();
    call.start(slow, new Metadata());
    call.sendMessage(WatchEventsRequest.newBuilder().setPipeline("orders").setAfterEventId(0)
        .build());
    call.halfClose();
    call.request(5); // reads five, then stops reading

    // Lifecycles of 3 events, in groups of 4 (12 events per group, under the buffer of 16), until
    // the stuck consumer is cut off: the transport absorbs some hundreds of messages first.
    int lifecycles = 0;
    while (!slow.closed.isDone() && lifecycles < 3_000) {
      List<Batch.Builder> group = new ArrayList<>();
      for (int j = 0; j < 4; j++) {
        group.add(batch("b" + (lifecycles + j), "extract", 0));
      }
      p.enqueueAll(group);
      p.ackAll(p.start(4, "extract"));
      lifecycles += 4;
    }
    long lastId = lifecycles * 3L;
    call.request(Integer.MAX_VALUE);
    com.google.rpc.Status end = slow.closed.get(30, TimeUnit.SECONDS);
    RpcErrors.assertStatus(end, Status.Code.RESOURCE_EXHAUSTED, "WATCH_BUFFER_FULL");

    List<Long> ids = new ArrayList<>();
    slow.received.forEach(e -> ids.add(e.getEventId()));
    assertThat(ids).as("a prefix 1..n").isNotEmpty();
    for (int i = 0; i < ids.size(); i++) {
      assertThat(ids.get(i)).isEqualTo(i + 1L);
    }
    long resumeAfter = ids.get(ids.size() - 1);
    assertThat(resumeAfter).isLessThan(lastId);

    Iterator<WatchEventsResponse> resumed =
        watch(WatchEventsRequest.newBuilder().setAfterEventId(resumeAfter));
    List<Event> rest = take(resumed, (int) (lastId - resumeAfter));
    for (int i = 0; i < rest.size(); i++) {
      assertThat(rest.get(i).getEventId()).as("no gap, no duplicate").isEqualTo(resumeAfter + 1 + i);
    }
    lifecycle("after");
    assertThat(take(resumed, 3)).extracting(Event::getEventId)
        .containsExactly(lastId + 1, lastId + 2, lastId + 3);
  }
}
