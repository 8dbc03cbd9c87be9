package dev.lightspeed.orchestrator.core;

/** The outcome of an ack or a failure report: the seed's four {@code ProcessOutcome} variants. */
public sealed interface ProcessOutcome {

  /** The batch is DONE. */
  record Processed(ProcessResult result) implements ProcessOutcome {
    @Override
    public String label() {
      return "processed";
    }
  }

  /** The batch waits in RETRY_WAIT until {@code record.retryAtMs()}. */
  record RetryScheduled(RetryRecord record) implements ProcessOutcome {
    @Override
    public String label() {
      return "retry_scheduled";
    }
  }

  /** The batch is DEAD_LETTERED. */
  record DeadLettered(DeadLetterRecord record) implements ProcessOutcome {
    @Override
    public String label() {
      return "dead_lettered";
    }
  }

  /** A stale failure report, answered without any change; {@code reason} says why. */
  record FailureRejected(String reason) implements ProcessOutcome {
    @Override
    public String label() {
      return "failure_rejected";
    }
  }

  /** The seed's {@code process_outcome_label}: processed, retry_scheduled, dead_lettered or failure_rejected. */
  String label();
}
