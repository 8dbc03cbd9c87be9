package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pause;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static dev.lightspeed.orchestrator.server.Fixtures.setMaxInFlight;
import static dev.lightspeed.orchestrator.server.RpcErrors.assertRefused;
import static dev.lightspeed.orchestrator.server.RpcErrors.violatedFields;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.v1.AuditLogEntry;
import dev.lightspeed.orchestrator.v1.BatchState;
import dev.lightspeed.orchestrator.v1.BatchView;
import dev.lightspeed.orchestrator.v1.Boundary;
import dev.lightspeed.orchestrator.v1.CompleteRunRequest;
import dev.lightspeed.orchestrator.v1.CompleteRunResponse;
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
import dev.lightspeed.orchestrator.v1.ListRunsRequest;
import dev.lightspeed.orchestrator.v1.ListRunsResponse;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceBlockingStub;
import dev.lightspeed.orchestrator.v1.PipelineMode;
import dev.lightspeed.orchestrator.v1.RetryPolicy;
import dev.lightspeed.orchestrator.v1.RetryRecord;
import dev.lightspeed.orchestrator.v1.RunSummary;
import dev.lightspeed.orchestrator.v1.StartRunRequest;
import io.grpc.Status.Code;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** StartRun, CompleteRun and the read side: the List RPCs (with paging) and GetStatus. */
class RunsAndQueriesTest {
  @RegisterExtension final GrpcServerExtension grpc = GrpcServerExtension.inProcess();

  private OrchestratorServiceBlockingStub stub;
  /** Lease 10 s; 2 attempts, 1 s backoff. */
  private PipelineClient p;

  @BeforeEach
  void setUp() {
    stub = grpc.blocking();
    p =
        PipelineClient.create(
            stub,
            pipeline("orders", "extract", "load")
                .setBoundary(Boundary.newBuilder().setLeaseMs(10_000).setMaxInFlight(8))
                .setRetry(RetryPolicy.newBuilder().setMaxAttempts(2).setInitialBackoffMs(1_000))
                .build());
  }

  private RunSummary startRun() {
    return stub.startRun(StartRunRequest.newBuilder().setPipeline("orders").build()).getRun();
  }

  private CompleteRunResponse completeRun() {
    return stub.completeRun(CompleteRunRequest.newBuilder().setPipeline("orders").build());
  }

  // ---- runs -----------------------------------------------------------------------------------

  @Test
  void startRun_opensRunOneNow_andRepeatedReturnsTheActiveRunUnchanged() {
    long opened = grpc.clock().millis();

    RunSummary run = startRun();
    grpc.clock().advance(1_000);
    RunSummary again = startRun();

    assertThat(run)
        .isEqualTo(RunSummary.newBuilder().setRunId(1).setStartedAtMs(opened).build());
    assertThat(again).isEqualTo(run);
    assertThat(p.status().getActiveRunId()).isEqualTo(1);
  }

  @Test
  void startRun_whenActive_reportsTheWorkSoFar() {
    startRun();
    p.enqueue(batch("b1", "extract", 1).setRecords(7));
    p.startOne("b1");
    p.ackProcessed("b1", 1);

    RunSummary active = startRun();

    assertThat(active.getRunId()).isEqualTo(1);
    assertThat(active.getCompletedAtMs()).isZero();
    assertThat(active.getBatchesProcessed()).isEqualTo(1);
    assertThat(active.getRecordsProcessed()).isEqualTo(7);
  }

  @Test
  void completeRun_closesTheActiveRunWithItsCounters() {
    long opened = grpc.clock().millis();
    startRun();
    p.enqueue(batch("ok", "extract", 1).setRecords(5));
    p.enqueue(batch("flaky", "extract", 2).setRecords(3));
    p.enqueue(batch("leased", "load", 1));
    p.startAll();
    p.ackProcessed("ok", 1);
    p.fail("flaky", 1, "boom", false);
    grpc.clock().advance(10_000);
    p.startAll(); // expires "leased": a retry too; "flaky" restarts
    p.fail("flaky", 2, "boom again", false); // last attempt: dead-lettered
    long closed = grpc.clock().advance(1);

    CompleteRunResponse resp = completeRun();

    assertThat(resp.hasRun()).isTrue();
    assertThat(resp.getRun())
        .isEqualTo(
            RunSummary.newBuilder()
                .setRunId(1)
                .setStartedAtMs(opened)
                .setCompletedAtMs(closed)
                .setBatchesProcessed(1)
                .setRecordsProcessed(5)
                .setRetriesScheduled(2)
                .setDeadLettered(1)
                .build());
    assertThat(p.status().getActiveRunId()).isZero();
    assertThat(startRun().getRunId()).isEqualTo(2);
  }

