package dev.lightspeed.orchestrator.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.Event;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.WatchEventsRequest;
import dev.lightspeed.orchestrator.v1.WatchEventsResponse;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link StreamRelay} against a stand-in member (a gRPC server whose WatchEvents the test
 * controls) over real loopback connections: the relay asks the member for messages only as fast
 * as the caller reads them, and a member whose connection is lost mid-stream ends the caller's
 * stream UNAVAILABLE with the relay's message. (ClusterRelayTest runs it between cluster nodes.)
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StreamRelayTest {
  /** Messages the stand-in sends on a "flood" watch, {@link #KEY_BYTES} each. */
  private static final int FLOOD = 2_000;
  private static final int KEY_BYTES = 32 * 1024;
  /** Messages of a "small" watch (the cost figure), {@link #SMALL_BYTES} each. */
  private static final int SMALL = 100_000;
  private static final int SMALL_BYTES = 100;

  private final AtomicInteger sent = new AtomicInteger();
  private volatile boolean waitingForReady;
  private volatile boolean finished;
  private final CompletableFuture<Void> memberCancelled = new CompletableFuture<>();

  private Server member;
  private Server relaying;
  private MemberChannels channels;
  private ManagedChannel caller;

  @AfterEach
  void stop() throws Exception {
    if (caller != null) {
      caller.shutdownNow();
    }
    if (relaying != null) {
      relaying.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (channels != null) {
      channels.close();
    }
    if (member != null) {
      member.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** The stand-in member: "flood" sends {@link #FLOOD} messages as fast as it may; else one. */
  private final class Member extends OrchestratorServiceGrpc.OrchestratorServiceImplBase {
    @Override
    public void watchEvents(WatchEventsRequest req, StreamObserver<WatchEventsResponse> out) {
      ServerCallStreamObserver<WatchEventsResponse> call =
          (ServerCallStreamObserver<WatchEventsResponse>) out;
      call.setOnCancelHandler(() -> memberCancelled.complete(null));
      boolean small = req.getPipeline().equals("small");
      if (!small && !req.getPipeline().equals("flood")) {
        out.onNext(event(1, "one"));
        return; // and stays open
      }
      String key = "k".repeat(small ? SMALL_BYTES : KEY_BYTES);
      int total = small ? SMALL : FLOOD;
      Runnable pump = new Runnable() {
        @Override
        public synchronized void run() {
          while (sent.get() < total) {
            if (!call.isReady()) {
              waitingForReady = true;
              return;
            }
            waitingForReady = false;
            out.onNext(event(sent.incrementAndGet(), key));
          }
          if (!finished) {
            finished = true;
            out.onCompleted();
          }
        }
      };
      call.setOnReadyHandler(pump);
      pump.run();
    }
  }

  private static WatchEventsResponse event(long id, String key) {
    return WatchEventsResponse.newBuilder().setEvent(Event.newBuilder().setEventId(id)
        .setEnqueued(Batch.newBuilder().setKey(key))).build();
  }

  /** A routing that holds no replica of any pipeline and names the stand-in as the member. */
  private static ClusterRouting outsideTheGroup(List<ClusterRouting.Member> members) {
    return (ClusterRouting) Proxy.newProxyInstance(ClusterRouting.class.getClassLoader(),
        new Class<?>[] {ClusterRouting.class}, (proxy, method, args) -> switch (method.getName()) {
          case "localReplica" -> null;
          case "relayOrder" -> members;
          case "membersOf" -> members.stream().map(ClusterRouting.Member::id).toList();
          case "groupOf" -> 0;
          default -> throw new UnsupportedOperationException(method.getName());
        });
  }

  private void start() throws Exception {
    start(null);
  }

  /** With {@code frozen} (when not null) as the first member in the relay's order. */
  private void start(String frozen) throws Exception {
    member = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(new Member()).build().start();
    channels = new MemberChannels(null);
    List<ClusterRouting.Member> order = new java.util.ArrayList<>();
    if (frozen != null) {
      order.add(new ClusterRouting.Member("frozen", frozen));
    }
    order.add(new ClusterRouting.Member("m1", "127.0.0.1:" + member.getPort()));
    StreamRelay relay = new StreamRelay(outsideTheGroup(order), channels);
    relaying = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(ServerInterceptors.intercept(
            new OrchestratorServiceGrpc.OrchestratorServiceImplBase() {}, relay))
        .build().start();
    caller = NettyChannelBuilder.forAddress("127.0.0.1", relaying.getPort()).usePlaintext()
        .build();
  }

  /** A caller that reads only what it asks for. */
  private static final class Reader
      implements ClientResponseObserver<WatchEventsRequest, WatchEventsResponse> {
    final AtomicInteger received = new AtomicInteger();
    final CompletableFuture<Void> ended = new CompletableFuture<>();
    ClientCallStreamObserver<WatchEventsRequest> call;

    @Override
    public void beforeStart(ClientCallStreamObserver<WatchEventsRequest> c) {
      call = c;
      c.disableAutoRequestWithInitial(0);
    }

    @Override
    public void onNext(WatchEventsResponse value) {
      received.incrementAndGet();
    }

    @Override
    public void onError(Throwable t) {
      ended.completeExceptionally(t);
    }

    @Override
    public void onCompleted() {
      ended.complete(null);
    }
  }

  private static void awaitTrue(String what, java.util.function.BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("within 20 s: %s", what).isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  @Test
  void aCallerThatReadsNothing_stopsTheMembersStream_andReadingResumesIt() throws Exception {
    start();
    Reader reader = new Reader();
    OrchestratorServiceGrpc.newStub(caller)
        .watchEvents(WatchEventsRequest.newBuilder().setPipeline("flood").build(), reader);
    // The member sends until its transport is not ready and stays there (the count stops), or
    // sends everything (a relay that reads the member regardless of its caller).
    int[] last = {-1};
    long[] stableSince = {System.nanoTime()};
    awaitTrue("the member blocked or finished", () -> {
      int now = sent.get();
      if (now != last[0]) {
        last[0] = now;
        stableSince[0] = System.nanoTime();
        return finished;
      }
      return finished || waitingForReady
          && System.nanoTime() - stableSince[0] > TimeUnit.MILLISECONDS.toNanos(500);
    });
    System.out.println("relay flow control: the member sent " + sent.get() + " of " + FLOOD
        + " messages of " + KEY_BYTES + " bytes to a caller that read none");
    assertThat(finished).as("the member finished a stream nobody read").isFalse();
    assertThat(sent.get()).as("messages sent toward a caller that read none")
        .isLessThan(FLOOD / 2);
    assertThat(reader.received.get()).isZero();

    reader.call.request(Integer.MAX_VALUE);
    reader.ended.get(30, TimeUnit.SECONDS);
    assertThat(reader.received.get()).isEqualTo(FLOOD);
  }

  @Test
  void aMemberLostMidStream_endsTheCallersStreamUnavailableSayingWhatToDo() throws Exception {
    start();
    Reader reader = new Reader();
    OrchestratorServiceGrpc.newStub(caller)
        .watchEvents(WatchEventsRequest.newBuilder().setPipeline("orders").build(), reader);
    reader.call.request(10);
    awaitTrue("the member's first message", () -> reader.received.get() == 1);
    member.shutdownNow();
    Throwable end = null;
    try {
      reader.ended.get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      end = e.getCause();
    }
    Status status = Status.fromThrowable(end);
    assertThat(status.getCode()).as("%s", end).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(status.getDescription()).contains("relayed the stream to node 'm1'")
        .contains("Open the stream again").contains("after_event_id");
  }

  @Test
  void aCallerThatCancels_cancelsTheMembersStream() throws Exception {
    start();
    Reader reader = new Reader();
    OrchestratorServiceGrpc.newStub(caller)
        .watchEvents(WatchEventsRequest.newBuilder().setPipeline("orders").build(), reader);
    reader.call.request(10);
    awaitTrue("the member's first message", () -> reader.received.get() == 1);
    reader.call.cancel("the caller is done", null);
    memberCancelled.get(20, TimeUnit.SECONDS);
  }

  /**
   * Not a check: prints what the hop costs, relayed against direct, for a stream of small
   * messages read as fast as they come (alternating runs; the machine's load varies). A
   * measurement, so not part of `make test`: {@code mvn -pl server test -Dtest=StreamRelayTest
   * -Drelay.cost=true}.
   */
  @Test
  @org.junit.jupiter.api.condition.EnabledIfSystemProperty(named = "relay.cost", matches = "true")
  void theHopsCost_printed() throws Exception {
    start();
    ManagedChannel direct = NettyChannelBuilder.forAddress("127.0.0.1", member.getPort())
        .usePlaintext().build();
    try {
      for (int round = 0; round < 3; round++) {
        for (ManagedChannel via : List.of(direct, caller)) {
          sent.set(0);
          finished = false;
          Reader reader = new Reader();
          long t0 = System.nanoTime();
          OrchestratorServiceGrpc.newStub(via)
              .watchEvents(WatchEventsRequest.newBuilder().setPipeline("small").build(), reader);
          reader.call.request(Integer.MAX_VALUE);
          reader.ended.get(60, TimeUnit.SECONDS);
          double s = (System.nanoTime() - t0) / 1e9;
          assertThat(reader.received.get()).isEqualTo(SMALL);
          System.out.printf("relay cost: %s %d messages of %d bytes in %.2f s = %.0f msgs/s%n",
              via == direct ? "direct " : "relayed", SMALL, SMALL_BYTES, s, SMALL / s);
        }
      }
    } finally {
      direct.shutdownNow();
    }
  }

  @Test
  void aMemberThatAcceptsButNeverAnswers_isPassedOverAfterTheOpenWait() throws Exception {
    // A frozen process: the kernel accepts its connections, nothing answers the handshake.
    try (java.net.ServerSocket frozen = new java.net.ServerSocket(0, 50,
        java.net.InetAddress.getLoopbackAddress())) {
      start("127.0.0.1:" + frozen.getLocalPort());
      Reader reader = new Reader();
      long t0 = System.nanoTime();
      OrchestratorServiceGrpc.newStub(caller)
          .watchEvents(WatchEventsRequest.newBuilder().setPipeline("orders").build(), reader);
      reader.call.request(10);
      awaitTrue("the next member's first message", () -> reader.received.get() == 1);
      assertThat(System.nanoTime() - t0).as("passed over after the open wait")
          .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(StreamRelay.OPEN_WAIT_MS));
    }
  }
}
