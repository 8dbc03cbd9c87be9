package dev.lightspeed.orchestrator.cli;

import com.google.protobuf.MessageOrBuilder;
import dev.lightspeed.orchestrator.client.OrchestratorClient;
import dev.lightspeed.orchestrator.v1.AuditLogEntry;
import dev.lightspeed.orchestrator.v1.BatchState;
import dev.lightspeed.orchestrator.v1.BatchView;
import dev.lightspeed.orchestrator.v1.DeadLetterRecord;
import dev.lightspeed.orchestrator.v1.GetStatusResponse;
import dev.lightspeed.orchestrator.v1.ListAuditLogRequest;
import dev.lightspeed.orchestrator.v1.ListAuditLogResponse;
import dev.lightspeed.orchestrator.v1.ListBatchesRequest;
import dev.lightspeed.orchestrator.v1.ListBatchesResponse;
import dev.lightspeed.orchestrator.v1.ListDeadLettersRequest;
import dev.lightspeed.orchestrator.v1.ListDeadLettersResponse;
import dev.lightspeed.orchestrator.v1.ListRetriesRequest;
import dev.lightspeed.orchestrator.v1.ListRetriesResponse;
import dev.lightspeed.orchestrator.v1.RetryRecord;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Reads: status, batches, retries, dead-letters, audit. Lists read every page. */
final class QueryCommands {
  private QueryCommands() {}

  /** The short names of BatchState accepted by {@code batches --state}. */
  enum StateFilter {
    QUEUED(BatchState.BATCH_STATE_QUEUED),
    IN_FLIGHT(BatchState.BATCH_STATE_IN_FLIGHT),
    RETRY_WAIT(BatchState.BATCH_STATE_RETRY_WAIT),
    DEAD_LETTERED(BatchState.BATCH_STATE_DEAD_LETTERED);

    final BatchState state;

    StateFilter(BatchState state) {
      this.state = state;
    }
  }

  @Command(name = "status", description = "Counts, mode, active run, signature and validity.")
  static final class Status extends ClientCommand {
    @Parameters(paramLabel = "PIPELINE")
    String pipeline;

    @Option(names = "--json", description = "Print protobuf JSON.")
    boolean json;

    @Option(
        names = "--stale-ok",
        description = "On a cluster node: answer from that node's own replica (may miss recent"
            + " writes made elsewhere; answers while the pipeline's group has no leader). A"
            + " single server ignores it.")
    boolean staleOk;

    @Override
    int run(OrchestratorClient client) {
      GetStatusResponse s = client.getStatus(pipeline, staleOk);
      if (json) {
        out().println(Output.json(s));
        return 0;
      }
      Output.table(
          out(),
          List.of("FIELD", "VALUE"),
          List.of(
              List.of("pipeline", pipeline),
              List.of("mode", Output.shortName(s.getMode(), "PIPELINE_MODE_")),
              // queued_count includes the batches waiting to retry (it is what max_queued
              // limits); the label says so, or one batch reads as two.
              List.of("queued", s.getQueuedCount() + " (" + (s.getQueuedCount()
                  - s.getRetryWaitCount()) + " ready, " + s.getRetryWaitCount()
                  + " waiting to retry)"),
              List.of("retry_wait", s.getRetryWaitCount() + " (of the queued)"),
              List.of("in_flight", Integer.toString(s.getInFlightCount())),
              List.of("max_in_flight", Integer.toString(s.getEffectiveMaxInFlight())),
              List.of("dead_letters", Long.toString(s.getDeadLetterCount())),
              List.of("active_run", Long.toString(s.getActiveRunId())),
              List.of("signature", s.getSignature()),
              List.of("valid", s.getValid() ? "true" : "false: " + s.getInvalidReason())));
      return 0;
    }
  }

  @Command(name = "batches", description = "List the live batches in enqueue order.")
  static final class Batches extends ListCommand<BatchView> {
    @Option(
        names = "--state",
        description = "Only batches in this state: ${COMPLETION-CANDIDATES}.")
    StateFilter state;

