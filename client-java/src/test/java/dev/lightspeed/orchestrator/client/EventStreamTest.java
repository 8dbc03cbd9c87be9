package dev.lightspeed.orchestrator.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.lightspeed.orchestrator.client.errors.ErrorReason;
import dev.lightspeed.orchestrator.client.errors.OrchestratorException;
import dev.lightspeed.orchestrator.v1.AckItem;
import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.Event;
import dev.lightspeed.orchestrator.v1.EventType;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * OrchestratorClient.watchEvents against a real server with a watch buffer of 4: a reader that
 * stalls is cut off by the server, and the stream resumes by itself from its last id, so the
 * reader still sees every event once, in id order.
 */
class EventStreamTest {
  @RegisterExtension static final ServerExtension server = new ServerExtension(4);

  private final OrchestratorClient client = server.client();

  /** {@code n} life cycles in groups of 50: 3 events each (ENQUEUED, STARTED, ACKED). */
  private void lifecycles(String pipeline, String prefix, int n) {
    for (int i = 0; i < n; i += 50) {
      List<Batch> group = new ArrayList<>();
      for (int j = i; j < Math.min(n, i + 50); j++) {
        group.add(ServerExtension.batch(prefix + j, 0));
      }
      client.enqueueBatches(pipeline, group);
      List<AckItem> acks = new ArrayList<>();
      for (StartedBatch s : client.startAvailable(pipeline, 0)) {
        acks.add(AckItem.newBuilder().setKey(s.getBatch().getKey()).setAttempt(s.getAttempt()).build());
      }
      client.ackBatches(pipeline, acks);
    }
  }

  @Test
  void aStalledReader_isCutOff_andTheStreamResumesByItself_missingNothing() throws Exception {
    String pipeline = server.createPipeline("events", 3, 30_000);
    try (EventStream events = client.watchEvents(pipeline, 0L, List.of())) {
      lifecycles(pipeline, "a", 1);
      assertThat(events.next().getEventId()).isEqualTo(1);
      // The reader stalls while 4,500 events happen: far more than the transport and the
      // server's buffer of 4 hold, so the server cuts the stream off.
      lifecycles(pipeline, "b", 1_500);
      long last = 3 + 1_500 * 3;
      long expected = 2;
      while (expected <= last) {
        Event e = events.poll(Duration.ofSeconds(30)).orElseThrow(
            () -> new AssertionError("no event within 30 s"));
        assertThat(e.getEventId()).as("no gap, no duplicate").isEqualTo(expected);
        expected++;
      }
      assertThat(events.reconnects()).as("it was cut off and resumed").isPositive();
      assertThat(events.lastEventId()).isEqualTo(last);
    }
  }

  @Test
  void theTypeFilter_andAnUnknownPipeline() {
    String pipeline = server.createPipeline("events-filter", 3, 30_000);
    lifecycles(pipeline, "a", 2);
    try (EventStream acked = client.watchEvents(pipeline, 0L, List.of(EventType.EVENT_TYPE_ACKED))) {
      // enqueued 1, 2; started 3, 4; acked 5, 6 (one group)
      assertThat(acked.next().getEventId()).isEqualTo(5);
      assertThat(acked.next().getEventId()).isEqualTo(6);
    }
    try (EventStream none = client.watchEvents("no-such-pipeline", 0L, List.of())) {
      OrchestratorException e = catchThrowableOfType(OrchestratorException.class, none::hasNext);
      assertThat(e.reason()).isEqualTo(ErrorReason.PIPELINE_NOT_FOUND);
    }
  }
}