  @Test
  void completeRun_withNoActiveRun_returnsNoRunAndChangesNothing() {
    String signature = p.status().getSignature();

    CompleteRunResponse resp = completeRun();

    assertThat(resp.hasRun()).isFalse();
    assertThat(p.status().getSignature()).isEqualTo(signature);
    startRun();
    completeRun();
    assertThat(completeRun().hasRun()).as("the run is already completed").isFalse();
  }

  @Test
  void listRuns_isNewestFirst_pagesAndLeavesOutTheActiveRun() {
    for (int i = 0; i < 3; i++) {
      startRun();
      grpc.clock().advance(100);
      completeRun();
    }
    startRun();

    List<Long> ids = new ArrayList<>();
    String token = "";
    int pages = 0;
    do {
      ListRunsResponse page =
          stub.listRuns(
              ListRunsRequest.newBuilder()
                  .setPipeline("orders")
                  .setPageSize(1)
                  .setPageToken(token)
                  .build());
      page.getRunsList().forEach(r -> ids.add(r.getRunId()));
      token = page.getNextPageToken();
      pages++;
    } while (!token.isEmpty());

    assertThat(ids).containsExactly(3L, 2L, 1L);
    assertThat(pages).isEqualTo(3);
    assertThat(
            stub.listRuns(ListRunsRequest.newBuilder().setPipeline("orders").build())
                .getRunsList())
        .extracting(RunSummary::getRunId)
        .containsExactly(3L, 2L, 1L);
  }

  // ---- ListBatches ----------------------------------------------------------------------------

  /** queued q1 q2, in flight f1, retry wait r1, dead lettered d1; enqueued in that order. */
  private void batchesInEveryState() {
    p.enqueue(batch("f1", "load", 1));
    p.startOne("f1");
    p.enqueue(batch("r1", "load", 2));
    p.startOne("r1");
    p.fail("r1", 1, "boom", false);
    p.enqueue(batch("d1", "load", 3));
    p.startOne("d1");
    p.fail("d1", 1, "poison", true);
    p.apply(pause());
    p.enqueue(batch("q1", "extract", 1));
    p.enqueue(batch("q2", "extract", 2));
  }

  private ListBatchesResponse listBatches(ListBatchesRequest.Builder req) {
    return stub.listBatches(req.setPipeline("orders").build());
  }

