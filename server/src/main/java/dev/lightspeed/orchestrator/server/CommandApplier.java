package dev.lightspeed.orchestrator.server;

import dev.lightspeed.orchestrator.core.PipelineRuntime;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.journal.v1.Command;
import dev.lightspeed.orchestrator.v1.AckItem;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * Applies one journal {@link Command} to a pipeline's runtime. The live path and replay both go
 * through here, so a command always means the same thing, and what the journal stores is exactly
 * what ran. Pipeline creation and deletion are the registry's.
 *
 * <p>Results: Enqueue and Ack give one entry per item (a result, or the {@link Rejection} that
 * refused it); the other commands give their core result or throw their rejection.
 */
final class CommandApplier {
  private CommandApplier() {}

  /** Per-item results of a bulk command: each is a result or a {@link Rejection}. */
  record ItemResults(List<Object> items) {
    /** The single item's result, or its rejection thrown. */
    Object single() {
      Object only = items.get(0);
      if (only instanceof Rejection r) {
        throw r;
      }
      return only;
    }
  }

  static Object apply(PipelineRuntime rt, Command cmd, long nowMs) {
    return switch (cmd.getKindCase()) {
      case ENQUEUE -> {
        List<Object> results = new ArrayList<>(cmd.getEnqueue().getBatchesCount());
        for (var batch : cmd.getEnqueue().getBatchesList()) {
          try {
            results.add(rt.enqueueBatch(ProtoMapper.toCore(batch), nowMs));
          } catch (Rejection r) {
            results.add(r);
          }
        }
        yield new ItemResults(results);
      }
      case UPDATE_PIPELINE -> {
        var update = cmd.getUpdatePipeline();
        yield rt.updatePipeline(
            update.getUpdateMaskList(), ProtoMapper.toCore(update.getValues()), nowMs);
      }
      case START_AVAILABLE -> {
        var start = cmd.getStartAvailable();
        yield rt.startAvailable(nowMs, start.getMaxBatches(), new LinkedHashSet<>(start.getStagesList()));
      }
      case ACK -> {
        List<Object> results = new ArrayList<>(cmd.getAck().getItemsCount());
        for (AckItem item : cmd.getAck().getItemsList()) {
          try {
            results.add(rt.ackBatch(item.getKey(), item.getAttempt(), nowMs));
          } catch (Rejection r) {
            results.add(r);
          }
        }
        yield new ItemResults(results);
      }
      case FAIL -> {
        var fail = cmd.getFail();
        yield rt.failBatch(fail.getKey(), fail.getAttempt(), fail.getReason(), fail.getNonRetryable(), nowMs);
      }
      case EXTEND_LEASE -> rt.extendLease(cmd.getExtendLease().getKey(), cmd.getExtendLease().getAttempt(), nowMs);
      case APPLY_ACTION -> rt.applyAction(ProtoMapper.toCore(cmd.getApplyAction().getAction()), nowMs);
      case START_RUN -> rt.startRun(nowMs);
      case COMPLETE_RUN -> rt.completeRun(nowMs);
      case CREATE_PIPELINE, DELETE_PIPELINE, KIND_NOT_SET ->
          throw new IllegalArgumentException("not a pipeline command: " + cmd.getKindCase());
    };
  }
}
