package dev.lightspeed.orchestrator.grpc;

import dev.lightspeed.orchestrator.core.Batch;
import dev.lightspeed.orchestrator.core.BatchState;
import dev.lightspeed.orchestrator.core.Boundary;
import dev.lightspeed.orchestrator.core.ConnectorKind;
import dev.lightspeed.orchestrator.core.OperatorAction;
import dev.lightspeed.orchestrator.core.PipelineMode;
import dev.lightspeed.orchestrator.core.PipelineSpec;
import dev.lightspeed.orchestrator.core.ProcessOutcome;
import dev.lightspeed.orchestrator.core.Reason;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.core.RetryPolicy;
import dev.lightspeed.orchestrator.host.ServerReason;
import dev.lightspeed.orchestrator.v1.AuditLogEntry;
import dev.lightspeed.orchestrator.v1.BatchView;
import dev.lightspeed.orchestrator.v1.Connector;
import dev.lightspeed.orchestrator.v1.DeadLetterRecord;
import dev.lightspeed.orchestrator.v1.FailureRejected;
import dev.lightspeed.orchestrator.v1.GetStatusResponse;
import dev.lightspeed.orchestrator.v1.ProcessResult;
import dev.lightspeed.orchestrator.v1.RetryRecord;
import dev.lightspeed.orchestrator.v1.RunSummary;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import java.util.ArrayList;
import java.util.List;

/**
 * Every translation between the v1 protobuf messages and the core's types, in one place. Proto3
 * {@code optional} settings that are absent take the defaults of SPEC section 2 here, so the core
 * only ever sees complete values.
 */
public final class ProtoMapper {
  private ProtoMapper() {}

  // ---- pipeline spec -------------------------------------------------------------------------

  public static PipelineSpec toCore(dev.lightspeed.orchestrator.v1.PipelineSpec p) {
    List<dev.lightspeed.orchestrator.core.Connector> connectors = new ArrayList<>();
    for (Connector c : p.getConnectorsList()) {
      connectors.add(
          new dev.lightspeed.orchestrator.core.Connector(
              c.getName(),
              toCore(c.getKind()),
              c.getStage(),
              c.hasDisabled() && c.getDisabled(),
              c.hasMaxBatchRecords() ? c.getMaxBatchRecords() : 0,
              c.getDeadLetterDestination(),
              c.hasOrdered() && c.getOrdered()));
    }
    Boundary d = Boundary.DEFAULT;
    dev.lightspeed.orchestrator.v1.Boundary b = p.getBoundary();
    Boundary boundary =
        new Boundary(
            b.hasMaxInFlight() ? b.getMaxInFlight() : d.maxInFlight(),
            b.hasMaxQueued() ? b.getMaxQueued() : d.maxQueued(),
            b.hasMaxLagMs() ? b.getMaxLagMs() : d.maxLagMs(),
            b.hasMaxInFlightRecords() ? b.getMaxInFlightRecords() : d.maxInFlightRecords(),
            b.hasLeaseMs() ? b.getLeaseMs() : d.leaseMs());
    RetryPolicy rd = RetryPolicy.DEFAULT;
    dev.lightspeed.orchestrator.v1.RetryPolicy r = p.getRetry();
    RetryPolicy retry =
        new RetryPolicy(
            r.hasMaxAttempts() ? r.getMaxAttempts() : rd.maxAttempts(),
            r.hasInitialBackoffMs() ? r.getInitialBackoffMs() : rd.initialBackoffMs(),
            r.hasMaxBackoffMs() ? r.getMaxBackoffMs() : rd.maxBackoffMs(),
            r.hasMultiplier() ? r.getMultiplier() : rd.multiplier());
    return new PipelineSpec(
        p.getName(),
        p.getStagesList(),
        connectors,
        boundary,
        retry,
        p.hasDedupWindowMs() ? p.getDedupWindowMs() : PipelineSpec.DEFAULT_DEDUP_WINDOW_MS,
        p.hasAllowUnboundStages() && p.getAllowUnboundStages());
  }

