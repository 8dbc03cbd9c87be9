package dev.lightspeed.orchestrator.journal;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.lightspeed.orchestrator.core.Batch;
import dev.lightspeed.orchestrator.core.Boundary;
import dev.lightspeed.orchestrator.core.Command;
import dev.lightspeed.orchestrator.core.ConnectorKind;
import dev.lightspeed.orchestrator.core.OperatorAction;
import dev.lightspeed.orchestrator.core.PipelineSpec;
import dev.lightspeed.orchestrator.core.RetryPolicy;
import dev.lightspeed.orchestrator.journal.v1.Ack;
import dev.lightspeed.orchestrator.journal.v1.AckItem;
import dev.lightspeed.orchestrator.journal.v1.ApplyAction;
import dev.lightspeed.orchestrator.journal.v1.CompleteRun;
import dev.lightspeed.orchestrator.journal.v1.CreatePipeline;
import dev.lightspeed.orchestrator.journal.v1.DeletePipeline;
import dev.lightspeed.orchestrator.journal.v1.Enqueue;
import dev.lightspeed.orchestrator.journal.v1.ExtendLease;
import dev.lightspeed.orchestrator.journal.v1.Fail;
import dev.lightspeed.orchestrator.journal.v1.StartAvailable;
import dev.lightspeed.orchestrator.journal.v1.StartRun;
import dev.lightspeed.orchestrator.journal.v1.UpdatePipeline;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * The one translation between the core's {@link Command}s and the journal's records (the
 * protobuf {@code lightspeed.orchestrator.journal.v1.Command}, see journal.proto). The journal
 * keeps its own messages, never the API's: an API change does not change what is on disk.
 *
 * <p>Record versions: {@value #VERSION} is written; version 1 records (no version field, written
 * before the journal had messages of its own) are read by the same parser, because the journal's
 * messages started as wire-for-wire copies of the API messages those records held. A record of a
 * newer version is refused with a message saying which server wrote it.
 *
 * <p>Enqueue and Ack, the bulk commands on the hot path, are written by {@link HotRecords}
 * straight from the core's values: no message is built per item.
 */
public final class JournalCodec {
  /** The record version this server writes. */
  public static final int VERSION = 2;

  private JournalCodec() {}

  /** One decoded journal record: the command, the pipeline it ran on, the time it ran at. */
  public record Entry(String pipeline, long nowMs, Command<?> command) {}

  // ---- encoding ------------------------------------------------------------------------------

  /** The journal record of {@code command}, applied to {@code pipeline} at {@code nowMs}. */
  public static byte[] encode(String pipeline, long nowMs, Command<?> command) {
    if (command instanceof Command.Enqueue e) {
      return HotRecords.enqueue(pipeline, nowMs, e.batches());
    }
    if (command instanceof Command.Ack a) {
      return HotRecords.ack(pipeline, nowMs, a);
    }
    var out = dev.lightspeed.orchestrator.journal.v1.Command.newBuilder()
        .setPipeline(pipeline).setNowMs(nowMs).setVersion(VERSION);
    if (command instanceof Command.StartAvailable c) {
      out.setStartAvailable(StartAvailable.newBuilder()
          .setMaxBatches(c.maxBatches()).addAllStages(c.stages()));
    } else if (command instanceof Command.Fail c) {
      out.setFail(Fail.newBuilder().setKey(c.key()).setAttempt(c.attempt())
          .setReason(c.reason()).setNonRetryable(c.nonRetryable()));
    } else if (command instanceof Command.ExtendLease c) {
      out.setExtendLease(ExtendLease.newBuilder().setKey(c.key()).setAttempt(c.attempt()));
    } else if (command instanceof Command.StartRun) {
      out.setStartRun(StartRun.getDefaultInstance());
    } else if (command instanceof Command.CompleteRun) {
      out.setCompleteRun(CompleteRun.getDefaultInstance());
    } else if (command instanceof Command.ApplyAction c) {
      out.setApplyAction(ApplyAction.newBuilder().setAction(toJournal(c.action())));
    } else if (command instanceof Command.UpdatePipeline c) {
      out.setUpdatePipeline(UpdatePipeline.newBuilder()
          .setValues(toJournal(c.values())).addAllUpdateMask(c.updateMask()));
    } else if (command instanceof Command.CreatePipeline c) {
      out.setCreatePipeline(CreatePipeline.newBuilder().setSpec(toJournal(c.spec())));
    } else if (command instanceof Command.DeletePipeline) {
      out.setDeletePipeline(DeletePipeline.getDefaultInstance());
    } else {
      throw new IllegalArgumentException("no journal record for " + command);
    }
    return out.build().toByteArray();
  }

