package dev.lightspeed.orchestrator.core;

/** The kinds of event in a pipeline's event log (SPEC 3.10), with the payload each carries. */
public enum EventType {
  /** An enqueue that was not deduplicated; payload {@link Batch}. */
  ENQUEUED,
  /** A batch started; payload {@link StartedBatch}. */
  STARTED,
  /** A lease expired (before its RETRY_SCHEDULED or DEAD_LETTERED); payload {@link LeaseExpired}. */
  LEASE_EXPIRED,
  /** An ack made a batch DONE; payload {@link ProcessResult}. */
  ACKED,
  /** A failure or expiry scheduled a retry; payload {@link RetryRecord}. */
  RETRY_SCHEDULED,
  /** A failure or expiry dead-lettered a batch; payload {@link DeadLetterRecord}. */
  DEAD_LETTERED,
  /** An applied operator action or update_pipeline; payload {@link AuditEntry}. */
  ACTION_APPLIED,
  /** A run opened; payload {@link RunSummary}. */
  RUN_STARTED,
  /** A run closed; payload {@link RunSummary}. */
  RUN_COMPLETED
}
