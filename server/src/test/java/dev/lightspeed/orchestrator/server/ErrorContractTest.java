package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pause;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static dev.lightspeed.orchestrator.server.RpcErrors.assertRefused;
import static dev.lightspeed.orchestrator.server.RpcErrors.errorInfo;
import static dev.lightspeed.orchestrator.server.RpcErrors.violatedFields;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.Code;
import dev.lightspeed.orchestrator.core.Reason;
import dev.lightspeed.orchestrator.core.RefusalReason;
import dev.lightspeed.orchestrator.grpc.ErrorMapper;
import dev.lightspeed.orchestrator.host.ServerReason;
import dev.lightspeed.orchestrator.v1.AckBatchRequest;
import dev.lightspeed.orchestrator.v1.AckBatchesRequest;
import dev.lightspeed.orchestrator.v1.ApplyActionRequest;
import dev.lightspeed.orchestrator.v1.CompleteRunRequest;
import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.DeletePipelineRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesRequest;
import dev.lightspeed.orchestrator.v1.ExtendLeaseRequest;
import dev.lightspeed.orchestrator.v1.FailBatchRequest;
import dev.lightspeed.orchestrator.v1.GetPipelineRequest;
import dev.lightspeed.orchestrator.v1.GetStatusRequest;
import dev.lightspeed.orchestrator.v1.ListAuditLogRequest;
import dev.lightspeed.orchestrator.v1.ListBatchesRequest;
import dev.lightspeed.orchestrator.v1.ListDeadLettersRequest;
import dev.lightspeed.orchestrator.v1.ListPipelinesRequest;
import dev.lightspeed.orchestrator.v1.ListRetriesRequest;
import dev.lightspeed.orchestrator.v1.ListRunsRequest;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceBlockingStub;
import dev.lightspeed.orchestrator.v1.StartAvailableRequest;
import dev.lightspeed.orchestrator.v1.StartRunRequest;
import dev.lightspeed.orchestrator.v1.WatchStartedRequest;
import io.grpc.Status;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The error contract across RPCs (SPEC 4): each reason always has its one code, every request
 * that names an unknown pipeline is refused with PIPELINE_NOT_FOUND (the bulk RPCs too), and
 * every List RPC refuses a negative page_size or a token it did not issue with INVALID_REQUEST.
 */
class ErrorContractTest {
  @RegisterExtension final GrpcServerExtension grpc = GrpcServerExtension.inProcess();

  /** The table of SPEC 4, plus the reasons the proto and the production settings add. */
  private static final Map<RefusalReason, Code> SPEC_CODES = new HashMap<>();

  static {
    for (RefusalReason r : new RefusalReason[] {
        Reason.INVALID_BATCH, Reason.INVALID_FAILURE, Reason.INVALID_ACTION,
        Reason.INVALID_PIPELINE_SPEC, ServerReason.INVALID_REQUEST}) {
      SPEC_CODES.put(r, Code.INVALID_ARGUMENT);
    }
    for (RefusalReason r : new RefusalReason[] {
        ServerReason.PIPELINE_NOT_FOUND, Reason.BATCH_NOT_FOUND, Reason.CONNECTOR_NOT_FOUND}) {
      SPEC_CODES.put(r, Code.NOT_FOUND);
    }
    for (RefusalReason r : new RefusalReason[] {
        ServerReason.PIPELINE_EXISTS, Reason.BATCH_KEY_EXISTS, Reason.IDEMPOTENCY_CONFLICT}) {
      SPEC_CODES.put(r, Code.ALREADY_EXISTS);
    }
    for (RefusalReason r : new RefusalReason[] {
        Reason.UNKNOWN_STAGE, Reason.NO_CONNECTOR, Reason.CONNECTOR_DISABLED,
        Reason.BATCH_TOO_LARGE, Reason.PIPELINE_DRAINING, Reason.SEQUENCE_REGRESSION,
        Reason.NOT_IN_FLIGHT, Reason.NOT_DEAD_LETTERED, Reason.NOT_CANCELLABLE,
        ServerReason.PIPELINE_NOT_EMPTY}) {
      SPEC_CODES.put(r, Code.FAILED_PRECONDITION);
    }
    for (RefusalReason r : new RefusalReason[] {
        Reason.QUEUE_FULL, Reason.LAG_EXCEEDED, ServerReason.WATCH_BUFFER_FULL}) {
      SPEC_CODES.put(r, Code.RESOURCE_EXHAUSTED);
    }
    SPEC_CODES.put(Reason.STALE_ATTEMPT, Code.ABORTED);
    // Version 2.
    SPEC_CODES.put(Reason.INVALID_UPDATE_MASK, Code.INVALID_ARGUMENT);
    SPEC_CODES.put(Reason.STAGE_IN_FLIGHT, Code.FAILED_PRECONDITION);
    SPEC_CODES.put(ServerReason.EVENTS_EXPIRED, Code.OUT_OF_RANGE);
    // Production limits, malformed requests and authentication (README, Running in production).
    SPEC_CODES.put(ServerReason.MALFORMED_REQUEST, Code.INVALID_ARGUMENT);
    SPEC_CODES.put(ServerReason.TOO_MANY_ITEMS, Code.INVALID_ARGUMENT);
    SPEC_CODES.put(ServerReason.TOO_MANY_WATCHERS, Code.RESOURCE_EXHAUSTED);
    SPEC_CODES.put(ServerReason.TOO_MANY_PIPELINES, Code.RESOURCE_EXHAUSTED);
    SPEC_CODES.put(ServerReason.MISSING_CREDENTIALS, Code.UNAUTHENTICATED);
    SPEC_CODES.put(ServerReason.INVALID_CREDENTIALS, Code.UNAUTHENTICATED);
    SPEC_CODES.put(ServerReason.JOURNAL_UNAVAILABLE, Code.UNAVAILABLE);
    SPEC_CODES.put(ServerReason.ROLE_REQUIRED, Code.PERMISSION_DENIED);
    SPEC_CODES.put(ServerReason.NOT_A_CLUSTER, Code.FAILED_PRECONDITION);
    SPEC_CODES.put(ServerReason.CLUSTER_NODE_EXISTS, Code.ALREADY_EXISTS);
    SPEC_CODES.put(ServerReason.CLUSTER_NODE_NOT_FOUND, Code.NOT_FOUND);
    SPEC_CODES.put(ServerReason.CLUSTER_TOO_SMALL, Code.FAILED_PRECONDITION);
    SPEC_CODES.put(ServerReason.CLUSTER_CHANGE_IN_PROGRESS, Code.ABORTED);
    SPEC_CODES.put(ServerReason.NOT_A_MEMBER, Code.FAILED_PRECONDITION);
  }

