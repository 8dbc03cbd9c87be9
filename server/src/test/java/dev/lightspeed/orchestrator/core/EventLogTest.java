package dev.lightspeed.orchestrator.core;

import static dev.lightspeed.orchestrator.core.Fixtures.assertRefused;
import static dev.lightspeed.orchestrator.core.Fixtures.batch;
import static dev.lightspeed.orchestrator.core.Fixtures.enqueue;
import static dev.lightspeed.orchestrator.core.Fixtures.runtime;
import static dev.lightspeed.orchestrator.core.Fixtures.runtimeWithBoundary;
import static dev.lightspeed.orchestrator.core.Fixtures.spec;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** SPEC 3.10: which call appends which events, in which order, with which ids and payloads. */
class EventLogTest {

  private static List<EventType> types(PipelineRuntime rt, long after) {
    return rt.queries().eventsAfter(after).stream().map(Event::type).toList();
  }

  @Test
  void aNewPipeline_hasNoEvents_andNextIdOne() {
    PipelineRuntime rt = runtime();
    assertThat(rt.queries().eventsAfter(0)).isEmpty();
    assertThat(rt.queries().nextEventId()).isEqualTo(1);
    assertThat(rt.queries().oldestEventId()).isEqualTo(1);
  }

  @Test
  void aLifeCycle_appendsEnqueuedStartedAcked_withIdsOneTwoThree_atTheCallsNow() {
    PipelineRuntime rt = runtime();
    Batch b = batch("a", 3, 0);
    enqueue(rt, b, 10);
    StartedBatch started = rt.startAvailable(20).started().get(0);
    ProcessOutcome.Processed acked = rt.ackBatch("a", 1, 30);
    assertThat(rt.queries().eventsAfter(0))
        .containsExactly(
            new Event(1, 10, EventType.ENQUEUED, b),
            new Event(2, 20, EventType.STARTED, started),
            new Event(3, 30, EventType.ACKED, acked.result()));
  }

