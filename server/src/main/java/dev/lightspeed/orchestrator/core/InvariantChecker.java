package dev.lightspeed.orchestrator.core;

import java.util.HashMap;
import java.util.Map;

/**
 * Checks the invariants of SPEC 3.8 over every index of a {@link PipelineState}, and names the
 * first one broken. O(n) in the live batches: a diagnostic, not a hot path.
 */
final class InvariantChecker {
  private InvariantChecker() {}

  /** Empty when all hold, else a sentence naming the broken invariant. */
  static String check(PipelineState s) {
    if (s.live.size() != s.liveByEnqueue.size()) {
      return "each key in exactly one state: " + s.live.size() + " live keys but "
          + s.liveByEnqueue.size() + " batches in enqueue order";
    }
    long queued = 0;
    long retryWait = 0;
    int inFlight = 0;
    long inFlightRecords = 0;
    int deadLettered = 0;
    int leased = 0;
    Map<String, Integer> inFlightOfStage = new HashMap<>();
    Map<String, Long> lastSequenceOfStage = new HashMap<>();
    for (LiveBatch b : s.liveByEnqueue) {
      String key = b.key();
      if (s.live.get(key) != b) {
        return "each key in exactly one state: batch '" + key + "' is indexed twice";
      }
      StageState stage = s.stages.get(b.batch.stage());
      if (stage == null) {
        return "batch '" + key + "' is in unknown stage '" + b.batch.stage() + "'";
      }
      // Only positive sequences are ordered; 0 means "no sequence" (SPEC 3.1 check 6).
      Long previous =
          b.batch.sequence() > 0 ? lastSequenceOfStage.put(stage.name, b.batch.sequence()) : null;
      if (b.batch.sequence() > 0
          && ((previous != null && previous >= b.batch.sequence())
              || !stage.hasSequence
              || b.batch.sequence() > stage.lastSequence)) {
        return "sequences increasing per stage: batch '" + key + "' has sequence "
            + b.batch.sequence() + " in stage '" + stage.name + "'";
      }
      boolean waiting = stage.waiting.contains(b);
      boolean inRetries = s.retryWaiting.get(b.emitSeq) == b && b.state == BatchState.RETRY_WAIT;
      boolean inDeadLetters =
          s.deadLettered.get(b.emitSeq) == b && b.state == BatchState.DEAD_LETTERED;
      if (s.live.byIdempotencyKey(b.batch.idempotencyKey()) != b) {
        return "each accepted idempotency key is remembered: batch '" + key + "' has none";
      }
      switch (b.state) {
        case QUEUED -> {
          queued++;
          if (!waiting || b.retry != null || b.deadLetter != null) {
            return "each key in exactly one state: QUEUED batch '" + key + "' is misindexed";
          }
        }
        case RETRY_WAIT -> {
          queued++;
          retryWait++;
          if (!waiting || !inRetries || b.retry == null) {
            return "each key in exactly one state: RETRY_WAIT batch '" + key + "' is misindexed";
          }
          if (b.retry.retryAtMs() < b.failedAtMs || b.readyAtMs != b.retry.retryAtMs()) {
            return "no retry_at before its failure time: batch '" + key + "' retries at "
                + b.retry.retryAtMs() + " but failed at " + b.failedAtMs;
          }
        }
        case IN_FLIGHT -> {
          inFlight++;
          try {
            inFlightRecords = Math.addExact(inFlightRecords, b.batch.records());
          } catch (ArithmeticException overflow) {
            return "in-flight records within budget: the IN_FLIGHT batches hold more than "
                + Long.MAX_VALUE + " records";
          }
          inFlightOfStage.merge(stage.name, 1, Integer::sum);
          if (b.leaseDeadlineMs > 0) {
            leased++;
          }
          if (waiting || b.retry != null || b.deadLetter != null || b.attempt < 1) {
            return "each key in exactly one state: IN_FLIGHT batch '" + key + "' is misindexed";
          }
        }
        case DEAD_LETTERED -> {
          deadLettered++;
          if (waiting || !inDeadLetters || b.deadLetter == null) {
            return "each key in exactly one state: DEAD_LETTERED batch '" + key
                + "' is misindexed";
          }
        }
      }
    }
    if (queued != s.queuedCount) {
      return "counts match the sets: queued_count " + s.queuedCount + " but " + queued
          + " batches are QUEUED or RETRY_WAIT";
    }
    if (retryWait != s.retryWaiting.size()) {
      return "counts match the sets: " + s.retryWaiting.size() + " retry records but " + retryWait
          + " batches in RETRY_WAIT";
    }
    if (deadLettered != s.deadLettered.size()) {
      return "every dead letter has a batch: " + s.deadLettered.size() + " records but "
          + deadLettered + " DEAD_LETTERED batches";
    }
    if (inFlight != s.inFlightCount || leased != s.leases.size()) {
      return "counts match the sets: in_flight_count " + s.inFlightCount + " but " + inFlight
          + " batches are IN_FLIGHT (" + leased + " leased, " + s.leases.size() + " in lease order)";
    }
    int waitingTotal = 0;
    for (StageState stage : s.stages.values()) {
      waitingTotal += stage.waiting.size();
      int stageInFlight = inFlightOfStage.getOrDefault(stage.name, 0);
      if (stage.inFlight != stageInFlight) {
        return "counts match the sets: stage '" + stage.name + "' counts " + stage.inFlight
            + " in flight but has " + stageInFlight;
      }
      if (stage.ordered && stageInFlight > 1) {
        return "ordered stages have at most 1 in flight: stage '" + stage.name + "' has "
            + stageInFlight;
      }
    }
    if (waitingTotal != queued) {
      return "counts match the sets: " + waitingTotal + " batches wait in stages but " + queued
          + " are QUEUED or RETRY_WAIT";
    }
    // An update may lower the limits below what is in flight (SPEC 3.9): that much is allowed
    // until the next start.
    if (inFlight > Math.max(s.spec.boundary().maxInFlight(), s.inFlightAllowance)) {
      return "in_flight ≤ boundary.max_in_flight: " + inFlight + " > "
          + s.spec.boundary().maxInFlight();
    }
    if (inFlightRecords != s.inFlightRecords) {
      return "counts match the sets: in-flight records " + s.inFlightRecords + " but the"
          + " IN_FLIGHT batches hold " + inFlightRecords;
    }
    long budget = s.spec.boundary().maxInFlightRecords();
    if (budget > 0 && inFlightRecords > Math.max(budget, s.inFlightRecordsAllowance)) {
      return "in-flight records within budget: " + inFlightRecords + " > " + budget;
    }
    if (s.live.idempotencyKeyCount() != s.live.size()) {
      return "each accepted idempotency key is remembered: " + s.live.size() + " live batches but "
          + s.live.idempotencyKeyCount() + " live idempotency keys";
    }
    return "";
  }
}
