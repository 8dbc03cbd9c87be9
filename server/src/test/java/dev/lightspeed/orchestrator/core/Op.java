package dev.lightspeed.orchestrator.core;

import java.util.LinkedHashSet;
import java.util.List;

/**
 * One call on a {@link PipelineRuntime}, as data, so that a sequence can be replayed. {@link
 * #applyTo} returns the call's value in a comparable form ("enqueued"/"deduplicated",
 * StartResult, ProcessOutcome, the lease deadline, "applied", RunSummary, Optional) or throws the
 * runtime's {@link Rejection}.
 */
sealed interface Op {
  long now();

  Object applyTo(PipelineRuntime rt);

  record Enqueue(Batch batch, long now) implements Op {
    @Override
    public Object applyTo(PipelineRuntime rt) {
      return rt.enqueueBatch(batch, now) ? "deduplicated" : "enqueued";
    }
  }

  record Start(int max, List<String> stages, long now) implements Op {
    @Override
    public Object applyTo(PipelineRuntime rt) {
      return rt.startAvailable(now, max, new LinkedHashSet<>(stages));
    }
  }

  record Ack(String key, int attempt, long now) implements Op {
    @Override
    public Object applyTo(PipelineRuntime rt) {
      return rt.ackBatch(key, attempt, now);
    }
  }

  record Fail(String key, int attempt, String reason, boolean nonRetryable, long now)
      implements Op {
    @Override
    public Object applyTo(PipelineRuntime rt) {
      return rt.failBatch(key, attempt, reason, nonRetryable, now);
    }
  }

  record Extend(String key, int attempt, long now) implements Op {
    @Override
    public Object applyTo(PipelineRuntime rt) {
      return rt.extendLease(key, attempt, now);
    }
  }

  record Act(OperatorAction action, long now) implements Op {
    @Override
    public Object applyTo(PipelineRuntime rt) {
      rt.applyAction(action, now);
      return "applied";
    }
  }

  record StartRun(long now) implements Op {
    @Override
    public Object applyTo(PipelineRuntime rt) {
      return rt.startRun(now);
    }
  }

  record CompleteRun(long now) implements Op {
    @Override
    public Object applyTo(PipelineRuntime rt) {
      return rt.completeRun(now);
    }
  }

  record Update(List<String> mask, PipelineSpec values, long now) implements Op {
    @Override
    public Object applyTo(PipelineRuntime rt) {
      return rt.updatePipeline(mask, values, now).changed().isEmpty() ? "unchanged" : "updated";
    }
  }

  /** The value of {@code op} on {@code rt}, or the reason it was refused. */
  static Object resultOf(Op op, PipelineRuntime rt) {
    try {
      return op.applyTo(rt);
    } catch (Rejection r) {
      return r.reason();
    }
  }
}