  @Test
  void refusedCalls_deduplicatedEnqueues_repeatedAcks_andLeaseExtensions_appendNothing() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("a", 1, 0), 0);
    rt.startAvailable(0);
    rt.ackBatch("a", 1, 0);
    long next = rt.queries().nextEventId();
    assertThat(rt.enqueueBatch(batch("a", 1, 0), 1)).isTrue(); // deduplicated
    rt.ackBatch("a", 1, 2); // idempotent repeat
    assertRefused(rt, Reason.INVALID_BATCH, () -> rt.enqueueBatch(batch("", 1, 0), 3));
    enqueue(rt, batch("b", 1, 0), 4);
    rt.startAvailable(4);
    long beforeExtend = rt.queries().nextEventId();
    rt.extendLease("b", 1, 5);
    assertThat(rt.queries().nextEventId()).isEqualTo(beforeExtend);
    assertThat(types(rt, next - 1)).containsExactly(EventType.ENQUEUED, EventType.STARTED);
  }

  @Test
  void aLeaseExpiry_appendsLeaseExpiredBeforeItsRetry_thenTheNewStart() {
    PipelineRuntime rt = runtimeWithBoundary(b -> b.withLeaseMs(100));
    enqueue(rt, batch("a", 1, 0), 0);
    rt.startAvailable(0);
    long after = rt.queries().nextEventId() - 1;
    rt.startAvailable(100);
    List<Event> events = rt.queries().eventsAfter(after);
    assertThat(events).extracting(Event::type)
        .containsExactly(EventType.LEASE_EXPIRED, EventType.RETRY_SCHEDULED);
    assertThat(events.get(0).payload()).isEqualTo(new LeaseExpired("a", 1));
  }

  @Test
  void failures_appendRetryScheduledOrDeadLettered_withTheirRecords() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("a", 1, 0), 0);
    rt.startAvailable(0);
    ProcessOutcome.RetryScheduled retry =
        (ProcessOutcome.RetryScheduled) rt.failBatch("a", 1, "boom", false, 5);
    enqueue(rt, batch("b", 1, 0), 6);
    rt.startAvailable(6);
    ProcessOutcome.DeadLettered dead =
        (ProcessOutcome.DeadLettered) rt.failBatch("b", 1, "poison", true, 7);
    List<Event> events = rt.queries().eventsAfter(0);
    assertThat(events.get(2)).isEqualTo(new Event(3, 5, EventType.RETRY_SCHEDULED, retry.record()));
    assertThat(events.get(5)).isEqualTo(new Event(6, 7, EventType.DEAD_LETTERED, dead.record()));
  }

  @Test
  void actionsAndUpdates_appendActionApplied_runsAppendRunStartedAndCompleted() {
    PipelineRuntime rt = runtime();
    rt.applyAction(new OperatorAction.Pause(), 1);
    rt.applyAction(new OperatorAction.Pause(), 2); // a repeated PAUSE is applied (and audited) too
    rt.updatePipeline(List.of("boundary.max_queued"),
        spec().boundary(Boundary.DEFAULT.withMaxQueued(5)).build(), 3);
    rt.updatePipeline(List.of("boundary.max_queued"), // changes nothing: no event
        spec().boundary(Boundary.DEFAULT.withMaxQueued(5)).build(), 4);
    RunSummary opened = rt.startRun(5);
    rt.startRun(6); // already active: nothing
    RunSummary closed = rt.completeRun(7).orElseThrow();
    rt.completeRun(8); // none active: nothing
    List<Event> events = rt.queries().eventsAfter(0);
    assertThat(events).extracting(Event::type).containsExactly(
        EventType.ACTION_APPLIED, EventType.ACTION_APPLIED, EventType.ACTION_APPLIED,
        EventType.RUN_STARTED, EventType.RUN_COMPLETED);
    assertThat(((AuditEntry) events.get(2).payload()).action())
        .isEqualTo(new OperatorAction.UpdatePipeline(List.of("boundary.max_queued")));
    assertThat(events.get(3).payload()).isEqualTo(opened);
    assertThat(events.get(4).payload()).isEqualTo(closed);
  }

  @Test
  void retention_keepsTheNewestEvents_idsAreNeverReused() {
    PipelineRuntime rt = runtime();
    rt.setEventRetention(3);
    for (int i = 0; i < 5; i++) {
      rt.applyAction(new OperatorAction.Resume(), i);
    }
    assertThat(rt.queries().oldestEventId()).isEqualTo(3);
    assertThat(rt.queries().eventsAfter(0)).extracting(Event::eventId).containsExactly(3L, 4L, 5L);
    assertThat(rt.queries().eventsAfter(3)).extracting(Event::eventId).containsExactly(4L, 5L);
    assertThat(rt.queries().eventsAfter(5)).isEmpty();
    assertThat(rt.queries().nextEventId()).isEqualTo(6);
  }

  @Test
  void theSignature_coversTheNextEventId_butNotTheRetainedEvents() {
    PipelineRuntime a = runtime();
    PipelineRuntime b = runtime();
    b.setEventRetention(1);
    for (PipelineRuntime rt : List.of(a, b)) {
      rt.applyAction(new OperatorAction.Pause(), 0);
      rt.applyAction(new OperatorAction.Resume(), 0);
    }
    assertThat(a.queries().eventsAfter(0)).hasSize(2);
    assertThat(b.queries().eventsAfter(0)).hasSize(1);
    assertThat(a.queries().signature()).isEqualTo(b.queries().signature());
  }

  @Test
  void aSnapshot_keepsTheRetainedEventsAndTheNextId() throws IOException {
    PipelineRuntime rt = runtimeWithBoundary(b -> b.withLeaseMs(10));
    enqueue(rt, batch("a", 2, 0), 0);
    rt.startRun(1);
    rt.startAvailable(1);
    rt.startAvailable(20); // lease expired, retry scheduled
    rt.startAvailable(2_000);
    rt.failBatch("a", 2, "poison", true, 2_001);
    rt.applyAction(new OperatorAction.RedriveDeadLetter("a"), 2_002);
    rt.startAvailable(2_003);
    rt.ackBatch("a", 1, 2_004);
    rt.completeRun(2_005);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      rt.writeSnapshot(out);
    }
    PipelineRuntime copy =
        PipelineRuntime.readSnapshot(
            new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
    assertThat(copy.queries().eventsAfter(0)).isEqualTo(rt.queries().eventsAfter(0));
    assertThat(copy.queries().eventsAfter(0)).extracting(Event::type).containsExactly(
        EventType.ENQUEUED, EventType.RUN_STARTED, EventType.STARTED, EventType.LEASE_EXPIRED,
        EventType.RETRY_SCHEDULED, EventType.STARTED, EventType.DEAD_LETTERED,
        EventType.ACTION_APPLIED, EventType.STARTED, EventType.ACKED, EventType.RUN_COMPLETED);
    assertThat(copy.queries().nextEventId()).isEqualTo(12);
    assertThat(copy.queries().signature()).isEqualTo(rt.queries().signature());
  }
}
