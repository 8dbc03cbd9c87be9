package dev.lightspeed.orchestrator.metrics;

import dev.lightspeed.orchestrator.core.ItemResults;
import dev.lightspeed.orchestrator.core.ProcessOutcome;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.core.StartResult;

/**
 * The business counters of {@link ServerMetrics}, counted from the typed results of the core
 * (enqueued or deduplicated, failure outcomes, starts, refused bulk items) as the service sends
 * them, not inferred from responses. With metrics off every method does nothing.
 */
public final class DomainMetrics {
  /** Null when metrics are off. */
  private final ServerMetrics metrics;

  public DomainMetrics(ServerMetrics metrics) {
    this.metrics = metrics;
  }

  public boolean on() {
    return metrics != null;
  }

  /** An EnqueueBatch(es) answered: each item enqueued, deduplicated, or refused. */
  public void enqueued(String method, String pipeline, ItemResults<Boolean> results) {
    if (metrics == null) {
      return;
    }
    for (int i = 0; i < results.size(); i++) {
      Rejection r = results.refusal(i);
      if (r != null) {
        itemRefused(method, r);
      } else {
        (results.value(i) ? metrics.deduplicated : metrics.enqueued).labelValues(pipeline).inc();
      }
    }
  }

  /**
   * A cluster node's EnqueueBatch(es) answered: only its refused items (the replicas count the
   * enqueued and deduplicated ones as they apply: {@link #applied}).
   */
  public void enqueueRefusals(String method, ItemResults<Boolean> results) {
    if (metrics == null) {
      return;
    }
    for (int i = 0; i < results.size(); i++) {
      Rejection r = results.refusal(i);
      if (r != null) {
        itemRefused(method, r);
      }
    }
  }

  /** An AckBatches answered: its refused items ({@code invalid} never reached the pipeline). */
  public void acked(String method, Rejection[] invalid, ItemResults<?> results) {
    if (metrics == null) {
      return;
    }
    for (Rejection r : invalid) {
      if (r != null) {
        itemRefused(method, r);
      }
    }
    for (int i = 0; i < results.size(); i++) {
      Rejection r = results.refusal(i);
      if (r != null) {
        itemRefused(method, r);
      }
    }
  }

  /** A FailBatch answered with {@code outcome}. */
  public void failed(String pipeline, ProcessOutcome outcome) {
    if (metrics == null) {
      return;
    }
    if (outcome instanceof ProcessOutcome.RetryScheduled) {
      metrics.failed.labelValues(pipeline).inc();
      metrics.retried.labelValues(pipeline).inc();
    } else if (outcome instanceof ProcessOutcome.DeadLettered) {
      metrics.failed.labelValues(pipeline).inc();
      metrics.deadLettered.labelValues(pipeline).inc();
    } else if (outcome instanceof ProcessOutcome.FailureRejected) {
      metrics.staleFailures.labelValues(pipeline).inc();
    }
  }

  /** What one StartAvailable did: its starts and the lease expiries it handled first. */
  public void started(String pipeline, StartResult result) {
    if (metrics != null) {
      metrics.started(pipeline, result);
    }
  }

  /**
   * A cluster replica applied {@code command} to {@code pipeline} with {@code result} (its typed
   * result; null for a refused command, which counts nothing): the same counters a single
   * server's service counts from the same results, as this replica applied them. Refused items of
   * bulk calls are not counted here (a replica does not know the RPC): the node that took the
   * call counts them ({@link #enqueueRefusals}, {@link #acked}).
   */
  public void applied(String pipeline, dev.lightspeed.orchestrator.core.Command<?> command,
      Object result) {
    if (metrics == null || result == null) {
      return;
    }
    if (command instanceof dev.lightspeed.orchestrator.core.Command.Enqueue
        && result instanceof ItemResults<?> items) {
      int enqueued = 0;
      int deduplicated = 0;
      for (int i = 0; i < items.size(); i++) {
        if (items.refusal(i) == null) {
          if (Boolean.TRUE.equals(items.value(i))) {
            deduplicated++;
          } else {
            enqueued++;
          }
        }
      }
      // One look-up per series per apply, not per item: a bulk enqueue applies on every replica.
      if (enqueued > 0) {
        metrics.enqueued.labelValues(pipeline).inc(enqueued);
      }
      if (deduplicated > 0) {
        metrics.deduplicated.labelValues(pipeline).inc(deduplicated);
      }
    } else if (result instanceof StartResult started) {
      metrics.started(pipeline, started);
    } else if (command instanceof dev.lightspeed.orchestrator.core.Command.Fail
        && result instanceof ProcessOutcome outcome) {
      failed(pipeline, outcome);
    }
  }

  /** A pipeline was deleted: its series go. */
  public void deleted(String pipeline) {
    if (metrics != null) {
      metrics.forget(pipeline);
    }
  }

  private void itemRefused(String method, Rejection r) {
    // The code label is the gRPC status code's name, which is the category's name: the error
    // mapping maps each category to the code of the same name (ErrorMapper.code).
    metrics.rejections
        .labelValues(method, r.reason().category().name(), r.reason().name())
        .inc();
  }
}
