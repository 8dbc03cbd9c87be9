package dev.lightspeed.orchestrator.grpc;

import dev.lightspeed.orchestrator.core.AuditEntry;
import dev.lightspeed.orchestrator.core.Batch;
import dev.lightspeed.orchestrator.core.DeadLetterRecord;
import dev.lightspeed.orchestrator.core.Event;
import dev.lightspeed.orchestrator.core.EventType;
import dev.lightspeed.orchestrator.core.LeaseExpired;
import dev.lightspeed.orchestrator.core.ProcessResult;
import dev.lightspeed.orchestrator.core.RetryRecord;
import dev.lightspeed.orchestrator.core.RunSummary;
import dev.lightspeed.orchestrator.core.StartedBatch;
import dev.lightspeed.orchestrator.v1.ActionApplied;
import dev.lightspeed.orchestrator.v1.WatchEventsResponse;

/** The core's events as v1 {@code Event} messages, and the EventType filter's translation. */
final class EventMapper {
  private EventMapper() {}

  static WatchEventsResponse toResponse(Event e) {
    return WatchEventsResponse.newBuilder().setEvent(toProto(e)).build();
  }

  static dev.lightspeed.orchestrator.v1.Event toProto(Event e) {
    var out = dev.lightspeed.orchestrator.v1.Event.newBuilder()
        .setEventId(e.eventId())
        .setAtMs(e.atMs());
    Object p = e.payload();
    switch (e.type()) {
      case ENQUEUED -> out.setEnqueued(ProtoMapper.toProto((Batch) p));
      case STARTED -> out.setStarted(ProtoMapper.toProto((StartedBatch) p));
      case LEASE_EXPIRED -> {
        LeaseExpired l = (LeaseExpired) p;
        out.setLeaseExpired(dev.lightspeed.orchestrator.v1.LeaseExpired.newBuilder()
            .setKey(l.key()).setAttempt(l.attempt()));
      }
      case ACKED -> out.setAcked(ProtoMapper.toProto((ProcessResult) p));
      case RETRY_SCHEDULED -> out.setRetryScheduled(ProtoMapper.toProto((RetryRecord) p));
      case DEAD_LETTERED -> out.setDeadLettered(ProtoMapper.toProto((DeadLetterRecord) p));
      case ACTION_APPLIED -> {
        AuditEntry a = (AuditEntry) p;
        out.setActionApplied(ActionApplied.newBuilder()
            .setAction(ProtoMapper.toProto(a.action())).setMessage(a.message()));
      }
      case RUN_STARTED -> out.setRunStarted(ProtoMapper.toProto((RunSummary) p));
      case RUN_COMPLETED -> out.setRunCompleted(ProtoMapper.toProto((RunSummary) p));
    }
    return out.build();
  }

  /** The core type of a filter value, or null for UNSPECIFIED or an unknown number. */
  static EventType toCore(dev.lightspeed.orchestrator.v1.EventType t) {
    return switch (t) {
      case EVENT_TYPE_ENQUEUED -> EventType.ENQUEUED;
      case EVENT_TYPE_STARTED -> EventType.STARTED;
      case EVENT_TYPE_LEASE_EXPIRED -> EventType.LEASE_EXPIRED;
      case EVENT_TYPE_ACKED -> EventType.ACKED;
      case EVENT_TYPE_RETRY_SCHEDULED -> EventType.RETRY_SCHEDULED;
      case EVENT_TYPE_DEAD_LETTERED -> EventType.DEAD_LETTERED;
      case EVENT_TYPE_ACTION_APPLIED -> EventType.ACTION_APPLIED;
      case EVENT_TYPE_RUN_STARTED -> EventType.RUN_STARTED;
      case EVENT_TYPE_RUN_COMPLETED -> EventType.RUN_COMPLETED;
      default -> null;
    };
  }
}
