package dev.lightspeed.orchestrator.client;

import dev.lightspeed.orchestrator.client.errors.OrchestratorErrors;
import dev.lightspeed.orchestrator.v1.AckItem;
import dev.lightspeed.orchestrator.v1.AckResult;
import dev.lightspeed.orchestrator.v1.ProcessOutcome;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Acks batches one at a time for the caller and in AckBatches calls on the wire (see {@link
 * BatchingOptions}), for workers that do not use the Work stream: each {@link #ack} returns its
 * own future with the item's outcome or error. Acks have no order to keep; they go in up to
 * {@link #LANES} calls at once.
 */
public final class BatchingAcker implements AutoCloseable {
  /** Calls in flight at once (acks of one key always share a lane). */
  public static final int LANES = 4;

  private final Batcher<AckItem, ProcessOutcome> batcher;

  public BatchingAcker(OrchestratorClient client, String pipeline) {
    this(client, pipeline, BatchingOptions.DEFAULTS);
  }

  public BatchingAcker(OrchestratorClient client, String pipeline, BatchingOptions options) {
    this.batcher = new Batcher<>(options,
        items -> client.async().ackBatches(pipeline, items).thenApply(BatchingAcker::items),
        AckItem::getSerializedSize);
  }

  /** Acks {@code key} under {@code attempt} (0 = any); the future has this ack's outcome. */
  public CompletableFuture<ProcessOutcome> ack(String key, int attempt) {
    return batcher.add(Math.floorMod(key.hashCode(), LANES),
        AckItem.newBuilder().setKey(key).setAttempt(attempt).build());
  }

  public CompletableFuture<Void> flush() {
    return batcher.flush();
  }

  @Override
  public void close() {
    batcher.close();
  }

  private static List<Object> items(List<AckResult> results) {
    List<Object> items = new ArrayList<>(results.size());
    for (AckResult r : results) {
      items.add(r.hasError() ? OrchestratorErrors.fromStatus(r.getError()) : r.getOutcome());
    }
    return items;
  }
}
