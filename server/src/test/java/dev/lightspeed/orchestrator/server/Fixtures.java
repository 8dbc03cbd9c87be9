package dev.lightspeed.orchestrator.server;

import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.Connector;
import dev.lightspeed.orchestrator.v1.ConnectorKind;
import dev.lightspeed.orchestrator.v1.OperatorAction;
import dev.lightspeed.orchestrator.v1.PipelineSpec;

/** Specs, batches and operator actions that tests build over and over. */
public final class Fixtures {
  private Fixtures() {}

  /** A spec with the given stages, each bound to a SOURCE connector named {@code <stage>-in}. */
  public static PipelineSpec.Builder pipeline(String name, String... stages) {
    PipelineSpec.Builder spec = PipelineSpec.newBuilder().setName(name);
    for (String stage : stages) {
      spec.addStages(stage)
          .addConnectors(
              Connector.newBuilder()
                  .setName(stage + "-in")
                  .setKind(ConnectorKind.CONNECTOR_KIND_SOURCE)
                  .setStage(stage));
    }
    return spec;
  }

  /** A batch of 10 records with idempotency key {@code idem-<key>}. */
  public static Batch.Builder batch(String key, String stage, long sequence) {
    return Batch.newBuilder()
        .setKey(key)
        .setStage(stage)
        .setRecords(10)
        .setIdempotencyKey("idem-" + key)
        .setSequence(sequence);
  }

  public static OperatorAction pause() {
    return OperatorAction.newBuilder().setPause(OperatorAction.Pause.getDefaultInstance()).build();
  }

  public static OperatorAction resume() {
    return OperatorAction.newBuilder()
        .setResume(OperatorAction.Resume.getDefaultInstance())
        .build();
  }

  public static OperatorAction drain() {
    return OperatorAction.newBuilder().setDrain(OperatorAction.Drain.getDefaultInstance()).build();
  }

  public static OperatorAction pauseStage(String stage) {
    return OperatorAction.newBuilder()
        .setPauseStage(OperatorAction.PauseStage.newBuilder().setStage(stage))
        .build();
  }

  public static OperatorAction resumeStage(String stage) {
    return OperatorAction.newBuilder()
        .setResumeStage(OperatorAction.ResumeStage.newBuilder().setStage(stage))
        .build();
  }

  public static OperatorAction disableConnector(String name) {
    return OperatorAction.newBuilder()
        .setDisableConnector(OperatorAction.DisableConnector.newBuilder().setName(name))
        .build();
  }

  public static OperatorAction enableConnector(String name) {
    return OperatorAction.newBuilder()
        .setEnableConnector(OperatorAction.EnableConnector.newBuilder().setName(name))
        .build();
  }

  public static OperatorAction setMaxInFlight(int max) {
    return OperatorAction.newBuilder()
        .setSetMaxInFlight(OperatorAction.SetMaxInFlight.newBuilder().setMaxInFlight(max))
        .build();
  }

  public static OperatorAction redrive(String key) {
    return OperatorAction.newBuilder()
        .setRedriveDeadLetter(OperatorAction.RedriveDeadLetter.newBuilder().setKey(key))
        .build();
  }

  public static OperatorAction discard(String key) {
    return OperatorAction.newBuilder()
        .setDiscardDeadLetter(OperatorAction.DiscardDeadLetter.newBuilder().setKey(key))
        .build();
  }

  public static OperatorAction cancel(String key) {
    return OperatorAction.newBuilder()
        .setCancelBatch(OperatorAction.CancelBatch.newBuilder().setKey(key))
        .build();
  }
}
