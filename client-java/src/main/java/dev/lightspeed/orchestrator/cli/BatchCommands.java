package dev.lightspeed.orchestrator.cli;

import dev.lightspeed.orchestrator.client.OrchestratorClient;
import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.GetStatusResponse;
import dev.lightspeed.orchestrator.v1.ProcessOutcome;
import dev.lightspeed.orchestrator.v1.StartAvailableRequest;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The batch life cycle by hand: enqueue, start, ack, fail, extend-lease. */
final class BatchCommands {
  private BatchCommands() {}

  @Command(name = "enqueue", description = "Enqueue one batch.")
  static final class Enqueue extends ClientCommand {
    @Parameters(paramLabel = "PIPELINE")
    String pipeline;

    @Option(names = "--key", required = true, description = "The batch key.")
    String key;

    @Option(names = "--stage", required = true, description = "The stage to enqueue to.")
    String stage;

    @Option(names = "--records", required = true, description = "Number of records, ≥ 1.")
    long records;

    @Option(names = "--sequence", defaultValue = "0", description = "Optional sequence number: 0 (the default) = none; a positive one must be above the stage's last positive sequence.")
    long sequence;

    @Option(names = "--lag-ms", defaultValue = "0", description = "The batch's lag in ms (default: ${DEFAULT-VALUE}).")
    long lagMs;

    @Option(
        names = "--idempotency-key",
        description = "Makes a repeated enqueue harmless (default: the batch key).")
    String idempotencyKey;

    @Override
    int run(OrchestratorClient client) {
      Batch batch =
          Batch.newBuilder()
              .setKey(key)
              .setStage(stage)
              .setRecords(records)
              .setSequence(sequence)
              .setLagMs(lagMs)
              .setIdempotencyKey(idempotencyKey == null ? key : idempotencyKey)
              .build();
      boolean dedup = client.enqueueBatch(pipeline, batch);
      out().println(
          dedup
              ? "already enqueued " + key + " (same idempotency key; nothing changed)"
              : "enqueued " + key);
      return 0;
    }
  }

  @Command(
      name = "start",
      description = {
        "Start the batches available now and list them.",
        "Each must then be acked, failed or have its lease extended before its deadline."
      })
  static final class Start extends ClientCommand {
    @Parameters(paramLabel = "PIPELINE")
    String pipeline;

    @Option(names = "--max", defaultValue = "0", description = "Start at most this many; 0 = no limit.")
    int max;

    @Option(names = "--stage", description = "Only these stages (repeatable).")
    List<String> stages = new ArrayList<>();

    @Option(names = "--json", description = "Print protobuf JSON, one StartedBatch per line.")
    boolean json;

    @Override
    int run(OrchestratorClient client) {
      List<StartedBatch> started =
          client.startAvailable(
              StartAvailableRequest.newBuilder()
                  .setPipeline(pipeline)
                  .setMaxBatches(max)
                  .addAllStages(stages)
                  .build());
      if (json) {
        started.forEach(s -> out().println(Output.jsonLine(s)));
        out().flush();
      } else if (started.isEmpty()) {
        // "(none)" alone leaves the operator guessing: say what holds the batches back.
        out().println("(none) " + whyNothingStarted(pipeline, client.getStatus(pipeline)));
        out().flush();
      } else {
        Output.table(out(), Output.STARTED_HEADER, started.stream().map(Output::row).toList());
      }
      return 0;
    }
  }

  /** Why a StartAvailable started nothing, from the pipeline's status, in one sentence. */
  static String whyNothingStarted(String pipeline, GetStatusResponse s) {
    long ready = s.getQueuedCount() - s.getRetryWaitCount();
    switch (s.getMode()) {
      case PIPELINE_MODE_PAUSED:
        return "pipeline is PAUSED; `lightspeed resume " + pipeline + "` to start again";
      case PIPELINE_MODE_DRAINED:
        return "pipeline is DRAINED: nothing is left to start and enqueues are refused;"
            + " `lightspeed resume " + pipeline + "` to take batches again";
      default:
        break;
    }
    if (s.getInFlightCount() >= s.getEffectiveMaxInFlight() && ready > 0) {
      return "in-flight limit reached (" + s.getInFlightCount() + " of "
          + s.getEffectiveMaxInFlight() + " in flight); ack or fail those first, or raise it with"
          + " `lightspeed set-max-in-flight " + pipeline + " N`";
    }
    if (ready > 0) {
      return ready + " queued but not startable now: their stage or connector may be paused or"
          + " disabled, an ordered connector may wait for an earlier batch, or --stage excludes"
          + " them (see `lightspeed batches " + pipeline + "`)";
    }
    if (s.getRetryWaitCount() > 0) {
      return "nothing ready: " + s.getRetryWaitCount() + " waiting to retry (`lightspeed"
          + " retries " + pipeline + "` shows when)";
    }
    return "nothing queued";
  }

  @Command(name = "ack", description = "Ack a started batch: its work is done.")
  static final class Ack extends ClientCommand {
    @Parameters(index = "0", paramLabel = "PIPELINE")
    String pipeline;

    @Parameters(index = "1", paramLabel = "KEY")
    String key;

    @Option(names = "--attempt", defaultValue = "0", description = "The started attempt; 0 = any (default: ${DEFAULT-VALUE}).")
    int attempt;

    @Option(names = "--json", description = "Print the ProcessOutcome as protobuf JSON.")
    boolean json;

    @Override
    int run(OrchestratorClient client) {
      ProcessOutcome outcome = client.ackBatch(pipeline, key, attempt);
      out().println(json ? Output.json(outcome) : Output.describe(outcome));
      return 0;
    }
  }

  @Command(
      name = "fail",
      description = {
        "Report a failed attempt: the batch is retried or dead-lettered.",
        "A stale report (the attempt is no longer in flight) is refused: exit code 1."
      })
  static final class Fail extends ClientCommand {
    @Parameters(index = "0", paramLabel = "PIPELINE")
    String pipeline;

    @Parameters(index = "1", paramLabel = "KEY")
    String key;

    @Option(names = "--attempt", required = true, description = "The started attempt, ≥ 1.")
    int attempt;

    @Option(names = "--reason", required = true, description = "Why it failed.")
    String reason;

    @Option(names = "--non-retryable", description = "Dead-letter at once.")
    boolean nonRetryable;

    @Option(names = "--json", description = "Print the ProcessOutcome as protobuf JSON.")
    boolean json;

    @Override
    int run(OrchestratorClient client) {
      ProcessOutcome outcome = client.failBatch(pipeline, key, attempt, reason, nonRetryable);
      if (outcome.hasFailureRejected()) {
        throw new CliException(
            "FAILURE_REJECTED", outcome.getFailureRejected().getReason(), OrchestratorCli.REFUSED);
      }
      out().println(json ? Output.json(outcome) : Output.describe(outcome));
      return 0;
    }
  }

  @Command(name = "extend-lease", description = "Heartbeat: extend an in-flight batch's lease.")
  static final class ExtendLease extends ClientCommand {
    @Parameters(index = "0", paramLabel = "PIPELINE")
    String pipeline;

    @Parameters(index = "1", paramLabel = "KEY")
    String key;

    @Option(names = "--attempt", defaultValue = "0", description = "The started attempt; 0 = any (default: ${DEFAULT-VALUE}).")
    int attempt;

    @Override
    int run(OrchestratorClient client) {
      long deadline = client.extendLease(pipeline, key, attempt);
      out().println("lease of " + key + " extended to " + Output.time(deadline));
      return 0;
    }
  }
}
