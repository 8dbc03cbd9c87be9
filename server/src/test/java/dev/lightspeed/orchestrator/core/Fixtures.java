package dev.lightspeed.orchestrator.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * Builders and assertions shared by the core's tests, so that each test reads as its case.
 *
 * <p>The default pipeline is {@code orders} with stages {@code extract}, {@code transform} and
 * {@code load}, each with one SOURCE connector named {@code <stage>-in}; {@code load} also has the
 * SINK {@code load-out}. Everything else keeps the defaults of SPEC section 2.
 */
final class Fixtures {
  static final String PIPELINE = "orders";
  static final String EXTRACT = "extract";
  static final String TRANSFORM = "transform";
  static final String LOAD = "load";

  /**
   * The status code of every reason of the core, copied from SPEC section 4's table (not from the
   * code). The server's own reasons (PIPELINE_NOT_FOUND, EVENTS_EXPIRED, ...) are checked by the
   * server's ErrorContractTest.
   */
  static final Map<Reason, Reason.Category> SPEC_CATEGORY = new EnumMap<>(Reason.class);

  static {
    for (Reason r :
        List.of(
            Reason.INVALID_BATCH,
            Reason.INVALID_FAILURE,
            Reason.INVALID_ACTION,
            Reason.INVALID_PIPELINE_SPEC,
            Reason.INVALID_UPDATE_MASK)) {
      SPEC_CATEGORY.put(r, Reason.Category.INVALID_ARGUMENT);
    }
    for (Reason r :
        List.of(Reason.BATCH_NOT_FOUND, Reason.CONNECTOR_NOT_FOUND)) {
      SPEC_CATEGORY.put(r, Reason.Category.NOT_FOUND);
    }
    for (Reason r :
        List.of(Reason.BATCH_KEY_EXISTS, Reason.IDEMPOTENCY_CONFLICT)) {
      SPEC_CATEGORY.put(r, Reason.Category.ALREADY_EXISTS);
    }
    for (Reason r :
        List.of(
            Reason.UNKNOWN_STAGE,
            Reason.NO_CONNECTOR,
            Reason.CONNECTOR_DISABLED,
            Reason.BATCH_TOO_LARGE,
            Reason.PIPELINE_DRAINING,
            Reason.SEQUENCE_REGRESSION,
            Reason.NOT_IN_FLIGHT,
            Reason.NOT_DEAD_LETTERED,
            Reason.NOT_CANCELLABLE,
            Reason.STAGE_IN_FLIGHT)) {
      SPEC_CATEGORY.put(r, Reason.Category.FAILED_PRECONDITION);
    }
    SPEC_CATEGORY.put(Reason.QUEUE_FULL, Reason.Category.RESOURCE_EXHAUSTED);
    SPEC_CATEGORY.put(Reason.LAG_EXCEEDED, Reason.Category.RESOURCE_EXHAUSTED);
    SPEC_CATEGORY.put(Reason.STALE_ATTEMPT, Reason.Category.ABORTED);
  }

  private Fixtures() {}

  // ---- specs ---------------------------------------------------------------------------------

  static Connector source(String stage) {
    return Connector.of(stage + "-in", ConnectorKind.SOURCE, stage);
  }

  static Connector sink(String stage) {
    return Connector.of(stage + "-out", ConnectorKind.SINK, stage);
  }

  /** The default spec's builder: three stages, a SOURCE on each, a SINK on {@code load}. */
  static PipelineSpec.Builder spec() {
    return PipelineSpec.builder(PIPELINE)
        .stages(EXTRACT, TRANSFORM, LOAD)
        .connectors(source(EXTRACT), source(TRANSFORM), source(LOAD), sink(LOAD));
  }

  static PipelineRuntime runtime() {
    return PipelineRuntime.create(spec().build());
  }

  static PipelineRuntime runtime(UnaryOperator<PipelineSpec.Builder> customize) {
    return PipelineRuntime.create(customize.apply(spec()).build());
  }

  static PipelineRuntime runtimeWithBoundary(UnaryOperator<Boundary> customize) {
    return runtime(s -> s.boundary(customize.apply(Boundary.DEFAULT)));
  }

  static PipelineRuntime runtimeWithRetry(UnaryOperator<RetryPolicy> customize) {
    return runtime(s -> s.retry(customize.apply(RetryPolicy.DEFAULT)));
  }

  // ---- batches -------------------------------------------------------------------------------

  /** A batch of {@code extract} with idempotency key {@code idem-<key>} and no lag. */
  static Batch batch(String key, long records, long sequence) {
    return batch(key, EXTRACT, records, sequence);
  }

