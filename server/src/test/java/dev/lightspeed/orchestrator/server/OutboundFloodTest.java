package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.lightspeed.orchestrator.boot.ProductionOptions;
import dev.lightspeed.orchestrator.durability.Durability;
import dev.lightspeed.orchestrator.grpc.OutboundBudget.Limit;
import dev.lightspeed.orchestrator.grpc.OutboundBudget;
import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.ListBatchesRequest;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Clients that open many calls and never read their replies (issue 15: 1,000 ListBatches calls
 * per connection with a zero flow-control window took the server from 102 MB to 2.4 GB): the
 * server's reply bytes waiting for them stay within the budget, their further calls are refused
 * with RESOURCE_EXHAUSTED, and once they go every byte is released and calls are served again.
 * The flooders are raw HTTP/2 clients with a flow-control window of zero ({@link
 * NonReadingClient}).
 */
class OutboundFloodTest {
  private static final int CALLS_PER_CONNECTION = 100;
  private static final int FLOODERS = 3;

  private OrchestratorServer server;
  private OutboundBudget budget;
  private final List<ManagedChannel> channels = new ArrayList<>();
  private final List<NonReadingClient> flooders = new ArrayList<>();
  private final ListBatchesRequest page =
      ListBatchesRequest.newBuilder().setPipeline("orders").setPageSize(1000).build();

  @AfterEach
  void stop() throws Exception {
    flooders.forEach(NonReadingClient::close);
    for (ManagedChannel c : channels) {
      c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    server.stop(5, TimeUnit.SECONDS);
  }

  /** A server with the budget of {@code flags}, and a pipeline whose one page is ~50 KB. */
  private PipelineClient start(String... flags) throws Exception {
    ProductionOptions options = new ProductionOptions();
    new CommandLine(options).parseArgs(flags);
    var builder = options.nettyServerBuilder("127.0.0.1", 0);
    ServerSettings settings = options.settings(64, null);
    budget = settings.outbound();
    server = new OrchestratorServer(builder, Clock.systemUTC(), Durability.inMemory(), settings)
        .start();
    PipelineClient p = PipelineClient.create(OrchestratorServiceGrpc.newBlockingStub(channel()),
        pipeline("orders", "s").build());
    List<Batch.Builder> batches = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      batches.add(batch("key-" + i + "-" + "k".repeat(120), "s", i + 1));
    }
    p.enqueueAll(batches);
    return p;
  }

  private ManagedChannel channel() {
    ManagedChannel c = NettyChannelBuilder.forAddress("127.0.0.1", server.port())
        .usePlaintext().build();
    channels.add(c);
    return c;
  }

  /** A connection that starts {@code calls} ListBatches calls and never reads a reply. */
  private NonReadingClient flood(int calls) {
    NonReadingClient c = new NonReadingClient(server.port());
    flooders.add(c);
    c.call("/" + OrchestratorServiceGrpc.getListBatchesMethod().getFullMethodName(), page, calls);
    return c;
  }

  private long refusedAtClient() {
    return flooders.stream().mapToLong(f -> f.exhausted.get()).sum();
  }

  /** Waits until both values have not changed for a second (at most 30 s). */
  private static void awaitSettled(LongSupplier a, LongSupplier b) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    long lastA = -1;
    long lastB = -1;
    int stable = 0;
    while (stable < 10 && System.nanoTime() < end) {
      Thread.sleep(100);
      long nowA = a.getAsLong();
      long nowB = b.getAsLong();
      stable = nowA == lastA && nowB == lastB ? stable + 1 : 0;
      lastA = nowA;
      lastB = nowB;
    }
  }

  private void awaitNothingPending() throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (budget.pendingBytes() != 0) {
      if (System.nanoTime() > end) {
        throw new AssertionError(budget.pendingBytes() + " bytes still pending 30 s after the"
            + " flooders left");
      }
      Thread.sleep(20);
    }
  }

  @Test
  void connectionsThatNeverRead_holdAtMostTheirBudget_andTheirExtraCallsAreRefused()
      throws Exception {
    PipelineClient p = start("--max-pending-outbound-bytes-per-connection", "1000000",
        "--max-pending-outbound-bytes", "100000000");
    long reply = p.stub.listBatches(page).getSerializedSize();
    assertThat(reply).as("one page, bigger than grpc's 32 KiB ready threshold").isBetween(
        40_000L, 120_000L);

    for (int i = 0; i < FLOODERS; i++) {
      flood(CALLS_PER_CONNECTION);
    }
    awaitSettled(budget::pendingBytes, () -> budget.refused(Limit.PER_CONNECTION));

    // Without the budget: 3 x 100 replies (~20 MB) wait. With it: each connection stops once
    // it holds 1 MB; the replies of the calls already running when it got there may pass it.
    long bound = FLOODERS * (1_000_000 + 2 * reply);
    assertThat(budget.pendingBytes()).isBetween(FLOODERS * 1_000_000L, bound);
    assertThat(budget.refused(Limit.PER_CONNECTION))
        .isGreaterThanOrEqualTo(FLOODERS * (CALLS_PER_CONNECTION - bound / FLOODERS / reply - 1));
    assertThat(refusedAtClient()).isEqualTo(budget.refused(Limit.PER_CONNECTION));

    // A client that reads is served during the flood, on its own connection.
    assertThat(p.stub.listBatches(page).getBatchesCount()).isEqualTo(300);

    flooders.forEach(NonReadingClient::close);
    awaitNothingPending();
    assertThat(p.stub.listBatches(page).getBatchesCount()).isEqualTo(300);
  }

  @Test
  void whileTheServerHoldsItsWholeBudget_newCallsAreRefused_andServedAgainOnceTheFloodersGo()
      throws Exception {
    PipelineClient p = start("--max-pending-outbound-bytes-per-connection", "1000000",
        "--max-pending-outbound-bytes", "1500000");
    long reply = p.stub.listBatches(page).getSerializedSize();
    for (int i = 0; i < FLOODERS; i++) {
      flood(CALLS_PER_CONNECTION);
    }
    awaitSettled(budget::pendingBytes, () -> budget.refused(Limit.SERVER));
    assertThat(budget.pendingBytes()).as("near the server's budget, not 3 x 100 replies")
        .isBetween(1_500_000L, 1_500_000L + FLOODERS * 2 * reply);
    assertThat(budget.refused(Limit.SERVER)).isPositive();

    Throwable refused = catchThrowable(() -> p.stub.listBatches(page));
    assertThat(Status.fromThrowable(refused).getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(Status.fromThrowable(refused).getDescription())
        .contains("--max-pending-outbound-bytes");

    flooders.forEach(NonReadingClient::close);
    awaitNothingPending();
    assertThat(p.stub.listBatches(page).getBatchesCount()).isEqualTo(300);
  }
}