  // ---- decoding ------------------------------------------------------------------------------

  /**
   * The command of journal record {@code index}. Throws, naming the record, if it is not a
   * journal record or is of a newer version than this server reads.
   */
  public static Entry decode(long index, byte[] bytes) throws IOException {
    dev.lightspeed.orchestrator.journal.v1.Command c;
    try {
      c = dev.lightspeed.orchestrator.journal.v1.Command.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new IOException("journal record " + index + " is not a journal command ("
          + e.getMessage() + ")", e);
    }
    if (c.getVersion() > VERSION) {
      throw new IOException("journal record " + index + " is of journal version "
          + c.getVersion() + ", written by a newer server; this server reads versions 1 to "
          + VERSION + ". Start the server version that wrote this data directory (or a newer"
          + " one), or restore a backup made by this version.");
    }
    return new Entry(c.getPipeline(), c.getNowMs(), toCore(index, c));
  }

  private static Command<?> toCore(long index, dev.lightspeed.orchestrator.journal.v1.Command c)
      throws IOException {
    return switch (c.getKindCase()) {
      case CREATE_PIPELINE -> new Command.CreatePipeline(toCore(c.getCreatePipeline().getSpec()));
      case DELETE_PIPELINE -> new Command.DeletePipeline();
      case ENQUEUE -> {
        Enqueue e = c.getEnqueue();
        List<Batch> batches = new ArrayList<>(e.getBatchesCount());
        for (var b : e.getBatchesList()) {
          batches.add(new Batch(b.getKey(), b.getStage(), b.getRecords(), b.getLagMs(),
              b.getIdempotencyKey(), b.getSequence()));
        }
        yield new Command.Enqueue(batches);
      }
      case START_AVAILABLE -> new Command.StartAvailable(c.getStartAvailable().getMaxBatches(),
          new LinkedHashSet<>(c.getStartAvailable().getStagesList()));
      case ACK -> {
        Ack a = c.getAck();
        String[] keys = new String[a.getItemsCount()];
        int[] attempts = new int[keys.length];
        for (int i = 0; i < keys.length; i++) {
          AckItem item = a.getItems(i);
          keys[i] = item.getKey();
          attempts[i] = item.getAttempt();
        }
        yield new Command.Ack(keys, attempts);
      }
      case FAIL -> new Command.Fail(c.getFail().getKey(), c.getFail().getAttempt(),
          c.getFail().getReason(), c.getFail().getNonRetryable());
      case EXTEND_LEASE ->
          new Command.ExtendLease(c.getExtendLease().getKey(), c.getExtendLease().getAttempt());
      case APPLY_ACTION -> new Command.ApplyAction(toCore(index, c.getApplyAction().getAction()));
      case START_RUN -> new Command.StartRun();
      case COMPLETE_RUN -> new Command.CompleteRun();
      case UPDATE_PIPELINE -> new Command.UpdatePipeline(
          List.copyOf(c.getUpdatePipeline().getUpdateMaskList()),
          toCore(c.getUpdatePipeline().getValues()));
      case KIND_NOT_SET -> throw new IOException("journal record " + index
          + " holds no command this server knows (written by a newer server?)");
    };
  }

