package dev.lightspeed.orchestrator.core;

import static dev.lightspeed.orchestrator.core.Fixtures.EXTRACT;
import static dev.lightspeed.orchestrator.core.Fixtures.LOAD;
import static dev.lightspeed.orchestrator.core.Fixtures.assertInvalidSpec;
import static dev.lightspeed.orchestrator.core.Fixtures.source;
import static dev.lightspeed.orchestrator.core.Fixtures.spec;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** SPEC section 2: the configuration of one pipeline and its validation. */
class PipelineSpecValidationTest {

  @Test
  void spec_withNothingSet_hasTheDefaultsOfSection2() {
    PipelineSpec spec = PipelineSpec.builder("p").stages("s").allowUnboundStages(true).build();

    assertThat(spec.boundary()).isEqualTo(new Boundary(64, 10_000, 0, 0, 30_000));
    assertThat(spec.retry()).isEqualTo(new RetryPolicy(5, 1_000, 60_000, 2.0));
    assertThat(spec.dedupWindowMs()).isEqualTo(300_000);
    assertThat(spec.allowUnboundStages()).isTrue();
    assertThat(PipelineSpec.builder("p").build().allowUnboundStages()).isFalse();
    Connector c = Connector.of("c", ConnectorKind.SOURCE, "s");
    assertThat(c.disabled()).isFalse();
    assertThat(c.maxBatchRecords()).isZero();
    assertThat(c.deadLetterDestination()).isEmpty();
    assertThat(c.ordered()).isFalse();
    assertThat(PipelineRuntime.create(spec).queries().spec()).isEqualTo(spec);
  }

  @Test
  void create_withValidSpec_isAcceptedAndEmpty() {
    PipelineRuntime rt = PipelineRuntime.create(spec().build());

    assertThat(rt.name()).isEqualTo("orders");
    assertThat(rt.queries().batches()).isEmpty();
    assertThat(rt.queries().mode()).isEqualTo(PipelineMode.RUNNING);
    assertThat(rt.queries().effectiveMaxInFlight()).isEqualTo(64);
    assertThat(rt.queries().activeRunId()).isZero();
    assertThat(rt.queries().valid()).isTrue();
  }

  @ParameterizedTest(name = "name ''{0}'' is valid")
  @ValueSource(strings = {"a", "0", "orders", "a.b_c-d", "9lives", "a-", "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij123"})
  void name_matchingThePattern_isAccepted(String name) {
    PipelineSpec s =
        PipelineSpec.builder(name).stages(name).connectors(source(name)).build();
    assertThat(PipelineRuntime.create(s).name()).isEqualTo(name);
  }

  @ParameterizedTest(name = "name ''{0}'' is refused")
  @ValueSource(
      strings = {
        "",
        "Orders",
        "-orders",
        ".orders",
        "_orders",
        "or ders",
        "orders/1",
        "ordérs",
        "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234"
      })
  void name_notMatchingThePattern_isInvalidPipelineSpec(String name) {
    PipelineSpec bad =
        PipelineSpec.builder(name)
            .stages(spec().build().stages())
            .connectors(spec().build().connectors())
            .build();
    assertInvalidSpec(bad, "name");
  }

  @Test
  void name_null_isInvalidPipelineSpec() {
    assertInvalidSpec(
        PipelineSpec.builder(null).stages(EXTRACT).connectors(source(EXTRACT)).build(), "name");
  }

  @Test
  void stages_empty_isInvalidPipelineSpec() {
    assertInvalidSpec(spec().stages(List.of()).connectors(List.of()).build(), "stages");
  }

  @Test
  void stage_withBadName_isInvalidPipelineSpecNamingItsIndex() {
    assertInvalidSpec(spec().stages(EXTRACT, "Bad Stage", LOAD).build(), "stages[1]");
  }

  @Test
  void stage_duplicated_isInvalidPipelineSpec() {
    Rejection r = assertInvalidSpec(spec().stages(EXTRACT, LOAD, EXTRACT).build(), "stages[2]");
    assertThat(r.getMessage()).contains("duplicate");
  }

  @Test
  void connectors_emptyWithoutAllowUnboundStages_isInvalidPipelineSpec() {
    assertInvalidSpec(spec().connectors(List.of()).build(), "connectors");
  }

  @Test
  void connectors_emptyWithAllowUnboundStages_isAccepted() {
    PipelineRuntime rt =
        PipelineRuntime.create(spec().connectors(List.of()).allowUnboundStages(true).build());
    assertThat(rt.queries().spec().connectors()).isEmpty();
  }

  @Test
  void connector_onUnknownStage_isInvalidPipelineSpec() {
    assertInvalidSpec(
        spec().connectors(source(EXTRACT), Connector.of("x", ConnectorKind.SINK, "nowhere")).build(),
        "connectors[1].stage");
  }