  private OrchestratorServiceBlockingStub stub;

  @BeforeEach
  void setUp() {
    stub = grpc.blocking();
  }

  static List<RefusalReason> everyReason() {
    return Reasons.all();
  }

  @ParameterizedTest
  @MethodSource("everyReason")
  void everyReason_mapsToTheOneCodeOfTheSpecTable(RefusalReason reason) {
    assertThat(SPEC_CODES).as("SPEC 4 names a code for %s", reason).containsKey(reason);
    assertThat(ErrorMapper.code(reason)).isEqualTo(SPEC_CODES.get(reason));
  }

  @Test
  void specTable_namesNoReasonTheServerLacks() {
    assertThat(Reasons.all()).containsExactlyInAnyOrderElementsOf(SPEC_CODES.keySet());
  }

  // ---- unknown pipeline -----------------------------------------------------------------------

  static Stream<Arguments> pipelineScopedRpcs() {
    return Stream.of(
        rpc("GetPipeline", (s, p) -> s.getPipeline(
            GetPipelineRequest.newBuilder().setName(p).build())),
        rpc("DeletePipeline", (s, p) -> s.deletePipeline(
            DeletePipelineRequest.newBuilder().setName(p).setForce(true).build())),
        rpc("EnqueueBatch", (s, p) -> s.enqueueBatch(
            EnqueueBatchRequest.newBuilder().setPipeline(p).setBatch(batch("b", "s", 1)).build())),
        rpc("EnqueueBatches", (s, p) -> s.enqueueBatches(
            EnqueueBatchesRequest.newBuilder().setPipeline(p).addBatches(batch("b", "s", 1))
                .build())),
        rpc("StartAvailable", (s, p) -> s.startAvailable(
            StartAvailableRequest.newBuilder().setPipeline(p).build()).hasNext()),
        rpc("WatchStarted", (s, p) -> s.watchStarted(
            WatchStartedRequest.newBuilder().setPipeline(p).build()).hasNext()),
        rpc("AckBatch", (s, p) -> s.ackBatch(
            AckBatchRequest.newBuilder().setPipeline(p).setKey("b").build())),
        rpc("AckBatches", (s, p) -> s.ackBatches(
            AckBatchesRequest.newBuilder().setPipeline(p).build())),
        rpc("FailBatch", (s, p) -> s.failBatch(
            FailBatchRequest.newBuilder().setPipeline(p).setKey("b").setAttempt(1)
                .setReason("x").build())),
        rpc("ExtendLease", (s, p) -> s.extendLease(
            ExtendLeaseRequest.newBuilder().setPipeline(p).setKey("b").build())),
        rpc("ApplyAction", (s, p) -> s.applyAction(
            ApplyActionRequest.newBuilder().setPipeline(p).setAction(pause()).build())),
        rpc("StartRun", (s, p) -> s.startRun(StartRunRequest.newBuilder().setPipeline(p).build())),
        rpc("CompleteRun", (s, p) -> s.completeRun(
            CompleteRunRequest.newBuilder().setPipeline(p).build())),
        rpc("ListBatches", (s, p) -> s.listBatches(
            ListBatchesRequest.newBuilder().setPipeline(p).build())),
        rpc("ListRetries", (s, p) -> s.listRetries(
            ListRetriesRequest.newBuilder().setPipeline(p).build())),
        rpc("ListDeadLetters", (s, p) -> s.listDeadLetters(
            ListDeadLettersRequest.newBuilder().setPipeline(p).build())),
        rpc("ListRuns", (s, p) -> s.listRuns(ListRunsRequest.newBuilder().setPipeline(p).build())),
        rpc("ListAuditLog", (s, p) -> s.listAuditLog(
            ListAuditLogRequest.newBuilder().setPipeline(p).build())),
        rpc("GetStatus", (s, p) -> s.getStatus(
            GetStatusRequest.newBuilder().setPipeline(p).build())));
  }

