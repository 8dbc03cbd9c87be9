package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.cancel;
import static dev.lightspeed.orchestrator.server.Fixtures.disableConnector;
import static dev.lightspeed.orchestrator.server.Fixtures.discard;
import static dev.lightspeed.orchestrator.server.Fixtures.drain;
import static dev.lightspeed.orchestrator.server.Fixtures.enableConnector;
import static dev.lightspeed.orchestrator.server.Fixtures.pause;
import static dev.lightspeed.orchestrator.server.Fixtures.pauseStage;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static dev.lightspeed.orchestrator.server.Fixtures.redrive;
import static dev.lightspeed.orchestrator.server.Fixtures.resume;
import static dev.lightspeed.orchestrator.server.Fixtures.resumeStage;
import static dev.lightspeed.orchestrator.server.Fixtures.setMaxInFlight;
import static dev.lightspeed.orchestrator.server.RpcErrors.assertRefused;
import static dev.lightspeed.orchestrator.server.RpcErrors.errorInfo;
import static dev.lightspeed.orchestrator.server.RpcErrors.violatedFields;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.v1.ApplyActionRequest;
import dev.lightspeed.orchestrator.v1.AuditLogEntry;
import dev.lightspeed.orchestrator.v1.BatchState;
import dev.lightspeed.orchestrator.v1.Boundary;
import dev.lightspeed.orchestrator.v1.Connector;
import dev.lightspeed.orchestrator.v1.GetPipelineRequest;
import dev.lightspeed.orchestrator.v1.ListAuditLogRequest;
import dev.lightspeed.orchestrator.v1.ListDeadLettersRequest;
import dev.lightspeed.orchestrator.v1.ListRetriesRequest;
import dev.lightspeed.orchestrator.v1.OperatorAction;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceBlockingStub;
import dev.lightspeed.orchestrator.v1.PipelineMode;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import io.grpc.Status.Code;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** ApplyAction: every operator action of SPEC 3.7, its errors, and the audit log. */
class ApplyActionTest {
  @RegisterExtension final GrpcServerExtension grpc = GrpcServerExtension.inProcess();

  private OrchestratorServiceBlockingStub stub;
  /** max_in_flight 4; two stages, connectors extract-in and load-in. */
  private PipelineClient p;

  @BeforeEach
  void setUp() {
    stub = grpc.blocking();
    p =
        PipelineClient.create(
            stub,
            pipeline("orders", "extract", "load")
                .setBoundary(Boundary.newBuilder().setMaxInFlight(4))
                .build());
  }

  private List<AuditLogEntry> auditLog() {
    return stub.listAuditLog(ListAuditLogRequest.newBuilder().setPipeline("orders").build())
        .getEntriesList();
  }

  private void deadLettered(String key, long sequence) {
    p.enqueue(batch(key, "extract", sequence));
    p.startOne(key);
    p.fail(key, 1, "poison", true);
  }

  /** Applies {@code action}, which must be refused with {@code code} {@code reason}. */
  private com.google.rpc.Status refused(OperatorAction action, Code code, String reason) {
    String signature = p.status().getSignature();
    int logged = auditLog().size();
    var status = assertRefused(() -> p.apply(action), code, reason);
    assertThat(p.status().getSignature()).as("a refused action changes nothing")
        .isEqualTo(signature);
    assertThat(auditLog()).as("a refused action is not logged").hasSize(logged);
    return status;
  }

  @Test
  void pause_stopsStartingButAcceptsEnqueues_andIsIdempotent() {
    p.apply(pause());
    p.apply(pause());

    assertThat(p.status().getMode()).isEqualTo(PipelineMode.PIPELINE_MODE_PAUSED);
    assertThat(p.enqueue(batch("b1", "extract", 1))).isFalse();
    assertThat(p.startAll()).isEmpty();
    assertThat(auditLog()).extracting(e -> e.getAction().getActionCase())
        .containsExactly(OperatorAction.ActionCase.PAUSE, OperatorAction.ActionCase.PAUSE);
  }

  @Test
  void resume_afterPause_startsAgain() {
    p.enqueue(batch("b1", "extract", 1));
    p.apply(pause());

    p.apply(resume());

    assertThat(p.status().getMode()).isEqualTo(PipelineMode.PIPELINE_MODE_RUNNING);
    assertThat(p.startOne("b1").getAttempt()).isEqualTo(1);
  }

  @Test
  void drain_refusesEnqueuesKeepsStartingAndEndsDrained_deadLettersDoNotCount() {
    deadLettered("dead", 1);
    p.enqueue(batch("b1", "extract", 2));

    p.apply(drain());

    assertThat(p.status().getMode()).isEqualTo(PipelineMode.PIPELINE_MODE_DRAINING);
    p.startOne("b1");
    assertThat(p.status().getMode()).isEqualTo(PipelineMode.PIPELINE_MODE_DRAINING);
    p.ackProcessed("b1", 1);
    assertThat(p.status().getMode()).isEqualTo(PipelineMode.PIPELINE_MODE_DRAINED);

    p.apply(redrive("dead"));
    assertThat(p.status().getMode()).as("a redrive during a drain")
        .isEqualTo(PipelineMode.PIPELINE_MODE_DRAINING);

    p.apply(resume());
    assertThat(p.status().getMode()).as("RESUME cancels the drain")
        .isEqualTo(PipelineMode.PIPELINE_MODE_RUNNING);
    assertThat(p.enqueue(batch("b2", "extract", 3))).isFalse();
  }

