package dev.lightspeed.orchestrator.server;

import static dev.lightspeed.orchestrator.server.Fixtures.batch;
import static dev.lightspeed.orchestrator.server.Fixtures.pipeline;
import static dev.lightspeed.orchestrator.server.RpcErrors.assertRefused;
import static dev.lightspeed.orchestrator.server.RpcErrors.errorInfo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.google.protobuf.Message;
import dev.lightspeed.orchestrator.security.AuthInterceptor;
import dev.lightspeed.orchestrator.security.Role;
import dev.lightspeed.orchestrator.security.TokenFile;
import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchRequest;
import dev.lightspeed.orchestrator.v1.GetStatusRequest;
import dev.lightspeed.orchestrator.v1.ListBatchesRequest;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceBlockingStub;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Bearer tokens and roles: UNAUTHENTICATED and PERMISSION_DENIED with ErrorInfo. */
class AuthTest {
  static final String PRODUCER = "producer-token-0000000001";
  static final String WORKER = "worker-token-000000000001";
  static final String OPERATOR = "operator-token-0000000001";
  static final String ADMIN = "admin-token-0000000000001";
  static final String READER = "reader-token-000000000001";
  /** Listed by its SHA-256 only, with every role. */
  static final String ROOT = "root-token-00000000000001";

  static final String TOKENS = String.join("\n",
      "# test tokens",
      PRODUCER + " producer ingest",
      WORKER + "\tworker",
      OPERATOR + " operator ops",
      "",
      ADMIN + " admin admin-only",
      READER + " reader dashboards",
      "sha256:" + java.util.HexFormat.of().formatHex(TokenFile.sha256(ROOT))
          + " producer,worker,operator,admin,reader root");

  static final Map<String, Role> ROLE_OF_TOKEN = new LinkedHashMap<>();

  static {
    ROLE_OF_TOKEN.put(PRODUCER, Role.PRODUCER);
    ROLE_OF_TOKEN.put(WORKER, Role.WORKER);
    ROLE_OF_TOKEN.put(OPERATOR, Role.OPERATOR);
    ROLE_OF_TOKEN.put(ADMIN, Role.ADMIN);
    ROLE_OF_TOKEN.put(READER, Role.READER);
  }

  @RegisterExtension
  final GrpcServerExtension grpc =
      GrpcServerExtension.inProcess()
          .settings(s -> s.withTokens(TokenFile.parse(TOKENS, "tokens.txt")));