  private static Arguments rpc(
      String name, BiConsumer<OrchestratorServiceBlockingStub, String> call) {
    return Arguments.of(name, call);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("pipelineScopedRpcs")
  void everyPipelineScopedRpc_whenPipelineUnknownOrEmpty_isNotFoundPipelineNotFound(
      String name, BiConsumer<OrchestratorServiceBlockingStub, String> call) {
    stub.createPipeline(CreatePipelineRequest.newBuilder().setSpec(pipeline("other", "s")).build());

    for (String unknown : new String[] {"nope", ""}) {
      var status =
          assertRefused(
              () -> call.accept(stub, unknown), Status.Code.NOT_FOUND, "PIPELINE_NOT_FOUND");
      if (!unknown.isEmpty()) {
        assertThat(errorInfo(status).getMetadataMap()).containsEntry("pipeline", unknown);
        assertThat(status.getMessage()).contains(unknown);
      }
    }
  }

  // ---- paging ---------------------------------------------------------------------------------

  /** A List RPC, called with a page size and token. */
  interface Listing {
    void call(OrchestratorServiceBlockingStub stub, int pageSize, String token);
  }

  static Stream<Arguments> listings() {
    return Stream.of(
        Arguments.of("ListPipelines", (Listing) (s, size, token) -> s.listPipelines(
            ListPipelinesRequest.newBuilder().setPageSize(size).setPageToken(token).build())),
        Arguments.of("ListBatches", (Listing) (s, size, token) -> s.listBatches(
            ListBatchesRequest.newBuilder().setPipeline("alpha").setPageSize(size)
                .setPageToken(token).build())),
        Arguments.of("ListRetries", (Listing) (s, size, token) -> s.listRetries(
            ListRetriesRequest.newBuilder().setPipeline("alpha").setPageSize(size)
                .setPageToken(token).build())),
        Arguments.of("ListDeadLetters", (Listing) (s, size, token) -> s.listDeadLetters(
            ListDeadLettersRequest.newBuilder().setPipeline("alpha").setPageSize(size)
                .setPageToken(token).build())),
        Arguments.of("ListRuns", (Listing) (s, size, token) -> s.listRuns(
            ListRunsRequest.newBuilder().setPipeline("alpha").setPageSize(size)
                .setPageToken(token).build())),
        Arguments.of("ListAuditLog", (Listing) (s, size, token) -> s.listAuditLog(
            ListAuditLogRequest.newBuilder().setPipeline("alpha").setPageSize(size)
                .setPageToken(token).build())));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("listings")
  void everyListRpc_withNegativePageSize_isInvalidArgumentInvalidRequest(
      String name, Listing listing) {
    stub.createPipeline(CreatePipelineRequest.newBuilder().setSpec(pipeline("alpha", "s")).build());

    var status =
        assertRefused(
            () -> listing.call(stub, -1, ""), Status.Code.INVALID_ARGUMENT, "INVALID_REQUEST");
    assertThat(violatedFields(status)).containsExactly("page_size");
    listing.call(stub, 5_000, ""); // larger than the maximum: clamped, not refused
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("listings")
  void everyListRpc_withAPageTokenItDidNotIssue_isInvalidArgumentInvalidRequest(
      String name, Listing listing) {
    stub.createPipeline(CreatePipelineRequest.newBuilder().setSpec(pipeline("alpha", "s")).build());
    stub.createPipeline(CreatePipelineRequest.newBuilder().setSpec(pipeline("bravo", "s")).build());
    String pipelinesToken =
        stub.listPipelines(ListPipelinesRequest.newBuilder().setPageSize(1).build())
            .getNextPageToken();
    for (int i = 0; i < 2; i++) {
      stub.applyAction(ApplyActionRequest.newBuilder().setPipeline("alpha").setAction(pause())
          .build());
    }
    String auditToken =
        stub.listAuditLog(
                ListAuditLogRequest.newBuilder().setPipeline("alpha").setPageSize(1).build())
            .getNextPageToken();
    String foreign = name.equals("ListPipelines") ? auditToken : pipelinesToken;
    assertThat(foreign).isNotEmpty();

    for (String token : new String[] {foreign, "garbage", "%%%"}) {
      var status =
          assertRefused(
              () -> listing.call(stub, 1, token), Status.Code.INVALID_ARGUMENT,
              "INVALID_REQUEST");
      assertThat(violatedFields(status)).containsExactly("page_token");
    }
  }
}
