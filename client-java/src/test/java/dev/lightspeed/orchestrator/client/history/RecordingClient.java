package dev.lightspeed.orchestrator.client.history;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.lightspeed.orchestrator.client.OrchestratorClient;
import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.BatchView;
import dev.lightspeed.orchestrator.v1.ListBatchesRequest;
import dev.lightspeed.orchestrator.v1.ListBatchesResponse;
import dev.lightspeed.orchestrator.v1.OperatorAction;
import dev.lightspeed.orchestrator.v1.ProcessOutcome;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import java.util.List;

/**
 * One client of a recorded history: the Java client's calls that the checker models, each
 * recorded by a shared {@link HistoryRecorder}. For the linearizability checker the wrapped
 * client must not retry by itself ({@code disableRetry()}): a retried call that took effect twice
 * would look like one call, and the history would lie (RollingRestartIT records through retrying
 * clients and checks only what retries leave true). Calls throw as the client's do, after
 * recording.
 */
public final class RecordingClient implements AutoCloseable {
  /** The largest page ListBatches returns: a read of more live batches is not one snapshot. */
  static final int LIST_PAGE = 1000;

  private final int id;
  private final OrchestratorClient client;
  private final HistoryRecorder recorder;

  public RecordingClient(int id, OrchestratorClient client, HistoryRecorder recorder) {
    this.id = id;
    this.client = client;
    this.recorder = recorder;
  }

  /** EnqueueBatch; true when deduplicated. */
  public boolean enqueue(String pipeline, Batch batch) {
    return recorder.record(id, "enqueue", pipeline, key(batch.getKey()),
        () -> client.enqueueBatch(pipeline, batch),
        dedup -> {
          JsonObject out = new JsonObject();
          out.addProperty("deduplicated", dedup);
          return out;
        });
  }

  /** StartAvailable with at most {@code maxBatches}: the started batches. */
  public List<StartedBatch> start(String pipeline, int maxBatches) {
    return recorder.record(id, "start", pipeline, null,
        () -> client.startAvailable(pipeline, maxBatches),
        started -> {
          JsonArray list = new JsonArray();
          for (StartedBatch s : started) {
            JsonObject b = new JsonObject();
            b.addProperty("key", s.getBatch().getKey());
            b.addProperty("attempt", s.getAttempt());
            list.add(b);
          }
          JsonObject out = new JsonObject();
          out.add("started", list);
          return out;
        });
  }

  public ProcessOutcome ack(String pipeline, String key, int attempt) {
    return recorder.record(id, "ack", pipeline, keyAttempt(key, attempt),
        () -> client.ackBatch(pipeline, key, attempt), RecordingClient::outcome);
  }

  /** FailBatch, retryable. */
  public ProcessOutcome fail(String pipeline, String key, int attempt) {
    return recorder.record(id, "fail", pipeline, keyAttempt(key, attempt),
        () -> client.failBatch(pipeline, key, attempt, "lincheck failure", false),
        RecordingClient::outcome);
  }

  public void redrive(String pipeline, String key) {
    action("redrive", pipeline, key,
        OperatorAction.newBuilder().setRedriveDeadLetter(
            OperatorAction.RedriveDeadLetter.newBuilder().setKey(key)).build());
  }

  public void cancel(String pipeline, String key) {
    action("cancel", pipeline, key,
        OperatorAction.newBuilder().setCancelBatch(
            OperatorAction.CancelBatch.newBuilder().setKey(key)).build());
  }

  private void action(String op, String pipeline, String key, OperatorAction action) {
    recorder.record(id, op, pipeline, key(key),
        () -> {
          client.applyAction(pipeline, action);
          return null;
        },
        none -> new JsonObject());
  }

  /** ListBatches, every live batch in one page (refused with more than {@link #LIST_PAGE}). */
  public List<BatchView> list(String pipeline) {
    ListBatchesResponse page = recorder.record(id, "list", pipeline, null,
        () -> client.listBatches(ListBatchesRequest.newBuilder()
            .setPipeline(pipeline).setPageSize(LIST_PAGE).build()),
        response -> {
          if (!response.getNextPageToken().isEmpty()) {
            throw new IllegalStateException("more than " + LIST_PAGE + " live batches in "
                + pipeline + ": a read must be one page; use fewer keys");
          }
          JsonArray list = new JsonArray();
          for (BatchView v : response.getBatchesList()) {
            JsonObject b = new JsonObject();
            b.addProperty("key", v.getBatch().getKey());
            b.addProperty("state", v.getState().name().substring("BATCH_STATE_".length()));
            b.addProperty("attempt", v.getAttempt());
            list.add(b);
          }
          JsonObject out = new JsonObject();
          out.add("batches", list);
          return out;
        });
    return page.getBatchesList();
  }

  private static JsonObject outcome(ProcessOutcome outcome) {
    JsonObject out = new JsonObject();
    switch (outcome.getOutcomeCase()) {
      case PROCESSED -> {
        out.addProperty("outcome", "processed");
        out.addProperty("attempt", outcome.getProcessed().getAttempt());
      }
      case RETRY_SCHEDULED -> {
        out.addProperty("outcome", "retry_scheduled");
        out.addProperty("attempt", outcome.getRetryScheduled().getNextAttempt());
      }
      case DEAD_LETTERED -> out.addProperty("outcome", "dead_lettered");
      case FAILURE_REJECTED -> out.addProperty("outcome", "failure_rejected");
      default -> throw new IllegalStateException("no outcome in " + outcome);
    }
    return out;
  }

  private static JsonObject key(String key) {
    JsonObject in = new JsonObject();
    in.addProperty("key", key);
    return in;
  }

  private static JsonObject keyAttempt(String key, int attempt) {
    JsonObject in = key(key);
    in.addProperty("attempt", attempt);
    return in;
  }

  /**
   * Waits until the server answers again, with GetStatus calls that are not recorded (a read
   * left out of a history changes no verdict). A client that lost a reply waits here instead of
   * sending more calls into a dead server: every lost reply is a call the checker must try both
   * ways, at every point after it, so fewer of them keep the check fast.
   */
  public void awaitServing(String pipeline) throws InterruptedException {
    while (true) {
      try {
        client.getStatus(pipeline);
        return;
      } catch (RuntimeException e) {
        Thread.sleep(50);
      }
    }
  }

  @Override
  public void close() {
    client.close();
  }
}