  static Channel withHeader(Channel channel, String value) {
    Metadata headers = new Metadata();
    headers.put(AuthInterceptor.AUTHORIZATION, value);
    return ClientInterceptors.intercept(
        channel, MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  private OrchestratorServiceBlockingStub as(String token) {
    return OrchestratorServiceGrpc.newBlockingStub(withHeader(grpc.newChannel(), "Bearer " + token))
        .withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  @Test
  void noAuthorizationHeader_isUnauthenticatedMissingCredentials() {
    var status = assertRefused(
        () -> grpc.blocking().getStatus(GetStatusRequest.newBuilder().setPipeline("p").build()),
        Status.Code.UNAUTHENTICATED, "MISSING_CREDENTIALS");
    assertThat(status.getMessage()).contains("authorization: Bearer");
  }

  @Test
  void unknownOrMalformedTokens_areUnauthenticatedInvalidCredentials() {
    for (String header : List.of(
        "Bearer not-a-token-we-know-0001", "Bearer short", "Basic " + READER, READER, "Bearer ",
        "Bearer " + READER + "x")) {
      var stub = OrchestratorServiceGrpc.newBlockingStub(withHeader(grpc.newChannel(), header));
      assertRefused(
          () -> stub.getStatus(GetStatusRequest.newBuilder().setPipeline("p").build()),
          Status.Code.UNAUTHENTICATED, "INVALID_CREDENTIALS");
    }
  }

  @Test
  void twoAuthorizationHeaders_areRefused_evenWhenTheLastOneIsValid() {
    Metadata headers = new Metadata();
    headers.put(AuthInterceptor.AUTHORIZATION, "Bearer not-a-token-we-know-0001");
    headers.put(AuthInterceptor.AUTHORIZATION, "Bearer " + READER);
    var stub = OrchestratorServiceGrpc.newBlockingStub(ClientInterceptors.intercept(
        grpc.newChannel(), MetadataUtils.newAttachHeadersInterceptor(headers)));
    var status = assertRefused(
        () -> stub.getStatus(GetStatusRequest.newBuilder().setPipeline("p").build()),
        Status.Code.UNAUTHENTICATED, "INVALID_CREDENTIALS");
    assertThat(status.getMessage()).contains("more than one authorization header");
  }

  @Test
  void theBearerScheme_isCaseInsensitive() {
    var stub = OrchestratorServiceGrpc.newBlockingStub(
        withHeader(grpc.newChannel(), "bearer " + READER));
    assertRefused(
        () -> stub.getStatus(GetStatusRequest.newBuilder().setPipeline("p").build()),
        Status.Code.NOT_FOUND, "PIPELINE_NOT_FOUND");
  }

  @Test
  void aTokenWithoutTheRole_isPermissionDeniedRoleRequired_namingTheRole() {
    var status = assertRefused(
        () -> as(READER).enqueueBatch(EnqueueBatchRequest.newBuilder().setPipeline("p")
            .setBatch(batch("b", "s", 1)).build()),
        Status.Code.PERMISSION_DENIED, "ROLE_REQUIRED");
    assertThat(status.getMessage()).contains("'producer'").contains("dashboards")
        .doesNotContain(READER);
  }

  @Test
  void everyRpc_needsExactlyItsRole_andNoRoleImpliesAnother() throws Exception {
    List<String> wrong = new ArrayList<>();
    for (MethodDescriptor<?, ?> method :
        OrchestratorServiceGrpc.getServiceDescriptor().getMethods()) {
      Role needed = Role.of(method.getFullMethodName());
      assertThat(needed).as("role of %s", method.getFullMethodName()).isNotNull();
      for (Map.Entry<String, Role> token : ROLE_OF_TOKEN.entrySet()) {
        Status.Code code = call(method, token.getKey());
        boolean denied = code == Status.Code.PERMISSION_DENIED;
        if (denied == (token.getValue() == needed)) {
          wrong.add(method.getBareMethodName() + " with a " + token.getValue() + " token: " + code);
        }
      }
      assertThat(call(method, ROOT)).as("%s with every role", method.getBareMethodName())
          .isNotIn(Status.Code.PERMISSION_DENIED, Status.Code.UNAUTHENTICATED);
    }
    assertThat(wrong).isEmpty();
  }

  /** Calls {@code method} with an empty request; the status code it ends with. */
  @SuppressWarnings("unchecked")
  private Status.Code call(MethodDescriptor<?, ?> method, String token) {
    var m = (MethodDescriptor<Message, Message>) method;
    Message request = (Message) ((MethodDescriptor.PrototypeMarshaller<?>)
        m.getRequestMarshaller()).getMessagePrototype();
    Channel channel = withHeader(grpc.newChannel(), "Bearer " + token);
    CallOptions options = CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS);
    try {
      if (m.getType() == MethodDescriptor.MethodType.UNARY) {
        ClientCalls.blockingUnaryCall(channel, m, options, request);
      } else {
        Iterator<Message> it = ClientCalls.blockingServerStreamingCall(channel, m, options, request);
        while (it.hasNext()) {
          it.next();
        }
      }
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }

  @Test
  void aTokenListedByItsSha256_works() {
    PipelineClient p = PipelineClient.create(as(ROOT), pipeline("root", "s").build());
    p.enqueue(batch("b1", "s", 1));
    assertThat(p.status().getQueuedCount()).isEqualTo(1);
  }

  @Test
  void aRefusedCall_changesNothing() {
    as(ADMIN).createPipeline(CreatePipelineRequest.newBuilder()
        .setSpec(pipeline("orders", "s")).build());
    var enqueue = EnqueueBatchRequest.newBuilder().setPipeline("orders")
        .setBatch(batch("b1", "s", 1)).build();
    String before = as(READER).getStatus(GetStatusRequest.newBuilder().setPipeline("orders")
        .build()).getSignature();

    assertRefused(() -> as(WORKER).enqueueBatch(enqueue), Status.Code.PERMISSION_DENIED,
        "ROLE_REQUIRED");
    assertRefused(() -> grpc.blocking().enqueueBatch(enqueue), Status.Code.UNAUTHENTICATED,
        "MISSING_CREDENTIALS");

    assertThat(as(READER).getStatus(GetStatusRequest.newBuilder().setPipeline("orders").build())
        .getSignature()).isEqualTo(before);
    assertThat(as(READER).listBatches(ListBatchesRequest.newBuilder().setPipeline("orders")
        .build()).getBatchesList()).isEmpty();
    as(PRODUCER).enqueueBatch(enqueue);
    assertThat(as(READER).listBatches(ListBatchesRequest.newBuilder().setPipeline("orders")
        .build()).getBatchesList()).hasSize(1);
  }

  @Test
  void healthAndReflection_needNoToken() throws Exception {
    assertThat(HealthGrpc.newBlockingStub(grpc.newChannel())
        .check(HealthCheckRequest.getDefaultInstance()).getStatus())
        .isEqualTo(ServingStatus.SERVING);
    var services = ReflectionClient.listServices(grpc.newChannel());
    assertThat(services).contains("lightspeed.orchestrator.v1.OrchestratorService");
  }

  @Test
  void refusals_carryErrorInfoInTheOrchestratorDomain_andNoToken() {
    Throwable thrown = catchThrowable(() -> as(WORKER).getStatus(
        GetStatusRequest.newBuilder().setPipeline("p").build()));
    var status = StatusProto.fromThrowable(thrown);
    assertThat(errorInfo(status).getDomain()).isEqualTo("lightspeed.orchestrator");
    assertThat(status.toString()).doesNotContain(WORKER);
  }
}
