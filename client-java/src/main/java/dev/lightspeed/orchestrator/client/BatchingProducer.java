package dev.lightspeed.orchestrator.client;

import dev.lightspeed.orchestrator.client.errors.OrchestratorErrors;
import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.EnqueueResult;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Enqueues batches one at a time for the caller and in EnqueueBatches calls on the wire (see
 * {@link BatchingOptions}): each {@link #enqueue} returns its own future, completed with {@code
 * true} when the enqueue was deduplicated, {@code false} when enqueued, or failed with the item's
 * own error ({@link dev.lightspeed.orchestrator.client.errors.OrchestratorException}). Each stage
 * has at most one call in flight and its batches leave in enqueue order, so sequences never
 * regress by reordering. A failed call fails all its items: a producer that retries must retry
 * them in order.
 *
 * <p>{@link #close()} sends what waits and waits for every result; it does not close the client.
 */
public final class BatchingProducer implements AutoCloseable {
  private final Batcher<Batch, Boolean> batcher;

  public BatchingProducer(OrchestratorClient client, String pipeline) {
    this(client, pipeline, BatchingOptions.DEFAULTS);
  }

  public BatchingProducer(OrchestratorClient client, String pipeline, BatchingOptions options) {
    this.batcher = new Batcher<>(options,
        items -> client.async().enqueueBatches(pipeline, items).thenApply(BatchingProducer::items),
        Batch::getSerializedSize);
  }

  /** Enqueues {@code batch}; the future completes with its own result. */
  public CompletableFuture<Boolean> enqueue(Batch batch) {
    return batcher.add(batch.getStage(), batch);
  }

  /** Sends what waits now; completes when every call so far has completed. */
  public CompletableFuture<Void> flush() {
    return batcher.flush();
  }

  @Override
  public void close() {
    batcher.close();
  }

  private static List<Object> items(List<EnqueueResult> results) {
    List<Object> items = new ArrayList<>(results.size());
    for (EnqueueResult r : results) {
      items.add(r.hasError() ? OrchestratorErrors.fromStatus(r.getError()) : r.getDeduplicated());
    }
    return items;
  }
}