  @Test
  void pauseStageAndResumeStage_stopAndRestartThatStageOnly() {
    p.enqueue(batch("e1", "extract", 1));
    p.enqueue(batch("l1", "load", 1));

    p.apply(pauseStage("extract"));
    assertThat(p.startAll()).extracting(s -> s.getBatch().getKey()).containsExactly("l1");

    p.apply(resumeStage("extract"));
    assertThat(p.startAll()).extracting(s -> s.getBatch().getKey()).containsExactly("e1");
  }

  @Test
  void pauseStage_ofAnUnknownStage_isFailedPreconditionUnknownStage() {
    var paused = refused(pauseStage("nope"), Code.FAILED_PRECONDITION, "UNKNOWN_STAGE");
    var resumed = refused(resumeStage("nope"), Code.FAILED_PRECONDITION, "UNKNOWN_STAGE");

    assertThat(errorInfo(paused).getMetadataMap())
        .containsEntry("field", "action.pause_stage.stage");
    assertThat(errorInfo(resumed).getMetadataMap())
        .containsEntry("field", "action.resume_stage.stage");
  }

  @Test
  void disableAndEnableConnector_showInGetPipelineAndGateTheStage() {
    p.enqueue(batch("e1", "extract", 1));

    p.apply(disableConnector("extract-in"));

    List<Connector> connectors =
        stub.getPipeline(GetPipelineRequest.newBuilder().setName("orders").build())
            .getPipeline()
            .getConnectorsList();
    assertThat(connectors).extracting(Connector::getName, Connector::getDisabled)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("extract-in", true),
            org.assertj.core.groups.Tuple.tuple("load-in", false));
    assertThat(p.startAll()).isEmpty();
    assertRefused(
        () -> p.enqueue(batch("e2", "extract", 2)), Code.FAILED_PRECONDITION,
        "CONNECTOR_DISABLED");

    p.apply(enableConnector("extract-in"));

