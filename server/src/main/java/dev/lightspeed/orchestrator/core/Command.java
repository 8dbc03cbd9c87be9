package dev.lightspeed.orchestrator.core;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * One call that may change a pipeline, as a value: the core's commands (SPEC section 3), each a
 * record whose type parameter is what applying it returns. {@link PipelineRuntime#apply} is the
 * single entry that runs them; the server journals exactly these values (see the server's
 * {@code JournalCodec}), so a replayed command means what the live one meant.
 *
 * <p>{@link CreatePipeline} and {@link DeletePipeline} change the set of pipelines rather than one
 * pipeline: the host's state machine applies them, {@link PipelineRuntime#apply} refuses them.
 *
 * @param <R> the result of applying the command
 */
public sealed interface Command<R> {

  /** enqueue_batch for each batch in order (3.1); a refused batch does not stop the others. */
  record Enqueue(List<Batch> batches) implements Command<ItemResults<Boolean>> {
    /** One batch, as EnqueueBatch sends it. */
    public static Enqueue of(Batch batch) {
      return new Enqueue(List.of(batch));
    }
  }

  /**
   * start_available (3.2).
   *
   * @param maxBatches 0 = no limit
   * @param stages empty = every stage
   */
  record StartAvailable(int maxBatches, Set<String> stages) implements Command<StartResult> {}

  /**
   * ack_batch for each item in order (3.3): {@code keys[i]} at {@code attempts[i]} (0 = any
   * attempt). Two arrays rather than a list of pairs: a bulk ack allocates nothing per item.
   */
  record Ack(String[] keys, int[] attempts)
      implements Command<ItemResults<ProcessOutcome.Processed>> {
    public Ack {
      if (keys.length != attempts.length) {
        throw new IllegalArgumentException(
            keys.length + " keys but " + attempts.length + " attempts");
      }
    }

    /** One ack, as AckBatch sends it. */
    public static Ack of(String key, int attempt) {
      return new Ack(new String[] {key}, new int[] {attempt});
    }

    public int size() {
      return keys.length;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Ack a && java.util.Arrays.equals(keys, a.keys)
          && java.util.Arrays.equals(attempts, a.attempts);
    }

    @Override
    public int hashCode() {
      return 31 * java.util.Arrays.hashCode(keys) + java.util.Arrays.hashCode(attempts);
    }

    @Override
    public String toString() {
      return "Ack[keys=" + java.util.Arrays.toString(keys) + ", attempts="
          + java.util.Arrays.toString(attempts) + "]";
    }
  }

  /** fail_batch (3.4). */
  record Fail(String key, int attempt, String reason, boolean nonRetryable)
      implements Command<ProcessOutcome> {}

  /** extend_lease (3.5): the new lease deadline, 0 when leases never expire. */
  record ExtendLease(String key, int attempt) implements Command<Long> {}

  /** start_run (3.6): the open run. */
  record StartRun() implements Command<RunSummary> {}

  /** complete_run (3.6): the closed run, empty when none was open. */
  record CompleteRun() implements Command<Optional<RunSummary>> {}

  /** apply_action (3.7): the audit log's message. */
  record ApplyAction(OperatorAction action) implements Command<String> {}

  /**
   * update_pipeline (3.9).
   *
   * @param updateMask the paths to change, as given
   * @param values a complete spec (absent fields already hold their defaults)
   */
  record UpdatePipeline(List<String> updateMask, PipelineSpec values)
      implements Command<PipelineRuntime.UpdateResult> {}

  /** Adds a pipeline with this (effective) spec; applied by the host, not by a runtime. */
  record CreatePipeline(PipelineSpec spec) implements Command<Void> {}

  /** Removes the pipeline; applied by the host, not by a runtime. */
  record DeletePipeline() implements Command<Void> {}
}