  // ---- values --------------------------------------------------------------------------------

  /** Every setting present, so the record does not depend on today's defaults. */
  static dev.lightspeed.orchestrator.journal.v1.PipelineSpec toJournal(PipelineSpec s) {
    var out = dev.lightspeed.orchestrator.journal.v1.PipelineSpec.newBuilder()
        .setName(s.name())
        .addAllStages(s.stages())
        .setDedupWindowMs(s.dedupWindowMs())
        .setAllowUnboundStages(s.allowUnboundStages());
    for (var c : s.connectors()) {
      out.addConnectors(dev.lightspeed.orchestrator.journal.v1.Connector.newBuilder()
          .setName(c.name())
          .setKindValue(c.kind() == null ? 0 : c.kind() == ConnectorKind.SOURCE ? 1 : 2)
          .setStage(c.stage())
          .setDisabled(c.disabled())
          .setMaxBatchRecords(c.maxBatchRecords())
          .setDeadLetterDestination(c.deadLetterDestination())
          .setOrdered(c.ordered()));
    }
    Boundary b = s.boundary();
    out.setBoundary(dev.lightspeed.orchestrator.journal.v1.Boundary.newBuilder()
        .setMaxInFlight(b.maxInFlight())
        .setMaxQueued(b.maxQueued())
        .setMaxLagMs(b.maxLagMs())
        .setMaxInFlightRecords(b.maxInFlightRecords())
        .setLeaseMs(b.leaseMs()));
    RetryPolicy r = s.retry();
    out.setRetry(dev.lightspeed.orchestrator.journal.v1.RetryPolicy.newBuilder()
        .setMaxAttempts(r.maxAttempts())
        .setInitialBackoffMs(r.initialBackoffMs())
        .setMaxBackoffMs(r.maxBackoffMs())
        .setMultiplier(r.multiplier()));
    return out.build();
  }

  /** Absent settings (version 1 update records) take the SPEC's defaults, as they did live. */
  static PipelineSpec toCore(dev.lightspeed.orchestrator.journal.v1.PipelineSpec p) {
    List<dev.lightspeed.orchestrator.core.Connector> connectors = new ArrayList<>();
    for (var c : p.getConnectorsList()) {
      connectors.add(new dev.lightspeed.orchestrator.core.Connector(
          c.getName(),
          switch (c.getKindValue()) {
            case 1 -> ConnectorKind.SOURCE;
            case 2 -> ConnectorKind.SINK;
            default -> null;
          },
          c.getStage(),
          c.hasDisabled() && c.getDisabled(),
          c.hasMaxBatchRecords() ? c.getMaxBatchRecords() : 0,
          c.getDeadLetterDestination(),
          c.hasOrdered() && c.getOrdered()));
    }
    Boundary d = Boundary.DEFAULT;
    var b = p.getBoundary();
    Boundary boundary = new Boundary(
        b.hasMaxInFlight() ? b.getMaxInFlight() : d.maxInFlight(),
        b.hasMaxQueued() ? b.getMaxQueued() : d.maxQueued(),
        b.hasMaxLagMs() ? b.getMaxLagMs() : d.maxLagMs(),
        b.hasMaxInFlightRecords() ? b.getMaxInFlightRecords() : d.maxInFlightRecords(),
        b.hasLeaseMs() ? b.getLeaseMs() : d.leaseMs());
    RetryPolicy rd = RetryPolicy.DEFAULT;
    var r = p.getRetry();
    RetryPolicy retry = new RetryPolicy(
        r.hasMaxAttempts() ? r.getMaxAttempts() : rd.maxAttempts(),
        r.hasInitialBackoffMs() ? r.getInitialBackoffMs() : rd.initialBackoffMs(),
        r.hasMaxBackoffMs() ? r.getMaxBackoffMs() : rd.maxBackoffMs(),
        r.hasMultiplier() ? r.getMultiplier() : rd.multiplier());
    return new PipelineSpec(
        p.getName(),
        List.copyOf(p.getStagesList()),
        connectors,
        boundary,
        retry,
        p.hasDedupWindowMs() ? p.getDedupWindowMs() : PipelineSpec.DEFAULT_DEDUP_WINDOW_MS,
        p.hasAllowUnboundStages() && p.getAllowUnboundStages());
  }

