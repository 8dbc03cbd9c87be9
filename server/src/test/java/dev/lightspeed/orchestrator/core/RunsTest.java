package dev.lightspeed.orchestrator.core;

import static dev.lightspeed.orchestrator.core.Fixtures.batch;
import static dev.lightspeed.orchestrator.core.Fixtures.enqueue;
import static dev.lightspeed.orchestrator.core.Fixtures.runtime;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** SPEC 3.6: start_run and complete_run. */
class RunsTest {

  @Test
  void startRun_withNoActiveRun_opensRunOneAtNow() {
    PipelineRuntime rt = runtime();

    RunSummary run = rt.startRun(1_000);

    assertThat(run).isEqualTo(new RunSummary(1, 1_000, 0, 0, 0, 0, 0));
    assertThat(rt.queries().activeRunId()).isEqualTo(1);
    assertThat(rt.queries().activeRun()).isEqualTo(run);
    assertThat(rt.queries().status().activeRunId()).isEqualTo(1);
    assertThat(rt.queries().lastNowMs()).isEqualTo(1_000);
  }

  @Test
  void startRun_withEarlierNow_startsAtTheLastNow() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("k", 1, 1), 500);
    assertThat(rt.startRun(100).startedAtMs()).isEqualTo(500);
  }

  @Test
  void startRun_whileOneIsActive_returnsItAndChangesNothing() {
    PipelineRuntime rt = runtime();
    rt.startRun(1_000);
    enqueue(rt, batch("k", 1, 1), 1_000);
    rt.startAvailable(1_000);
    rt.ackBatch("k", 1, 1_000);
    String sig = rt.queries().signature();

    RunSummary again = rt.startRun(9_000);

    assertThat(again).isEqualTo(new RunSummary(1, 1_000, 0, 1, 1, 0, 0));
    assertThat(rt.queries().signature()).isEqualTo(sig);
    assertThat(rt.queries().lastNowMs()).isEqualTo(1_000);
  }

  @Test
  void activeRunId_isZeroWithoutARun() {
    PipelineRuntime rt = runtime();
    assertThat(rt.queries().activeRunId()).isZero();
    assertThat(rt.queries().activeRun()).isNull();
  }

  @Test
  void completeRun_closesTheActiveRunAndKeepsItsSummary() {
    PipelineRuntime rt = runtime();
    rt.startRun(100);
    enqueue(rt, batch("a", 3, 1), 100);
    enqueue(rt, batch("b", 4, 2), 100);
    enqueue(rt, batch("c", 5, 3), 100);
    rt.startAvailable(100);
    rt.ackBatch("a", 1, 200);
    rt.failBatch("b", 1, "boom", false, 200);
    rt.failBatch("c", 1, "bad", true, 200);

    Optional<RunSummary> done = rt.completeRun(300);

    RunSummary expected = new RunSummary(1, 100, 300, 1, 3, 1, 1);
    assertThat(done).contains(expected);
    assertThat(rt.queries().activeRunId()).isZero();
    assertThat(rt.queries().runs()).containsExactly(expected);
    assertThat(rt.queries().lastNowMs()).isEqualTo(300);
  }

  @Test
  void completeRun_withNoActiveRun_isEmptyAndChangesNothing() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("a", 3, 1), 100);
    String sig = rt.queries().signature();

    assertThat(rt.completeRun(5_000)).isEmpty();

    assertThat(rt.queries().signature()).isEqualTo(sig);
    assertThat(rt.queries().lastNowMs()).isEqualTo(100);
    assertThat(rt.queries().runs()).isEmpty();
  }

  @Test
  void startRun_afterACompletedRun_opensTheNextId() {
    PipelineRuntime rt = runtime();
    rt.startRun(0);
    rt.completeRun(10);
    rt.startRun(20);
    rt.completeRun(30);

    assertThat(rt.startRun(40).runId()).isEqualTo(3);
    assertThat(rt.queries().runs())
        .extracting(RunSummary::runId)
        .containsExactly(2L, 1L); // newest first
  }

  @Test
  void runs_labelWorkByTheRunActiveAtStartAndAtAck() {
    PipelineRuntime rt = runtime();
    rt.startRun(0);
    enqueue(rt, batch("a", 2, 1), 0);
    StartResult s = rt.startAvailable(0);
    assertThat(s.started().get(0).runId()).isEqualTo(1);
    rt.completeRun(10);
    rt.startRun(20);

    assertThat(rt.ackBatch("a", 1, 30).result().runId()).isEqualTo(2);
    assertThat(rt.completeRun(40).orElseThrow().batchesProcessed()).isEqualTo(1);
    assertThat(rt.queries().runs().get(1).batchesProcessed()).isZero(); // run 1
  }

  @Test
  void runs_neverGateWork() {
    PipelineRuntime rt = runtime();
    enqueue(rt, batch("a", 1, 1), 0);
    assertThat(rt.startAvailable(0).started()).hasSize(1);
    assertThat(rt.ackBatch("a", 1, 0).result().runId()).isZero();
    rt.startRun(0);
    rt.completeRun(0);
    enqueue(rt, batch("b", 1, 2), 0);
    assertThat(rt.startAvailable(0).started()).hasSize(1);
  }

  @Test
  void runs_keepTheLast100Summaries() {
    PipelineRuntime rt = runtime();
    for (int i = 1; i <= 105; i++) {
      rt.startRun(i * 10L);
      rt.completeRun(i * 10L + 5);
    }

    assertThat(rt.queries().runs()).hasSize(100);
    assertThat(rt.queries().runs().get(0)).isEqualTo(new RunSummary(105, 1_050, 1_055, 0, 0, 0, 0));
    assertThat(rt.queries().runs().get(99).runId()).isEqualTo(6);
    assertThat(rt.startRun(2_000).runId()).isEqualTo(106);
  }
}
