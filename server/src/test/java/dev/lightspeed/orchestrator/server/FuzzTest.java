package dev.lightspeed.orchestrator.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.OneofDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.rpc.ErrorInfo;
import dev.lightspeed.orchestrator.core.Reason;
import dev.lightspeed.orchestrator.host.Limits;
import dev.lightspeed.orchestrator.security.TokenFile;
import dev.lightspeed.orchestrator.v1.AckBatchesResponse;
import dev.lightspeed.orchestrator.v1.AckResult;
import dev.lightspeed.orchestrator.v1.Connector;
import dev.lightspeed.orchestrator.v1.ConnectorKind;
import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.DeletePipelineRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchResponse;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesResponse;
import dev.lightspeed.orchestrator.v1.EnqueueResult;
import dev.lightspeed.orchestrator.v1.ErrorReason;
import dev.lightspeed.orchestrator.v1.FailBatchResponse;
import dev.lightspeed.orchestrator.v1.GetPipelineRequest;
import dev.lightspeed.orchestrator.v1.GetStatusRequest;
import dev.lightspeed.orchestrator.v1.GetStatusResponse;
import dev.lightspeed.orchestrator.v1.ListPipelinesRequest;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceBlockingStub;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.PipelineSpec;
import dev.lightspeed.orchestrator.v1.ProcessOutcome;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Hostile input against a real server on a Netty port of 127.0.0.1 (with tokens, limits and
 * metrics on, as in production): {@value #REQUESTS} generated requests to every RPC, filled field
 * by field from the request descriptors with random and boundary strings (empty, 256/257 bytes,
 * control characters, lone surrogates, huge), huge and negative numbers, unknown enum values,
 * too many items, oversized messages and random authorization headers; then malformed protobuf
 * bytes on HTTP/2 (a ClientCall with a byte[] marshaller) and raw garbage on TCP.
 *
 * <p>Checked after every request: the server answers; every refusal is a status whose ErrorInfo
 * reason is one the server documents, with the code of that reason (or, only where the request
 * earned one, a transport status: RESOURCE_EXHAUSTED for an oversized message, DEADLINE_EXCEEDED
 * for a watch the test ends); a refused call, a read, a deduplicated enqueue and a rejected
 * failure report leave both pipelines' signatures as they were; {@code valid} stays true.
 * Seeded ({@code -Dfuzz.seed=N} replays a run) and bounded (a minute at most).
 */
class FuzzTest {
  static final int REQUESTS = 10_000;
  static final int MALFORMED = 400;
  static final int RAW_CONNECTIONS = 60;
  static final int MAX_MESSAGE_BYTES = 64 * 1024;
  static final long SEED = Long.getLong("fuzz.seed", 0x5EED_F00DL);
  static final List<String> FIXED = List.of("fz-a", "fz-b");
  static final List<String> SCRATCH = List.of("fz-x0", "fz-x1", "fz-x2");
  static final String ROOT = AuthTest.ROOT;

  @RegisterExtension
  final GrpcServerExtension grpc =
      GrpcServerExtension.netty()
          .netty(b -> b.maxInboundMessageSize(MAX_MESSAGE_BYTES))
          .settings(s -> s.withLimits(new Limits(100, 4, 20))
              .withTokens(TokenFile.parse(AuthTest.TOKENS, "tokens.txt"))
              .withMetrics("127.0.0.1", 0));

  private final Random random = new Random(SEED);
  private final Map<String, Integer> outcomes = new TreeMap<>();
  private long sequence;
  private OrchestratorServiceBlockingStub admin;

  /**
   * The admin stub with a deadline per call: a deadline set once on the stub counts from its
   * creation, and the fuzz loop alone may use up 60 s on a loaded machine.
   */
  private OrchestratorServiceBlockingStub admin() {
    return admin.withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  @Test
  void hostileInput_neverCrashesTheServer_isAlwaysAnsweredWithADocumentedStatus_andRefusalsChangeNothing()
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    ManagedChannel channel = grpc.newChannel();
    admin = OrchestratorServiceGrpc.newBlockingStub(AuthTest.withHeader(channel, "Bearer " + ROOT));
    admin().createPipeline(CreatePipelineRequest.newBuilder().setSpec(spec("fz-a")
        .setBoundary(dev.lightspeed.orchestrator.v1.Boundary.newBuilder().setLeaseMs(2_000)
            .setMaxQueued(50))
        .setRetry(dev.lightspeed.orchestrator.v1.RetryPolicy.newBuilder().setMaxAttempts(2)
            .setInitialBackoffMs(500))).build());
    admin().createPipeline(CreatePipelineRequest.newBuilder().setSpec(spec("fz-b")
        .setAllowUnboundStages(true)).build());
    Map<String, String> signatures = new LinkedHashMap<>();
    for (String p : FIXED) {
      signatures.put(p, status(p).getSignature());
    }

    List<MethodDescriptor<?, ?>> methods =
        new ArrayList<>(OrchestratorServiceGrpc.getServiceDescriptor().getMethods());
    // Left out: the Work stream. A fuzzed `open` that is valid opens a stream that rightly
    // starts batches while it lives, and the call still ends DEADLINE_EXCEEDED here (a stream
    // waits for its client); its pipeline sits in `open.pipeline`, which named() does not see,
    // so "a refused call changes nothing" would be checked against the wrong baseline (seed
    // 1592651789, request 3519). WorkStreamTest covers the Work protocol.
    methods.removeIf(m -> m.getBareMethodName().equals("Work"));
    for (int i = 0; i < REQUESTS; i++) {
      assertThat(System.nanoTime()).as("fuzz seed %s: time limit", SEED).isLessThan(deadline);
      if (i % 50 == 0) {
        grpc.clock().advance(random.nextInt(1_500)); // leases expire, retries come due
      }
      @SuppressWarnings("unchecked")
      var method = (MethodDescriptor<Message, Message>) methods.get(random.nextInt(methods.size()));
      if (method.getBareMethodName().startsWith("Watch") && random.nextInt(4) > 0) {
        i--; // a watch waits for its deadline: fewer of them keeps the run short
        continue;
      }
      Request request = request(method);
      Result result = call(channel, method, request);
      String where = "fuzz seed " + SEED + ", request " + i + ": " + method.getBareMethodName()
          + " (" + request.message.getSerializedSize() + " bytes) " + abbreviate(request.message)
          + " -> " + result;
      check(result, request, where);
      boolean changesNothing = !result.status.isOk() || result.changesNothing
          || method.getType() == MethodDescriptor.MethodType.UNARY
              && method.getBareMethodName().matches("Get.*|List.*");
      // A call can only change the pipeline it names (create and delete never name a fixed
      // one): check that one after each call, and both every 100 calls, which also catches a
      // change that no call on that pipeline explains.
      List<String> check = i % 100 == 99 ? FIXED
          : FIXED.contains(named(request.message)) ? List.of(named(request.message)) : List.of();
      for (String p : check) {
        GetStatusResponse now = status(p);
        assertThat(now.getValid()).as("%s: %s valid (%s)", where, p, now.getInvalidReason())
            .isTrue();
        if (changesNothing || !p.equals(named(request.message))) {
          assertThat(now.getSignature()).as("%s: signature of %s", where, p)
              .isEqualTo(signatures.get(p));
        }
        signatures.put(p, now.getSignature());
      }
      outcomes.merge(result.label(), 1, Integer::sum);
    }

    long structured = System.nanoTime();
    malformedProtobuf(channel, signatures);
    long malformed = System.nanoTime();
    rawGarbage(signatures);
    System.out.printf("fuzz seed %d: %d requests in %d ms, %d malformed in %d ms, %d raw"
            + " connections in %d ms%n", SEED, REQUESTS,
        TimeUnit.NANOSECONDS.toMillis(structured - (deadline - TimeUnit.SECONDS.toNanos(60))),
        MALFORMED, TimeUnit.NANOSECONDS.toMillis(malformed - structured), RAW_CONNECTIONS,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - malformed));

    // still serving, still consistent, and the metrics endpoint survived it all
    for (String p : FIXED) {
      assertThat(status(p).getValid()).isTrue();
    }
    assertThat(MetricsScrape.of(grpc.server().metricsPort()).value("lightspeed_pipelines"))
        .isPositive();
    System.out.println("fuzz seed " + SEED + ": " + outcomes);
    assertThat(outcomes.getOrDefault("OK", 0)).as("some requests were accepted").isPositive();
    assertThat(outcomes.keySet()).as("a variety of refusals")
        .contains("INVALID_ARGUMENT INVALID_BATCH", "NOT_FOUND PIPELINE_NOT_FOUND",
            "UNAUTHENTICATED INVALID_CREDENTIALS", "INVALID_ARGUMENT TOO_MANY_ITEMS",
            "RESOURCE_EXHAUSTED (transport)", "malformed: INVALID_ARGUMENT MALFORMED_REQUEST");
  }

  // ---- generated requests --------------------------------------------------------------------

  /** A generated request, what the test did to it, and how it may be answered. */
  private record Request(Message message, String authorization, boolean oversized) {}

  private Request request(MethodDescriptor<Message, Message> method) {
    Message prototype = (Message) ((MethodDescriptor.PrototypeMarshaller<?>)
        method.getRequestMarshaller()).getMessagePrototype();
    Message.Builder builder = prototype.newBuilderForType();
    fill(builder, 0);
    // keep the fixed pipelines: scratch pipelines are the only ones a fuzz call may delete
    if (builder instanceof DeletePipelineRequest.Builder d && FIXED.contains(d.getName())) {
      d.setName(pick(SCRATCH));
    }
    if (builder instanceof CreatePipelineRequest.Builder c && random.nextInt(3) == 0) {
      c.setSpec(spec(pick(SCRATCH)));
    }
    boolean oversized = random.nextInt(100) == 0;
    if (oversized) {
      // (GetClusterStatusRequest has no field at all)
      List<FieldDescriptor> fields = builder.getDescriptorForType().getFields();
      FieldDescriptor first = fields.isEmpty() ? null : fields.get(0);
      if (first != null && first.getType() == FieldDescriptor.Type.STRING && !first.isRepeated()) {
        builder.setField(first, "x".repeat(MAX_MESSAGE_BYTES + 1));
      } else {
        oversized = false;
      }
    }
    Message message = builder.build();
    oversized = message.getSerializedSize() > MAX_MESSAGE_BYTES;
    String authorization = "Bearer " + ROOT;
    int auth = random.nextInt(100);
    if (auth == 0) {
      authorization = null;
    } else if (auth <= 3) {
      authorization = asciiHeader();
    }
    return new Request(message, authorization, oversized);
  }

  private void fill(Message.Builder b, int depth) {
    for (OneofDescriptor oneof : b.getDescriptorForType().getRealOneofs()) {
      if (random.nextInt(5) > 0) {
        FieldDescriptor chosen = oneof.getField(random.nextInt(oneof.getFieldCount()));
        setOne(b, chosen, depth);
      }
    }
    for (FieldDescriptor f : b.getDescriptorForType().getFields()) {
      if (f.getRealContainingOneof() != null) {
        continue;
      }
      if (f.isRepeated()) {
        int n = random.nextInt(50) == 0 ? 101 + random.nextInt(50) : random.nextInt(4);
        for (int i = 0; i < n; i++) {
          b.addRepeatedField(f, value(b, f, depth));
        }
      } else if (random.nextInt(8) > 0 || f.hasPresence() && random.nextBoolean()) {
        setOne(b, f, depth);
      }
    }
  }

  private void setOne(Message.Builder b, FieldDescriptor f, int depth) {
    Object v = value(b, f, depth);
    if (v != null) {
      b.setField(f, v);
    }
  }

  private Object value(Message.Builder parent, FieldDescriptor f, int depth) {
    String name = f.getName();
    return switch (f.getJavaType()) {
      case STRING -> switch (name) {
        case "pipeline", "name" -> random.nextInt(10) < 8
            ? pick(random.nextBoolean() ? FIXED : SCRATCH) : string();
        case "stage", "stages" -> random.nextInt(10) < 8 ? pick(List.of("s1", "s2", "s3")) : string();
        case "key", "idempotency_key" -> random.nextInt(10) < 8 ? "k" + random.nextInt(30) : string();
        case "reason" -> random.nextInt(10) < 7 ? "boom" : string();
        case "page_token" -> random.nextInt(10) < 7 ? "" : string();
        default -> string();
      };
      case INT -> switch (name) {
        case "attempt" -> random.nextInt(10) < 8 ? random.nextInt(4) : (int) number();
        case "max_batches", "page_size" -> random.nextInt(10) < 7 ? random.nextInt(5) : (int) number();
        default -> (int) number();
      };
      case LONG -> switch (name) {
        case "records" -> random.nextInt(10) < 8 ? 1L + random.nextInt(20) : number();
        // a huge sequence would block its stage for the rest of the run: bad ones are low
        case "sequence" -> random.nextInt(10) < 8 ? ++sequence
            : pick(List.of(-1L, 0L, Long.MIN_VALUE, sequence - 1, sequence));
        case "lag_ms" -> random.nextInt(10) < 8 ? (long) random.nextInt(100) : number();
        default -> number();
      };
      case DOUBLE -> pick(List.of(0.0, -1.0, 1.0, 2.0, 1e308, Double.NaN,
          Double.POSITIVE_INFINITY, -0.0, 0.5));
      case FLOAT -> (float) random.nextGaussian();
      case BOOLEAN -> random.nextBoolean();
      case BYTE_STRING -> com.google.protobuf.ByteString.copyFrom(bytes(random.nextInt(64)));
      case ENUM -> {
        int n = random.nextInt(4) == 0
            ? pick(List.of(-1, 7, 999, Integer.MAX_VALUE, Integer.MIN_VALUE))
            : random.nextInt(f.getEnumType().getValues().size());
        EnumValueDescriptor v = f.getEnumType().findValueByNumberCreatingIfUnknown(n);
        yield v;
      }
      case MESSAGE -> {
        Message.Builder child = parent.newBuilderForField(f);
        if (depth < 4) {
          fill(child, depth + 1);
        }
        yield child.build();
      }
    };
  }

  private static final List<String> BOUNDARY_STRINGS = List.of(
      "", " ", "a", "fz-a ", "FZ-A", "\u0000", "k\u0000", "k\u001f", "k\u007f", "k\u0085",
      "k\n", "\uD800", "\uDFFF", "é", "\uD83D\uDE00", "中文", "../../etc/passwd", "%s%n%d",
      "' OR 1=1 --", "a".repeat(255), "a".repeat(256), "a".repeat(257), "é".repeat(128),
      "é".repeat(129), "x".repeat(5_000), "lightspeed.orchestrator", "-", "0", "-1");

  private String string() {
    if (random.nextInt(3) == 0) {
      StringBuilder s = new StringBuilder();
      int n = random.nextInt(40);
      for (int i = 0; i < n; i++) {
        s.append((char) random.nextInt(random.nextBoolean() ? 128 : 0xFFFF));
      }
      return s.toString();
    }
    return pick(BOUNDARY_STRINGS);
  }

  private long number() {
    return pick(List.of(0L, 1L, -1L, 2L, 63L, 64L, 65L, 1000L, 1001L, Long.MAX_VALUE,
        Long.MIN_VALUE, (long) Integer.MAX_VALUE, (long) Integer.MIN_VALUE,
        (long) Integer.MAX_VALUE + 1, random.nextLong()));
  }

  private String asciiHeader() {
    return switch (random.nextInt(4)) {
      case 0 -> "Bearer " + AuthTest.READER.substring(1);
      case 1 -> "Bearer";
      case 2 -> "Basic " + ROOT;
      default -> {
        StringBuilder s = new StringBuilder("Bearer ");
        int n = random.nextInt(80);
        for (int i = 0; i < n; i++) {
          s.append((char) (0x20 + random.nextInt(0x5f)));
        }
        yield s.toString().strip();
      }
    };
  }

  private byte[] bytes(int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  private <T> T pick(List<T> options) {
    return options.get(random.nextInt(options.size()));
  }

  private static PipelineSpec.Builder spec(String name) {
    return PipelineSpec.newBuilder().setName(name).addStages("s1").addStages("s2")
        .addConnectors(Connector.newBuilder().setName("in1").setKind(ConnectorKind.CONNECTOR_KIND_SOURCE)
            .setStage("s1"))
        .addConnectors(Connector.newBuilder().setName("in2").setKind(ConnectorKind.CONNECTOR_KIND_SOURCE)
            .setStage("s2").setOrdered(true));
  }

  // ---- calls and checks ----------------------------------------------------------------------

  /** How a call ended: its status and rich status, its responses, whether it changed nothing. */
  private record Result(Status status, com.google.rpc.Status rich, List<Message> responses,
      boolean changesNothing) {
    String label() {
      if (status.isOk()) {
        return "OK";
      }
      ErrorInfo info = errorInfo(rich);
      return status.getCode() + " " + (info == null ? "(transport)" : info.getReason());
    }

    @Override
    public String toString() {
      return label() + (status.getDescription() == null ? "" : ": " + status.getDescription());
    }
  }

  private Result call(ManagedChannel channel, MethodDescriptor<Message, Message> method,
      Request request) {
    Channel ch = channel;
    if (request.authorization != null) {
      ch = AuthTest.withHeader(channel, request.authorization);
    }
    boolean watch = method.getBareMethodName().startsWith("Watch"); // WatchStarted, WatchEvents
    CallOptions options = CallOptions.DEFAULT.withDeadlineAfter(
        watch ? 10 : 10_000, TimeUnit.MILLISECONDS);
    List<Message> responses = new ArrayList<>();
    try {
      if (method.getType() == MethodDescriptor.MethodType.UNARY) {
        responses.add(ClientCalls.blockingUnaryCall(ch, method, options, request.message));
      } else {
        Iterator<Message> it =
            ClientCalls.blockingServerStreamingCall(ch, method, options, request.message);
        while (it.hasNext()) {
          responses.add(it.next());
        }
      }
      return new Result(Status.OK, null, responses, changesNothing(responses));
    } catch (StatusRuntimeException e) {
      return new Result(e.getStatus(), StatusProto.fromThrowable(e), responses, false);
    }
  }

  /** Accepted answers that, by contract, changed no state. */
  private static boolean changesNothing(List<Message> responses) {
    if (responses.size() != 1) {
      return false;
    }
    Message r = responses.get(0);
    if (r instanceof EnqueueBatchResponse e) {
      return e.getDeduplicated();
    }
    if (r instanceof FailBatchResponse f) {
      return f.getOutcome().getOutcomeCase() == ProcessOutcome.OutcomeCase.FAILURE_REJECTED;
    }
    if (r instanceof EnqueueBatchesResponse e) {
      return e.getResultsList().stream().allMatch(EnqueueResult::hasError);
    }
    if (r instanceof AckBatchesResponse a) {
      return a.getResultsList().stream().allMatch(AckResult::hasError);
    }
    return false;
  }

  private void check(Result result, Request request, String where) {
    if (result.status.isOk()) {
      for (Message m : result.responses) {
        if (m instanceof EnqueueBatchesResponse e) {
          e.getResultsList().stream().filter(EnqueueResult::hasError)
              .forEach(r -> checkDocumented(r.getError(), where + " (item)"));
        } else if (m instanceof AckBatchesResponse a) {
          a.getResultsList().stream().filter(AckResult::hasError)
              .forEach(r -> checkDocumented(r.getError(), where + " (item)"));
        }
      }
      return;
    }
    if (errorInfo(result.rich) != null) {
      checkDocumented(result.rich, where);
      return;
    }
    Status.Code code = result.status.getCode();
    boolean watch = where.contains(": WatchStarted ") || where.contains(": WatchEvents ");
    // The server refuses an oversized message with RESOURCE_EXHAUSTED before reading it and
    // resets the stream; a client still sending the message's tail (it exceeds the 64 KiB flow
    // window) may see the reset first, as INTERNAL "http2 exception" or CANCELLED.
    if (request.oversized && Set.of(Status.Code.RESOURCE_EXHAUSTED, Status.Code.INTERNAL,
            Status.Code.CANCELLED).contains(code)
        || watch && code == Status.Code.DEADLINE_EXCEEDED) {
      return;
    }
    fail("%s: a refusal without ErrorInfo that this request did not earn", where);
  }

  private static final Map<Reason.Category, Status.Code> CODE_OF = new EnumMap<>(Map.of(
      Reason.Category.INVALID_ARGUMENT, Status.Code.INVALID_ARGUMENT,
      Reason.Category.NOT_FOUND, Status.Code.NOT_FOUND,
      Reason.Category.ALREADY_EXISTS, Status.Code.ALREADY_EXISTS,
      Reason.Category.FAILED_PRECONDITION, Status.Code.FAILED_PRECONDITION,
      Reason.Category.RESOURCE_EXHAUSTED, Status.Code.RESOURCE_EXHAUSTED,
      Reason.Category.ABORTED, Status.Code.ABORTED,
      Reason.Category.OUT_OF_RANGE, Status.Code.OUT_OF_RANGE,
      Reason.Category.UNAUTHENTICATED, Status.Code.UNAUTHENTICATED,
      Reason.Category.PERMISSION_DENIED, Status.Code.PERMISSION_DENIED));

  /** A refusal with a documented reason, in the orchestrator's domain, with that reason's code. */
  private static void checkDocumented(com.google.rpc.Status status, String where) {
    ErrorInfo info = errorInfo(status);
    assertThat(info).as("%s: ErrorInfo", where).isNotNull();
    assertThat(info.getDomain()).as(where).isEqualTo("lightspeed.orchestrator");
    // Documented = a value of the API's ErrorReason enum (error_reason.proto), and a reason of
    // the server, whose category gives the code.
    Set<String> documented = new java.util.HashSet<>();
    for (ErrorReason r : ErrorReason.values()) {
      documented.add(r.name());
    }
    assertThat(documented).as(where).contains(info.getReason());
    assertThat(Reasons.named(info.getReason())).as(where).isNotNull();
    assertThat(status.getCode()).as("%s: code of %s", where, info.getReason())
        .isEqualTo(CODE_OF.get(Reasons.named(info.getReason()).category()).value());
    assertThat(status.getMessage()).as(where).isNotBlank();
  }

  private static ErrorInfo errorInfo(com.google.rpc.Status status) {
    if (status == null) {
      return null;
    }
    for (Any any : status.getDetailsList()) {
      if (any.is(ErrorInfo.class)) {
        try {
          return any.unpack(ErrorInfo.class);
        } catch (InvalidProtocolBufferException e) {
          throw new AssertionError(e);
        }
      }
    }
    return null;
  }

  /** The pipeline a request names (its top-level {@code pipeline} or {@code name}), or "". */
  private static String named(Message request) {
    for (String field : List.of("pipeline", "name")) {
      FieldDescriptor f = request.getDescriptorForType().findFieldByName(field);
      if (f != null && f.getJavaType() == FieldDescriptor.JavaType.STRING) {
        return (String) request.getField(f);
      }
    }
    return "";
  }

  private GetStatusResponse status(String pipeline) {
    return admin().getStatus(GetStatusRequest.newBuilder().setPipeline(pipeline).build());
  }

  private static String abbreviate(Message m) {
    String text = m.toString().replace('\n', ' ');
    return text.length() > 300 ? text.substring(0, 300) + "…" : text;
  }

  // ---- malformed protobuf on HTTP/2 ----------------------------------------------------------

  /** Passes bytes through as they are: the request is whatever the test wrote. */
  private static final MethodDescriptor.Marshaller<byte[]> RAW =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
          try {
            return stream.readAllBytes();
          } catch (IOException e) {
            throw new IllegalStateException(e);
          }
        }
      };

  private void malformedProtobuf(ManagedChannel channel, Map<String, String> signatures)
      throws Exception {
    List<MethodDescriptor<?, ?>> methods =
        new ArrayList<>(OrchestratorServiceGrpc.getServiceDescriptor().getMethods());
    // Left out: the Work stream. A fuzzed `open` that is valid opens a stream that rightly
    // starts batches while it lives, and the call still ends DEADLINE_EXCEEDED here (a stream
    // waits for its client); its pipeline sits in `open.pipeline`, which named() does not see,
    // so "a refused call changes nothing" would be checked against the wrong baseline (seed
    // 1592651789, request 3519). WorkStreamTest covers the Work protocol.
    methods.removeIf(m -> m.getBareMethodName().equals("Work"));
    Channel authed = AuthTest.withHeader(channel, "Bearer " + ROOT);
    for (int i = 0; i < MALFORMED; i++) {
      MethodDescriptor<?, ?> typed = methods.get(random.nextInt(methods.size()));
      MethodDescriptor<byte[], byte[]> method = typed.toBuilder(RAW, RAW).build();
      byte[] body = malformed(typed);
      CompletableFuture<com.google.rpc.Status> closed = new CompletableFuture<>();
      ClientCall<byte[], byte[]> call = authed.newCall(method,
          CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS));
      call.start(new ClientCall.Listener<>() {
        @Override
        public void onClose(Status status, Metadata trailers) {
          com.google.rpc.Status rich = StatusProto.fromStatusAndTrailers(status, trailers);
          closed.complete(rich != null ? rich : com.google.rpc.Status.newBuilder()
              .setCode(status.getCode().value()).setMessage(String.valueOf(status.getDescription()))
              .build());
        }
      }, new Metadata());
      call.request(Integer.MAX_VALUE);
      call.sendMessage(body);
      call.halfClose();
      com.google.rpc.Status status = closed.get(15, TimeUnit.SECONDS);
      boolean parses = parses(typed, body);
      String where = "fuzz seed " + SEED + ", malformed " + i + " to "
          + typed.getBareMethodName() + " -> " + status.getCode() + " " + status.getMessage();
      ErrorInfo info = errorInfo(status);
      outcomes.merge("malformed: " + Status.fromCodeValue(status.getCode()).getCode()
          + (info == null ? "" : " " + info.getReason()), 1, Integer::sum);
      if (status.getCode() != 0) {
        checkDocumented(status, where);
      }
      if (!parses) {
        assertThat(info.getReason()).as(where).isEqualTo("MALFORMED_REQUEST");
        for (String p : FIXED) {
          assertThat(status(p).getSignature()).as(where).isEqualTo(signatures.get(p));
        }
      } else {
        for (String p : FIXED) {
          signatures.put(p, status(p).getSignature());
        }
      }
    }
  }

  /** Bytes that are, or nearly are, a request of {@code method}: corrupted in a random way. */
  private byte[] malformed(MethodDescriptor<?, ?> method) {
    byte[] valid = GetStatusRequest.newBuilder().setPipeline(pick(FIXED)).build().toByteArray();
    return switch (random.nextInt(6)) {
      case 0 -> bytes(1 + random.nextInt(200)); // noise
      case 1 -> java.util.Arrays.copyOf(valid, valid.length - 1 - random.nextInt(3)); // truncated
      case 2 -> new byte[] {0x0a, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f}; // huge length
      case 3 -> new byte[] {0x0a, 0x02, (byte) 0xc3, 0x28}; // field 1: invalid UTF-8
      case 4 -> new byte[] {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80,
          (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x01}; // bad varint tag
      default -> {
        byte[] b = valid.clone();
        b[random.nextInt(b.length)] ^= (byte) (1 << random.nextInt(8));
        yield b;
      }
    };
  }

  private static boolean parses(MethodDescriptor<?, ?> method, byte[] body) {
    try {
      ((MethodDescriptor.PrototypeMarshaller<?>) method.getRequestMarshaller())
          .parse(new ByteArrayInputStream(body));
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  // ---- raw garbage on TCP --------------------------------------------------------------------

  private void rawGarbage(Map<String, String> signatures) throws Exception {
    byte[] preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    for (int i = 0; i < RAW_CONNECTIONS; i++) {
      try (Socket s = new Socket("127.0.0.1", grpc.server().port())) {
        s.setSoTimeout(1_000);
        OutputStream out = s.getOutputStream();
        switch (i % 4) {
          case 0 -> out.write(bytes(1 + random.nextInt(4096)));
          case 1 -> {
            out.write(preface);
            out.write(bytes(1 + random.nextInt(4096)));
          }
          case 2 -> out.write("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
              .getBytes(StandardCharsets.US_ASCII));
          default -> {
            out.write(preface);
            // a SETTINGS frame with a bad length, then a HEADERS frame on stream 0
            out.write(new byte[] {0, 0, 5, 4, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5});
            out.write(new byte[] {0, 0, 1, 1, 5, 0, 0, 0, 0, 0});
          }
        }
        out.flush();
        s.shutdownOutput(); // then the server sees the end of it
        InputStream in = s.getInputStream();
        try {
          while (in.read(new byte[4096]) >= 0) {
            // the server answers (GOAWAY, an HTTP/1 error) and closes
          }
        } catch (SocketTimeoutException | java.net.SocketException e) {
          // the server did not close within 1 s, or reset: both fine, the test moves on
        }
      }
      outcomes.merge("raw connection", 1, Integer::sum);
    }
    for (String p : FIXED) {
      assertThat(status(p).getSignature()).as("fuzz seed %s: after raw garbage", SEED)
          .isEqualTo(signatures.get(p));
    }
  }
}