  @Test
  void connector_withDuplicateName_isInvalidPipelineSpec() {
    assertInvalidSpec(
        spec()
            .connectors(
                Connector.of("c", ConnectorKind.SOURCE, EXTRACT),
                Connector.of("c", ConnectorKind.SOURCE, LOAD))
            .build(),
        "connectors[1].name");
  }

  @Test
  void connector_withEmptyName_isInvalidPipelineSpec() {
    assertInvalidSpec(
        spec().connectors(Connector.of("", ConnectorKind.SOURCE, EXTRACT)).build(),
        "connectors[0].name");
  }

  @Test
  void connector_withoutKind_isInvalidPipelineSpec() {
    assertInvalidSpec(
        spec().connectors(new Connector("c", null, EXTRACT, false, 0, "", false)).build(),
        "connectors[0].kind");
  }

  @Test
  void twoSources_onOneStage_isInvalidPipelineSpec() {
    assertInvalidSpec(
        spec()
            .connectors(
                Connector.of("a", ConnectorKind.SOURCE, EXTRACT),
                Connector.of("b", ConnectorKind.SOURCE, EXTRACT))
            .build(),
        "connectors[1].kind");
  }

  @Test
  void twoSinks_onOneStage_isInvalidPipelineSpec() {
    assertInvalidSpec(
        spec()
            .connectors(
                Connector.of("a", ConnectorKind.SINK, LOAD),
                Connector.of("b", ConnectorKind.SINK, LOAD))
            .build(),
        "connectors[1].kind");
  }

  @Test
  void oneSourceAndOneSink_onOneStage_isAccepted() {
    PipelineSpec s =
        spec()
            .connectors(
                Connector.of("a", ConnectorKind.SOURCE, LOAD),
                Connector.of("b", ConnectorKind.SINK, LOAD))
            .build();
    assertThat(PipelineRuntime.create(s).queries().spec().connectors()).hasSize(2);
  }

  @Test
  void connector_withNegativeMaxBatchRecords_isInvalidPipelineSpec() {
    assertInvalidSpec(
        spec().connectors(source(EXTRACT).withMaxBatchRecords(-1)).build(),
        "connectors[0].max_batch_records");
  }

  static Stream<Arguments> invalidNumbers() {
    return Stream.of(
        bad("boundary.max_in_flight", s -> s.boundary(Boundary.DEFAULT.withMaxInFlight(0))),
        bad("boundary.max_in_flight", s -> s.boundary(Boundary.DEFAULT.withMaxInFlight(-1))),
        bad("boundary.max_queued", s -> s.boundary(Boundary.DEFAULT.withMaxQueued(0))),
        bad("boundary.max_lag_ms", s -> s.boundary(Boundary.DEFAULT.withMaxLagMs(-1))),
        bad(
            "boundary.max_in_flight_records",
            s -> s.boundary(Boundary.DEFAULT.withMaxInFlightRecords(-1))),
        bad("boundary.lease_ms", s -> s.boundary(Boundary.DEFAULT.withLeaseMs(-1))),
        bad("retry.max_attempts", s -> s.retry(RetryPolicy.DEFAULT.withMaxAttempts(0))),
        bad("retry.initial_backoff_ms", s -> s.retry(RetryPolicy.DEFAULT.withInitialBackoffMs(-1))),
        bad("retry.max_backoff_ms", s -> s.retry(RetryPolicy.DEFAULT.withMaxBackoffMs(-1))),
        bad("retry.multiplier", s -> s.retry(RetryPolicy.DEFAULT.withMultiplier(0.999))),
        bad("retry.multiplier", s -> s.retry(RetryPolicy.DEFAULT.withMultiplier(Double.NaN))),
        bad(
            "retry.multiplier",
            s -> s.retry(RetryPolicy.DEFAULT.withMultiplier(Double.POSITIVE_INFINITY))),
        bad("dedup_window_ms", s -> s.dedupWindowMs(-1)),
        bad("boundary", s -> s.boundary(null)),
        bad("retry", s -> s.retry(null)));
  }

  private static Arguments bad(String field, UnaryOperator<PipelineSpec.Builder> change) {
    return Arguments.of(field, change);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidNumbers")
  void number_outOfRange_isInvalidPipelineSpecNamingTheField(
      String field, UnaryOperator<PipelineSpec.Builder> change) {
    assertInvalidSpec(change.apply(spec()).build(), field);
  }

  @Test
  void zeroes_whereZeroMeansUnlimitedOrNever_areAccepted() {
    PipelineSpec s =
        spec()
            .connectors(source(EXTRACT).withMaxBatchRecords(0))
            .boundary(new Boundary(1, 1, 0, 0, 0))
            .retry(new RetryPolicy(1, 0, 0, 1.0))
            .dedupWindowMs(0)
            .build();
    assertThat(PipelineRuntime.create(s).queries().spec()).isEqualTo(s);
  }
}
