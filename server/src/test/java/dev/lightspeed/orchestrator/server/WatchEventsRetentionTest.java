package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static dev.lightspeed.orchestrator.server.RpcErrors.assertRefused;
import static dev.lightspeed.orchestrator.server.RpcErrors.errorInfo;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.host.Limits;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceBlockingStub;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import dev.lightspeed.orchestrator.v1.WatchEventsRequest;
import dev.lightspeed.orchestrator.v1.WatchEventsResponse;
import io.grpc.Status;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** --event-retention 200: a resume id older than the retained events is EVENTS_EXPIRED. */
class WatchEventsRetentionTest {
  @RegisterExtension
  final GrpcServerExtension grpc =
      GrpcServerExtension.inProcess().settings(s -> s.withLimits(new Limits(1000, 8, 1000, 200)));

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

  private void lifecycle(String key) {
    p.enqueue(batch(key, "extract", 0));
    StartedBatch s = p.startOne(key);
    p.ack(key, s.getAttempt());
  }

  @Test
  void anExpiredResumeId_isOutOfRangeEventsExpired_withTheOldestId() {
    for (int i = 0; i < 70; i++) { // 210 events, 200 retained: the oldest is 11
      lifecycle("k" + i);
    }
    var status = assertRefused(
        () -> watch(WatchEventsRequest.newBuilder().setAfterEventId(9)).hasNext(),
        Status.Code.OUT_OF_RANGE, "EVENTS_EXPIRED");
    assertThat(errorInfo(status).getMetadataMap()).containsEntry("oldest_event_id", "11");
    // resuming right before the oldest retained one works
    assertThat(watch(WatchEventsRequest.newBuilder().setAfterEventId(10)).next()
        .getEvent().getEventId()).isEqualTo(11);
  }

}