    @Override
    List<BatchView> list(OrchestratorClient client) {
      return Pages.all(
          token -> {
            ListBatchesRequest.Builder req =
                ListBatchesRequest.newBuilder()
                    .setPipeline(pipeline).setStaleOk(staleOk)
                    .setPageSize(Pages.PAGE_SIZE)
                    .setPageToken(token);
            if (state != null) {
              req.setState(state.state);
            }
            return client.listBatches(req.build());
          },
          ListBatchesResponse::getBatchesList,
          ListBatchesResponse::getNextPageToken);
    }

    @Override
    MessageOrBuilder response(List<BatchView> all) {
      return ListBatchesResponse.newBuilder().addAllBatches(all);
    }

    @Override
    List<String> header() {
      return List.of("KEY", "STAGE", "STATE", "ATTEMPT", "RECORDS", "READY_AT", "LEASE_DEADLINE");
    }

    @Override
    List<String> row(BatchView b) {
      return List.of(
          b.getBatch().getKey(),
          b.getBatch().getStage(),
          Output.shortName(b.getState(), "BATCH_STATE_"),
          Integer.toString(b.getAttempt()),
          Long.toString(b.getBatch().getRecords()),
          Output.time(b.getReadyAtMs()),
          Output.time(b.getLeaseDeadlineMs()));
    }
  }

  @Command(name = "retries", description = "List the batches waiting to be retried.")
  static final class Retries extends ListCommand<RetryRecord> {
    @Override
    List<RetryRecord> list(OrchestratorClient client) {
      return Pages.all(
          token -> client.listRetries(ListRetriesRequest.newBuilder()
              .setPipeline(pipeline).setStaleOk(staleOk)
              .setPageSize(Pages.PAGE_SIZE).setPageToken(token).build()),
          ListRetriesResponse::getRetriesList,
          ListRetriesResponse::getNextPageToken);
    }

    @Override
    MessageOrBuilder response(List<RetryRecord> all) {
      return ListRetriesResponse.newBuilder().addAllRetries(all);
    }

    @Override
    List<String> header() {
      return List.of("KEY", "NEXT_ATTEMPT", "RETRY_AT", "REASON");
    }

    @Override
    List<String> row(RetryRecord r) {
      return List.of(
          r.getBatchKey(),
          Integer.toString(r.getNextAttempt()),
          Output.time(r.getRetryAtMs()),
          r.getReason());
    }
  }

  @Command(name = "dead-letters", description = "List the dead letters in the order they were emitted.")
  static final class DeadLetters extends ListCommand<DeadLetterRecord> {
    @Override
    List<DeadLetterRecord> list(OrchestratorClient client) {
      return Pages.all(
          token -> client.listDeadLetters(ListDeadLettersRequest.newBuilder()
              .setPipeline(pipeline).setStaleOk(staleOk)
              .setPageSize(Pages.PAGE_SIZE).setPageToken(token).build()),
          ListDeadLettersResponse::getDeadLettersList,
          ListDeadLettersResponse::getNextPageToken);
    }

    @Override
    MessageOrBuilder response(List<DeadLetterRecord> all) {
      return ListDeadLettersResponse.newBuilder().addAllDeadLetters(all);
    }

    @Override
    List<String> header() {
      return List.of("KEY", "DESTINATION", "AT", "REASON");
    }

    @Override
    List<String> row(DeadLetterRecord d) {
      return List.of(d.getBatchKey(), d.getDestination(), Output.time(d.getAtMs()), d.getReason());
    }
  }

  @Command(name = "audit", description = "List the operator actions applied, oldest first.")
  static final class Audit extends ListCommand<AuditLogEntry> {
    @Override
    List<AuditLogEntry> list(OrchestratorClient client) {
      return Pages.all(
          token -> client.listAuditLog(ListAuditLogRequest.newBuilder()
              .setPipeline(pipeline).setStaleOk(staleOk)
              .setPageSize(Pages.PAGE_SIZE).setPageToken(token).build()),
          ListAuditLogResponse::getEntriesList,
          ListAuditLogResponse::getNextPageToken);
    }

    @Override
    MessageOrBuilder response(List<AuditLogEntry> all) {
      return ListAuditLogResponse.newBuilder().addAllEntries(all);
    }

    @Override
    List<String> header() {
      return List.of("AT", "ACTION", "MESSAGE");
    }

    @Override
    List<String> row(AuditLogEntry e) {
      return List.of(Output.time(e.getAtMs()), Output.jsonLine(e.getAction()), e.getMessage());
    }
  }
}
