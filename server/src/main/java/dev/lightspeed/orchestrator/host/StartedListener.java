package dev.lightspeed.orchestrator.host;

import dev.lightspeed.orchestrator.core.StartedBatch;
import java.util.concurrent.Executor;

/**
 * A WatchStarted stream as a pipeline sees it: where its started batches go, in start order, once
 * durable. The gRPC side implements it ({@link WatchStreams} over a {@link Watcher}), so the
 * hosting of pipelines hands over core values and never builds a response or a status itself.
 */
public interface StartedListener {
  /** Takes one started batch; never blocks (a listener that falls behind cuts itself off). */
  void offer(StartedBatch started);

  /** The executor the listener drains on; the pipeline publishes on it too, in order. */
  Executor drainExecutor();

  /** Ends the stream with {@code why}: a refusal (the pipeline was deleted) or a status. */
  void end(RuntimeException why);
}