  @Test
  void listBatches_listsLiveBatchesInEnqueueOrderWithTheirState() {
    batchesInEveryState();

    ListBatchesResponse all = listBatches(ListBatchesRequest.newBuilder());

    assertThat(all.getBatchesList())
        .extracting(v -> v.getBatch().getKey(), BatchView::getState, BatchView::getAttempt)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("f1", BatchState.BATCH_STATE_IN_FLIGHT, 1),
            org.assertj.core.groups.Tuple.tuple("r1", BatchState.BATCH_STATE_RETRY_WAIT, 1),
            org.assertj.core.groups.Tuple.tuple("d1", BatchState.BATCH_STATE_DEAD_LETTERED, 1),
            org.assertj.core.groups.Tuple.tuple("q1", BatchState.BATCH_STATE_QUEUED, 0),
            org.assertj.core.groups.Tuple.tuple("q2", BatchState.BATCH_STATE_QUEUED, 0));
    assertThat(all.getNextPageToken()).isEmpty();
    BatchView f1 = all.getBatches(0);
    assertThat(f1.getLeaseDeadlineMs()).isEqualTo(grpc.clock().millis() + 10_000);
  }

  @Test
  void listBatches_withStateFilter_listsOnlyThatState() {
    batchesInEveryState();

    assertThat(keys(BatchState.BATCH_STATE_QUEUED)).containsExactly("q1", "q2");
    assertThat(keys(BatchState.BATCH_STATE_IN_FLIGHT)).containsExactly("f1");
    assertThat(keys(BatchState.BATCH_STATE_RETRY_WAIT)).containsExactly("r1");
    assertThat(keys(BatchState.BATCH_STATE_DEAD_LETTERED)).containsExactly("d1");
  }

  private List<String> keys(BatchState state) {
    return listBatches(ListBatchesRequest.newBuilder().setState(state)).getBatchesList().stream()
        .map(v -> v.getBatch().getKey())
        .toList();
  }

  @Test
  void listBatches_pagesWithAndWithoutFilter_andTheLastPageHasNoToken() {
    batchesInEveryState();
    p.enqueue(batch("q3", "extract", 3));

    assertThat(pagedKeys(2, null)).containsExactly(
        List.of("f1", "r1"), List.of("d1", "q1"), List.of("q2", "q3"));
    assertThat(pagedKeys(2, BatchState.BATCH_STATE_QUEUED))
        .containsExactly(List.of("q1", "q2"), List.of("q3"));
    assertThat(pagedKeys(1, BatchState.BATCH_STATE_IN_FLIGHT)).containsExactly(List.of("f1"));
  }

  /** Every page's keys, following next_page_token until it is empty. */
  private List<List<String>> pagedKeys(int pageSize, BatchState state) {
    List<List<String>> pages = new ArrayList<>();
    String token = "";
    do {
      ListBatchesRequest.Builder req =
          ListBatchesRequest.newBuilder().setPageSize(pageSize).setPageToken(token);
      if (state != null) {
        req.setState(state);
      }
      ListBatchesResponse page = listBatches(req);
      pages.add(page.getBatchesList().stream().map(v -> v.getBatch().getKey()).toList());
      token = page.getNextPageToken();
    } while (!token.isEmpty() && pages.size() < 100);
    return pages;
  }

  @Test
  void listBatches_withATokenOfAnotherFilter_isInvalidArgumentInvalidRequest() {
    batchesInEveryState();
    String queuedToken =
        listBatches(
                ListBatchesRequest.newBuilder()
                    .setPageSize(1)
                    .setState(BatchState.BATCH_STATE_QUEUED))
            .getNextPageToken();
    assertThat(queuedToken).isNotEmpty();

    var status =
        assertRefused(
            () -> listBatches(ListBatchesRequest.newBuilder().setPageToken(queuedToken)),
            Code.INVALID_ARGUMENT,
            "INVALID_REQUEST");
    assertThat(violatedFields(status)).containsExactly("page_token");
  }

  @Test
  void listBatches_withStateFilterUnspecified_isInvalidArgumentInvalidRequest() {
    var status =
        assertRefused(
            () -> listBatches(
                ListBatchesRequest.newBuilder().setState(BatchState.BATCH_STATE_UNSPECIFIED)),
            Code.INVALID_ARGUMENT,
            "INVALID_REQUEST");
    assertThat(violatedFields(status)).containsExactly("state");
  }

  // ---- ListRetries, ListDeadLetters, ListAuditLog ----------------------------------------------

  @Test
  void listRetries_listsRetryRecordsInEmitOrder_onePageAtATime() {
    for (int i = 1; i <= 3; i++) {
      p.enqueue(batch("r" + i, "extract", i));
    }
    p.startAll();
    for (String key : List.of("r2", "r3", "r1")) {
      grpc.clock().advance(1);
      p.fail(key, 1, "boom " + key, false);
    }

    List<RetryRecord> seen = new ArrayList<>();
    String token = "";
    do {
      ListRetriesResponse page =
          stub.listRetries(
              ListRetriesRequest.newBuilder()
                  .setPipeline("orders")
                  .setPageSize(2)
                  .setPageToken(token)
                  .build());
      seen.addAll(page.getRetriesList());
      token = page.getNextPageToken();
    } while (!token.isEmpty());

    assertThat(seen).extracting(RetryRecord::getBatchKey).containsExactly("r2", "r3", "r1");
    assertThat(seen).extracting(RetryRecord::getReason)
        .containsExactly("boom r2", "boom r3", "boom r1");
  }

  @Test
  void listDeadLetters_listsRecordsInEmitOrder_onePageAtATime() {
    for (int i = 1; i <= 3; i++) {
      p.enqueue(batch("d" + i, "extract", i));
    }
    p.startAll();
    for (String key : List.of("d3", "d1", "d2")) {
      p.fail(key, 1, "poison", true);
    }

    ListDeadLettersResponse first =
        stub.listDeadLetters(
            ListDeadLettersRequest.newBuilder().setPipeline("orders").setPageSize(2).build());
    ListDeadLettersResponse second =
        stub.listDeadLetters(
            ListDeadLettersRequest.newBuilder()
                .setPipeline("orders")
                .setPageSize(2)
                .setPageToken(first.getNextPageToken())
                .build());

    assertThat(first.getDeadLettersList()).extracting(DeadLetterRecord::getBatchKey)
        .containsExactly("d3", "d1");
    assertThat(second.getDeadLettersList()).extracting(DeadLetterRecord::getBatchKey)
        .containsExactly("d2");
    assertThat(second.getNextPageToken()).isEmpty();
  }

  @Test
  void listAuditLog_isOldestFirst_onePageAtATime() {
    for (int i = 1; i <= 3; i++) {
      grpc.clock().advance(1);
      p.apply(setMaxInFlight(i));
    }

    List<AuditLogEntry> seen = new ArrayList<>();
    String token = "";
    do {
      ListAuditLogResponse page =
          stub.listAuditLog(
              ListAuditLogRequest.newBuilder()
                  .setPipeline("orders")
                  .setPageSize(2)
                  .setPageToken(token)
                  .build());
      seen.addAll(page.getEntriesList());
      token = page.getNextPageToken();
    } while (!token.isEmpty());

    assertThat(seen)
        .extracting(e -> e.getAction().getSetMaxInFlight().getMaxInFlight())
        .containsExactly(1, 2, 3);
    assertThat(seen).extracting(AuditLogEntry::getAtMs).isSorted();
  }

  // ---- GetStatus ------------------------------------------------------------------------------

  @Test
  void getStatus_reportsEveryField() {
    GetStatusResponse empty = p.status();
    assertThat(empty)
        .isEqualTo(
            GetStatusResponse.newBuilder()
                .setMode(PipelineMode.PIPELINE_MODE_RUNNING)
                .setEffectiveMaxInFlight(8)
                .setSignature(empty.getSignature())
                .setValid(true)
                .build());

    startRun();
    p.apply(setMaxInFlight(5));
    batchesInEveryState();

    GetStatusResponse status = p.status();

    assertThat(status.getQueuedCount()).as("QUEUED + RETRY_WAIT").isEqualTo(3);
    assertThat(status.getRetryWaitCount()).isEqualTo(1);
    assertThat(status.getInFlightCount()).isEqualTo(1);
    assertThat(status.getDeadLetterCount()).isEqualTo(1);
    assertThat(status.getMode()).isEqualTo(PipelineMode.PIPELINE_MODE_PAUSED);
    assertThat(status.getEffectiveMaxInFlight()).isEqualTo(5);
    assertThat(status.getActiveRunId()).isEqualTo(1);
    assertThat(status.getSignature()).matches("[0-9a-f]{64}").isNotEqualTo(empty.getSignature());
    assertThat(status.getValid()).isTrue();
    assertThat(status.getInvalidReason()).isEmpty();
  }

  @Test
  void getStatus_isARead_andTheSignatureChangesOnlyWithTheState() {
    p.enqueue(batch("b1", "extract", 1));
    String signature = p.status().getSignature();

    grpc.clock().advance(1_000);
    p.batches();
    p.startAll();
    String afterStart = p.status().getSignature();
    assertThat(afterStart).as("a start changes the state").isNotEqualTo(signature);

    grpc.clock().advance(1_000);
    assertThat(p.startAll()).isEmpty();
    assertThat(p.status()).as("reads and a start that starts nothing")
        .extracting(GetStatusResponse::getSignature)
        .isEqualTo(afterStart);
  }
}