  /** The effective spec, every field present. */
  static dev.lightspeed.orchestrator.v1.PipelineSpec toProto(PipelineSpec s) {
    dev.lightspeed.orchestrator.v1.PipelineSpec.Builder out =
        dev.lightspeed.orchestrator.v1.PipelineSpec.newBuilder()
            .setName(s.name())
            .addAllStages(s.stages())
            .setDedupWindowMs(s.dedupWindowMs())
            .setAllowUnboundStages(s.allowUnboundStages());
    for (dev.lightspeed.orchestrator.core.Connector c : s.connectors()) {
      out.addConnectors(
          Connector.newBuilder()
              .setName(c.name())
              .setKind(toProto(c.kind()))
              .setStage(c.stage())
              .setDisabled(c.disabled())
              .setMaxBatchRecords(c.maxBatchRecords())
              .setDeadLetterDestination(c.deadLetterDestination())
              .setOrdered(c.ordered()));
    }
    Boundary b = s.boundary();
    out.setBoundary(
        dev.lightspeed.orchestrator.v1.Boundary.newBuilder()
            .setMaxInFlight(b.maxInFlight())
            .setMaxQueued(b.maxQueued())
            .setMaxLagMs(b.maxLagMs())
            .setMaxInFlightRecords(b.maxInFlightRecords())
            .setLeaseMs(b.leaseMs()));
    RetryPolicy r = s.retry();
    out.setRetry(
        dev.lightspeed.orchestrator.v1.RetryPolicy.newBuilder()
            .setMaxAttempts(r.maxAttempts())
            .setInitialBackoffMs(r.initialBackoffMs())
            .setMaxBackoffMs(r.maxBackoffMs())
            .setMultiplier(r.multiplier()));
    return out.build();
  }

  /** Null for UNSPECIFIED or an unknown number: the validator then names the field. */
  private static ConnectorKind toCore(dev.lightspeed.orchestrator.v1.ConnectorKind kind) {
    return switch (kind) {
      case CONNECTOR_KIND_SOURCE -> ConnectorKind.SOURCE;
      case CONNECTOR_KIND_SINK -> ConnectorKind.SINK;
      default -> null;
    };
  }

  private static dev.lightspeed.orchestrator.v1.ConnectorKind toProto(ConnectorKind kind) {
    return kind == ConnectorKind.SOURCE
        ? dev.lightspeed.orchestrator.v1.ConnectorKind.CONNECTOR_KIND_SOURCE
        : dev.lightspeed.orchestrator.v1.ConnectorKind.CONNECTOR_KIND_SINK;
  }

  // ---- batches -------------------------------------------------------------------------------

  public static Batch toCore(dev.lightspeed.orchestrator.v1.Batch b) {
    return new Batch(
        b.getKey(), b.getStage(), b.getRecords(), b.getLagMs(), b.getIdempotencyKey(), b.getSequence());
  }

  static dev.lightspeed.orchestrator.v1.Batch toProto(Batch b) {
    return dev.lightspeed.orchestrator.v1.Batch.newBuilder()
        .setKey(b.key())
        .setStage(b.stage())
        .setRecords(b.records())
        .setLagMs(b.lagMs())
        .setIdempotencyKey(b.idempotencyKey())
        .setSequence(b.sequence())
        .build();
  }

  static StartedBatch toProto(dev.lightspeed.orchestrator.core.StartedBatch s) {
    return StartedBatch.newBuilder()
        .setBatch(toProto(s.batch()))
        .setAttempt(s.attempt())
        .setStartedAtMs(s.startedAtMs())
        .setLeaseDeadlineMs(s.leaseDeadlineMs())
        .setRunId(s.runId())
        .build();
  }

  static BatchView toProto(dev.lightspeed.orchestrator.core.BatchView v) {
    return BatchView.newBuilder()
        .setBatch(toProto(v.batch()))
        .setState(toProto(v.state()))
        .setAttempt(v.attempt())
        .setReadyAtMs(v.readyAtMs())
        .setLeaseDeadlineMs(v.leaseDeadlineMs())
        .build();
  }

  static dev.lightspeed.orchestrator.v1.BatchState toProto(BatchState s) {
    return switch (s) {
      case QUEUED -> dev.lightspeed.orchestrator.v1.BatchState.BATCH_STATE_QUEUED;
      case IN_FLIGHT -> dev.lightspeed.orchestrator.v1.BatchState.BATCH_STATE_IN_FLIGHT;
      case RETRY_WAIT -> dev.lightspeed.orchestrator.v1.BatchState.BATCH_STATE_RETRY_WAIT;
      case DEAD_LETTERED -> dev.lightspeed.orchestrator.v1.BatchState.BATCH_STATE_DEAD_LETTERED;
    };
  }

  /** The ListBatches filter; UNSPECIFIED or an unknown number is refused. */
  public static BatchState toCore(dev.lightspeed.orchestrator.v1.BatchState s) {
    return switch (s) {
      case BATCH_STATE_QUEUED -> BatchState.QUEUED;
      case BATCH_STATE_IN_FLIGHT -> BatchState.IN_FLIGHT;
      case BATCH_STATE_RETRY_WAIT -> BatchState.RETRY_WAIT;
      case BATCH_STATE_DEAD_LETTERED -> BatchState.DEAD_LETTERED;
      default ->
          throw Rejection.ofField(
              ServerReason.INVALID_REQUEST,
              "state",
              "give a BATCH_STATE_* value, or leave state out to list every batch");
    };
  }