  static dev.lightspeed.orchestrator.journal.v1.OperatorAction toJournal(OperatorAction a) {
    var out = dev.lightspeed.orchestrator.journal.v1.OperatorAction.newBuilder();
    if (a instanceof OperatorAction.Pause) {
      out.setPause(
          dev.lightspeed.orchestrator.journal.v1.OperatorAction.Pause.getDefaultInstance());
    } else if (a instanceof OperatorAction.Resume) {
      out.setResume(
          dev.lightspeed.orchestrator.journal.v1.OperatorAction.Resume.getDefaultInstance());
    } else if (a instanceof OperatorAction.Drain) {
      out.setDrain(
          dev.lightspeed.orchestrator.journal.v1.OperatorAction.Drain.getDefaultInstance());
    } else if (a instanceof OperatorAction.PauseStage x) {
      out.getPauseStageBuilder().setStage(x.stage());
    } else if (a instanceof OperatorAction.ResumeStage x) {
      out.getResumeStageBuilder().setStage(x.stage());
    } else if (a instanceof OperatorAction.DisableConnector x) {
      out.getDisableConnectorBuilder().setName(x.name());
    } else if (a instanceof OperatorAction.EnableConnector x) {
      out.getEnableConnectorBuilder().setName(x.name());
    } else if (a instanceof OperatorAction.SetMaxInFlight x) {
      out.getSetMaxInFlightBuilder().setMaxInFlight(x.maxInFlight());
    } else if (a instanceof OperatorAction.RedriveDeadLetter x) {
      out.getRedriveDeadLetterBuilder().setKey(x.key());
    } else if (a instanceof OperatorAction.DiscardDeadLetter x) {
      out.getDiscardDeadLetterBuilder().setKey(x.key());
    } else if (a instanceof OperatorAction.CancelBatch x) {
      out.getCancelBatchBuilder().setKey(x.key());
    } else {
      throw new IllegalArgumentException("not a journaled action: " + a);
    }
    return out.build();
  }

  static OperatorAction toCore(long index, dev.lightspeed.orchestrator.journal.v1.OperatorAction a)
      throws IOException {
    return switch (a.getActionCase()) {
      case PAUSE -> new OperatorAction.Pause();
      case RESUME -> new OperatorAction.Resume();
      case DRAIN -> new OperatorAction.Drain();
      case PAUSE_STAGE -> new OperatorAction.PauseStage(a.getPauseStage().getStage());
      case RESUME_STAGE -> new OperatorAction.ResumeStage(a.getResumeStage().getStage());
      case DISABLE_CONNECTOR ->
          new OperatorAction.DisableConnector(a.getDisableConnector().getName());
      case ENABLE_CONNECTOR -> new OperatorAction.EnableConnector(a.getEnableConnector().getName());
      case SET_MAX_IN_FLIGHT ->
          new OperatorAction.SetMaxInFlight(a.getSetMaxInFlight().getMaxInFlight());
      case REDRIVE_DEAD_LETTER ->
          new OperatorAction.RedriveDeadLetter(a.getRedriveDeadLetter().getKey());
      case DISCARD_DEAD_LETTER ->
          new OperatorAction.DiscardDeadLetter(a.getDiscardDeadLetter().getKey());
      case CANCEL_BATCH -> new OperatorAction.CancelBatch(a.getCancelBatch().getKey());
      case ACTION_NOT_SET -> throw new IOException("journal record " + index
          + " holds an operator action this server does not know (written by a newer server?)");
    };
  }
}