    assertThat(
            stub.getPipeline(GetPipelineRequest.newBuilder().setName("orders").build())
                .getPipeline()
                .getConnectors(0)
                .getDisabled())
        .isFalse();
    assertThat(p.startOne("e1").getAttempt()).isEqualTo(1);
  }

  @Test
  void disableConnector_ofAnUnknownConnector_isNotFoundConnectorNotFound() {
    var disabled = refused(disableConnector("nope"), Code.NOT_FOUND, "CONNECTOR_NOT_FOUND");
    var enabled = refused(enableConnector("nope"), Code.NOT_FOUND, "CONNECTOR_NOT_FOUND");

    assertThat(errorInfo(disabled).getMetadataMap())
        .containsEntry("field", "action.disable_connector.name");
    assertThat(errorInfo(enabled).getMetadataMap())
        .containsEntry("field", "action.enable_connector.name");
  }

  @Test
  void setMaxInFlight_showsOnlyInGetStatus_andBelowTheInFlightCountStartsNothingUntilUnder() {
    for (int i = 1; i <= 4; i++) {
      p.enqueue(batch("b" + i, "extract", i));
    }
    assertThat(p.start(3)).hasSize(3);

    p.apply(setMaxInFlight(2));

    assertThat(p.status().getEffectiveMaxInFlight()).isEqualTo(2);
    assertThat(
            stub.getPipeline(GetPipelineRequest.newBuilder().setName("orders").build())
                .getPipeline()
                .getBoundary()
                .getMaxInFlight())
        .isEqualTo(4);
    assertThat(p.startAll()).isEmpty();
    p.ackProcessed("b1", 1);
    assertThat(p.startAll()).as("2 in flight, limit 2").isEmpty();
    p.ackProcessed("b2", 1);
    assertThat(p.startAll()).extracting(s -> s.getBatch().getKey()).containsExactly("b4");
  }

  @Test
  void setMaxInFlight_outsideOneToTheBoundary_isInvalidArgumentInvalidAction() {
    for (int bad : new int[] {0, -1, 5}) {
      var status = refused(setMaxInFlight(bad), Code.INVALID_ARGUMENT, "INVALID_ACTION");
      assertThat(violatedFields(status))
          .containsExactly("action.set_max_in_flight.max_in_flight");
    }
    p.apply(setMaxInFlight(4));
    p.apply(setMaxInFlight(1));
    assertThat(p.status().getEffectiveMaxInFlight()).isEqualTo(1);
  }

  @Test
  void applyAction_withNoActionSet_isInvalidArgumentInvalidActionNamingTheActionField() {
    var status =
        refused(OperatorAction.getDefaultInstance(), Code.INVALID_ARGUMENT, "INVALID_ACTION");
    assertThat(violatedFields(status)).containsExactly("action");

    var missing =
        assertRefused(
            () -> stub.applyAction(ApplyActionRequest.newBuilder().setPipeline("orders").build()),
            Code.INVALID_ARGUMENT,
            "INVALID_ACTION");
    assertThat(violatedFields(missing)).containsExactly("action");
  }

  @Test
  void redriveDeadLetter_queuesTheBatchAgainReadyNowWithAttemptReset() {
    deadLettered("b1", 1);
    long now = grpc.clock().advance(5_000);

    p.apply(redrive("b1"));

    var view = p.batch("b1");
    assertThat(view.getState()).isEqualTo(BatchState.BATCH_STATE_QUEUED);
    assertThat(view.getAttempt()).isZero();
    assertThat(view.getReadyAtMs()).isEqualTo(now);
    assertThat(
            stub.listDeadLetters(ListDeadLettersRequest.newBuilder().setPipeline("orders").build())
                .getDeadLettersList())
        .isEmpty();
    assertThat(p.status().getDeadLetterCount()).isZero();
    StartedBatch again = p.startOne("b1");
    assertThat(again.getAttempt()).isEqualTo(1);
  }

  @Test
  void redriveAndDiscard_ofABatchThatIsNotDeadLettered_isFailedPreconditionNotDeadLettered() {
    p.enqueue(batch("b1", "extract", 1));

    refused(redrive("b1"), Code.FAILED_PRECONDITION, "NOT_DEAD_LETTERED");
    refused(discard("b1"), Code.FAILED_PRECONDITION, "NOT_DEAD_LETTERED");
  }

  @Test
  void redriveDiscardAndCancel_ofAnUnknownKey_isNotFoundBatchNotFound() {
    refused(redrive("nope"), Code.NOT_FOUND, "BATCH_NOT_FOUND");
    refused(discard("nope"), Code.NOT_FOUND, "BATCH_NOT_FOUND");
    refused(cancel("nope"), Code.NOT_FOUND, "BATCH_NOT_FOUND");
  }

  @Test
  void discardDeadLetter_removesTheBatchAndFreesItsKey() {
    deadLettered("b1", 1);

    p.apply(discard("b1"));

    assertThat(p.batches()).isEmpty();
    assertThat(p.status().getDeadLetterCount()).isZero();
    assertThat(p.enqueue(batch("b1", "extract", 2).setIdempotencyKey("new"))).isFalse();
  }

  @Test
  void cancelBatch_removesAQueuedOrRetryWaitBatch() {
    p.enqueue(batch("queued", "extract", 1));
    p.enqueue(batch("retry", "extract", 2));
    p.start(0);
    p.ackProcessed("queued", 1);
    p.enqueue(batch("queued", "extract", 3).setIdempotencyKey("q2"));
    p.fail("retry", 1, "boom", false);

    p.apply(cancel("queued"));
    p.apply(cancel("retry"));

    assertThat(p.batches()).isEmpty();
    assertThat(p.status().getQueuedCount()).isZero();
    assertThat(p.status().getRetryWaitCount()).isZero();
    assertThat(
            stub.listRetries(ListRetriesRequest.newBuilder().setPipeline("orders").build())
                .getRetriesList())
        .isEmpty();
  }

  @Test
  void cancelBatch_ofAnInFlightOrDeadLetteredBatch_isFailedPreconditionNotCancellable() {
    p.enqueue(batch("running", "load", 1));
    p.startOne("running");
    deadLettered("dead", 1);

    refused(cancel("running"), Code.FAILED_PRECONDITION, "NOT_CANCELLABLE");
    refused(cancel("dead"), Code.FAILED_PRECONDITION, "NOT_CANCELLABLE");
  }

  @Test
  void applyAction_whenPipelineUnknown_isNotFoundPipelineNotFound() {
    assertRefused(
        () -> stub.applyAction(
            ApplyActionRequest.newBuilder().setPipeline("nope").setAction(pause()).build()),
        Code.NOT_FOUND,
        "PIPELINE_NOT_FOUND");
  }

  @Test
  void everyAppliedAction_isAppendedToTheAuditLogInOrderWithItsTimeAndMessage() {
    p.enqueue(batch("b1", "extract", 1));
    List<OperatorAction> actions =
        List.of(
            pause(),
            resume(),
            pauseStage("load"),
            resumeStage("load"),
            disableConnector("load-in"),
            enableConnector("load-in"),
            setMaxInFlight(3),
            cancel("b1"),
            drain());
    long[] times = new long[actions.size()];
    for (int i = 0; i < actions.size(); i++) {
      times[i] = grpc.clock().advance(10);
      p.apply(actions.get(i));
    }

    List<AuditLogEntry> log = auditLog();

    assertThat(log).extracting(AuditLogEntry::getAction).containsExactlyElementsOf(actions);
    assertThat(log).extracting(AuditLogEntry::getAtMs)
        .containsExactly(java.util.Arrays.stream(times).boxed().toArray(Long[]::new));
    assertThat(log).allSatisfy(e -> assertThat(e.getMessage()).isNotBlank());
  }
}