  // ---- outcomes and records ------------------------------------------------------------------

  static dev.lightspeed.orchestrator.v1.ProcessOutcome toProto(ProcessOutcome o) {
    dev.lightspeed.orchestrator.v1.ProcessOutcome.Builder out =
        dev.lightspeed.orchestrator.v1.ProcessOutcome.newBuilder();
    if (o instanceof ProcessOutcome.Processed p) {
      out.setProcessed(toProto(p.result()));
    } else if (o instanceof ProcessOutcome.RetryScheduled r) {
      out.setRetryScheduled(toProto(r.record()));
    } else if (o instanceof ProcessOutcome.DeadLettered d) {
      out.setDeadLettered(toProto(d.record()));
    } else if (o instanceof ProcessOutcome.FailureRejected f) {
      out.setFailureRejected(FailureRejected.newBuilder().setReason(f.reason()));
    }
    return out.build();
  }

  static ProcessResult toProto(dev.lightspeed.orchestrator.core.ProcessResult r) {
    return ProcessResult.newBuilder()
        .setBatchKey(r.batchKey())
        .setStage(r.stage())
        .setRecords(r.records())
        .setAttempt(r.attempt())
        .setRunId(r.runId())
        .setStartedAtMs(r.startedAtMs())
        .setCompletedAtMs(r.completedAtMs())
        .build();
  }

  static RetryRecord toProto(dev.lightspeed.orchestrator.core.RetryRecord r) {
    return RetryRecord.newBuilder()
        .setBatchKey(r.batchKey())
        .setNextAttempt(r.nextAttempt())
        .setReason(r.reason())
        .setRetryAtMs(r.retryAtMs())
        .build();
  }

  static DeadLetterRecord toProto(dev.lightspeed.orchestrator.core.DeadLetterRecord r) {
    return DeadLetterRecord.newBuilder()
        .setBatchKey(r.batchKey())
        .setDestination(r.destination())
        .setReason(r.reason())
        .setAtMs(r.atMs())
        .build();
  }

  static RunSummary toProto(dev.lightspeed.orchestrator.core.RunSummary r) {
    return RunSummary.newBuilder()
        .setRunId(r.runId())
        .setStartedAtMs(r.startedAtMs())
        .setCompletedAtMs(r.completedAtMs())
        .setBatchesProcessed(r.batchesProcessed())
        .setRecordsProcessed(r.recordsProcessed())
        .setRetriesScheduled(r.retriesScheduled())
        .setDeadLettered(r.deadLettered())
        .build();
  }

  static AuditLogEntry toProto(dev.lightspeed.orchestrator.core.AuditEntry e) {
    return AuditLogEntry.newBuilder()
        .setAction(toProto(e.action()))
        .setAtMs(e.atMs())
        .setMessage(e.message())
        .build();
  }

  static GetStatusResponse toProto(dev.lightspeed.orchestrator.core.PipelineStatus s) {
    return GetStatusResponse.newBuilder()
        .setQueuedCount(s.queuedCount())
        .setRetryWaitCount(s.retryWaitCount())
        .setInFlightCount((int) s.inFlightCount())
        .setDeadLetterCount(s.deadLetterCount())
        .setMode(toProto(s.mode()))
        .setEffectiveMaxInFlight(s.effectiveMaxInFlight())
        .setActiveRunId(s.activeRunId())
        .setSignature(s.signature())
        .setValid(s.valid())
        .setInvalidReason(s.invalidReason())
        .build();
  }

  static dev.lightspeed.orchestrator.v1.PipelineMode toProto(PipelineMode m) {
    return switch (m) {
      case RUNNING -> dev.lightspeed.orchestrator.v1.PipelineMode.PIPELINE_MODE_RUNNING;
      case PAUSED -> dev.lightspeed.orchestrator.v1.PipelineMode.PIPELINE_MODE_PAUSED;
      case DRAINING -> dev.lightspeed.orchestrator.v1.PipelineMode.PIPELINE_MODE_DRAINING;
      case DRAINED -> dev.lightspeed.orchestrator.v1.PipelineMode.PIPELINE_MODE_DRAINED;
    };
  }

  // ---- operator actions ----------------------------------------------------------------------