  static Batch batch(String key, String stage, long records, long sequence) {
    return new Batch(key, stage, records, 0, "idem-" + key, sequence);
  }

  static Batch withIdem(Batch b, String idempotencyKey) {
    return new Batch(b.key(), b.stage(), b.records(), b.lagMs(), idempotencyKey, b.sequence());
  }

  static Batch withLag(Batch b, long lagMs) {
    return new Batch(b.key(), b.stage(), b.records(), lagMs, b.idempotencyKey(), b.sequence());
  }

  /** Enqueues and asserts that the batch was enqueued (not deduplicated). */
  static void enqueue(PipelineRuntime rt, Batch b, long nowMs) {
    assertThat(rt.enqueueBatch(b, nowMs)).as("deduplicated %s", b.key()).isFalse();
  }

  /** Enqueues {@code key} into {@code extract} with 1 record and starts it; returns its attempt. */
  static StartedBatch enqueueAndStart(PipelineRuntime rt, String key, long sequence, long nowMs) {
    enqueue(rt, batch(key, 1, sequence), nowMs);
    return startOnly(rt, key, nowMs);
  }

  /** Runs start_available and asserts that it started exactly {@code key}. */
  static StartedBatch startOnly(PipelineRuntime rt, String key, long nowMs) {
    List<StartedBatch> started = rt.startAvailable(nowMs).started();
    assertThat(keys(started)).containsExactly(key);
    return started.get(0);
  }

  static List<String> keys(List<StartedBatch> started) {
    return started.stream().map(s -> s.batch().key()).toList();
  }

  static List<String> liveKeys(PipelineRuntime rt) {
    return rt.queries().batches().stream().map(v -> v.batch().key()).toList();
  }

  static BatchState stateOf(PipelineRuntime rt, String key) {
    BatchView v = rt.queries().batch(key);
    return v == null ? null : v.state();
  }

  static OperatorAction.SetMaxInFlight setMaxInFlight(int n) {
    return new OperatorAction.SetMaxInFlight(n);
  }

  static Set<String> stages(String... names) {
    return Set.of(names);
  }

  // ---- assertions ----------------------------------------------------------------------------

  /**
   * Asserts that {@code call} is refused with {@code reason}, that the reason has the status code
   * SPEC section 4 gives it, and that the refusal changed nothing: neither the signature nor the
   * clock (SPEC section 1). Returns the rejection for further checks of its message.
   */
  static Rejection assertRefused(PipelineRuntime rt, Reason reason, Runnable call) {
    String signature = rt.queries().signature();
    long lastNow = rt.queries().lastNowMs();
    List<BatchView> batches = rt.queries().batches();
    Rejection rejection = catchThrowableOfType(Rejection.class, call::run);
    assertThat(rejection).as("expected a %s rejection", reason).isNotNull();
    assertThat(rejection.reason()).isEqualTo(reason);
    assertThat(rejection.reason().category())
        .isEqualTo(SPEC_CATEGORY.getOrDefault(reason, reason.category()));
    assertThat(rejection.getMessage()).isNotBlank();
    assertThat(rt.queries().signature()).as("signature after a refused call").isEqualTo(signature);
    assertThat(rt.queries().lastNowMs()).as("clock after a refused call").isEqualTo(lastNow);
    assertThat(rt.queries().batches()).isEqualTo(batches);
    assertThat(rt.queries().valid()).isTrue();
    return rejection;
  }

  /** Asserts that a spec is refused with INVALID_PIPELINE_SPEC naming {@code field}. */
  static Rejection assertInvalidSpec(PipelineSpec spec, String field) {
    Rejection rejection =
        catchThrowableOfType(Rejection.class, () -> PipelineRuntime.create(spec));
    assertThat(rejection).as("expected INVALID_PIPELINE_SPEC for %s", field).isNotNull();
    assertThat(rejection.reason()).isEqualTo(Reason.INVALID_PIPELINE_SPEC);
    assertThat(rejection.reason().category()).isEqualTo(Reason.Category.INVALID_ARGUMENT);
    assertThat(rejection.field()).isEqualTo(field);
    assertThat(rejection.getMessage()).contains(field);
    return rejection;
  }

  /** Asserts that nothing but (at most) the clock changed: the signature is the same. */
  static void assertUnchanged(PipelineRuntime rt, String signatureBefore) {
    assertThat(rt.queries().signature()).isEqualTo(signatureBefore);
  }
}