  public static OperatorAction toCore(dev.lightspeed.orchestrator.v1.OperatorAction a) {
    return switch (a.getActionCase()) {
      case PAUSE -> new OperatorAction.Pause();
      case RESUME -> new OperatorAction.Resume();
      case DRAIN -> new OperatorAction.Drain();
      case PAUSE_STAGE -> new OperatorAction.PauseStage(a.getPauseStage().getStage());
      case RESUME_STAGE -> new OperatorAction.ResumeStage(a.getResumeStage().getStage());
      case DISABLE_CONNECTOR -> new OperatorAction.DisableConnector(a.getDisableConnector().getName());
      case ENABLE_CONNECTOR -> new OperatorAction.EnableConnector(a.getEnableConnector().getName());
      case SET_MAX_IN_FLIGHT -> new OperatorAction.SetMaxInFlight(a.getSetMaxInFlight().getMaxInFlight());
      case REDRIVE_DEAD_LETTER -> new OperatorAction.RedriveDeadLetter(a.getRedriveDeadLetter().getKey());
      case DISCARD_DEAD_LETTER -> new OperatorAction.DiscardDeadLetter(a.getDiscardDeadLetter().getKey());
      case CANCEL_BATCH -> new OperatorAction.CancelBatch(a.getCancelBatch().getKey());
      case UPDATE_PIPELINE ->
          throw Rejection.ofField(
              Reason.INVALID_ACTION,
              "update_pipeline",
              "update_pipeline is only recorded in the audit log; change settings with"
                  + " UpdatePipeline");
      case ACTION_NOT_SET ->
          throw Rejection.ofField(
              Reason.INVALID_ACTION,
              "action",
              "set one action: pause, resume, drain, pause_stage, resume_stage,"
                  + " disable_connector, enable_connector, set_max_in_flight,"
                  + " redrive_dead_letter, discard_dead_letter or cancel_batch");
    };
  }

  static dev.lightspeed.orchestrator.v1.OperatorAction toProto(OperatorAction a) {
    var out = dev.lightspeed.orchestrator.v1.OperatorAction.newBuilder();
    if (a instanceof OperatorAction.Pause) {
      out.setPause(dev.lightspeed.orchestrator.v1.OperatorAction.Pause.getDefaultInstance());
    } else if (a instanceof OperatorAction.Resume) {
      out.setResume(dev.lightspeed.orchestrator.v1.OperatorAction.Resume.getDefaultInstance());
    } else if (a instanceof OperatorAction.Drain) {
      out.setDrain(dev.lightspeed.orchestrator.v1.OperatorAction.Drain.getDefaultInstance());
    } else if (a instanceof OperatorAction.PauseStage x) {
      out.setPauseStage(
          dev.lightspeed.orchestrator.v1.OperatorAction.PauseStage.newBuilder().setStage(x.stage()));
    } else if (a instanceof OperatorAction.ResumeStage x) {
      out.setResumeStage(
          dev.lightspeed.orchestrator.v1.OperatorAction.ResumeStage.newBuilder().setStage(x.stage()));
    } else if (a instanceof OperatorAction.DisableConnector x) {
      out.setDisableConnector(
          dev.lightspeed.orchestrator.v1.OperatorAction.DisableConnector.newBuilder().setName(x.name()));
    } else if (a instanceof OperatorAction.EnableConnector x) {
      out.setEnableConnector(
          dev.lightspeed.orchestrator.v1.OperatorAction.EnableConnector.newBuilder().setName(x.name()));
    } else if (a instanceof OperatorAction.SetMaxInFlight x) {
      out.setSetMaxInFlight(
          dev.lightspeed.orchestrator.v1.OperatorAction.SetMaxInFlight.newBuilder()
              .setMaxInFlight(x.maxInFlight()));
    } else if (a instanceof OperatorAction.RedriveDeadLetter x) {
      out.setRedriveDeadLetter(
          dev.lightspeed.orchestrator.v1.OperatorAction.RedriveDeadLetter.newBuilder().setKey(x.key()));
    } else if (a instanceof OperatorAction.DiscardDeadLetter x) {
      out.setDiscardDeadLetter(
          dev.lightspeed.orchestrator.v1.OperatorAction.DiscardDeadLetter.newBuilder().setKey(x.key()));
    } else if (a instanceof OperatorAction.CancelBatch x) {
      out.setCancelBatch(
          dev.lightspeed.orchestrator.v1.OperatorAction.CancelBatch.newBuilder().setKey(x.key()));
    } else if (a instanceof OperatorAction.UpdatePipeline x) {
      out.setUpdatePipeline(
          dev.lightspeed.orchestrator.v1.OperatorAction.UpdatePipeline.newBuilder()
              .setUpdateMask(
                  com.google.protobuf.FieldMask.newBuilder().addAllPaths(x.updateMask())));
    }
    return out.build();
  }
}
