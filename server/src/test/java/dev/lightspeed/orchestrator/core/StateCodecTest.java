package dev.lightspeed.orchestrator.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;

/**
 * A runtime read back from a snapshot is the same runtime: same signature, same clock and
 * version, and the same answer to every later call, after any history.
 */
class StateCodecTest {

  @RepeatedTest(30)
  void snapshotRoundTrip_afterARandomHistory_behavesIdentically(RepetitionInfo info) throws IOException {
    Random random = new Random(info.getCurrentRepetition());
    PipelineRuntime original = PipelineRuntime.create(spec());
    List<Function<PipelineRuntime, String>> history = randomOps(random, 120);
    int cut = random.nextInt(history.size());
    for (Function<PipelineRuntime, String> op : history.subList(0, cut)) {
      op.apply(original);
    }
    PipelineRuntime copy = roundTrip(original);
    assertThat(copy.queries().signature()).isEqualTo(original.queries().signature());
    assertThat(copy.queries().lastNowMs()).isEqualTo(original.queries().lastNowMs());
    assertThat(copy.queries().version()).isEqualTo(original.queries().version());
    assertThat(copy.queries().batches(Page.START, 7, null))
        .isEqualTo(original.queries().batches(Page.START, 7, null));
    for (Function<PipelineRuntime, String> op : history.subList(cut, history.size())) {
      assertThat(op.apply(copy)).isEqualTo(op.apply(original));
      assertThat(copy.queries().signature()).isEqualTo(original.queries().signature());
    }
    assertThat(copy.queries().valid()).isTrue();
  }

  private static PipelineRuntime roundTrip(PipelineRuntime runtime) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      runtime.writeSnapshot(out);
    }
    return PipelineRuntime.readSnapshot(
        new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
  }

  static PipelineSpec spec() {
    return PipelineSpec.builder("codec")
        .stages("a", "b")
        .connectors(
            Connector.of("src-a", ConnectorKind.SOURCE, "a"),
            Connector.of("src-b", ConnectorKind.SOURCE, "b").withOrdered(true),
            Connector.of("sink-b", ConnectorKind.SINK, "b").withDeadLetterDestination("dlq://b"))
        .boundary(Boundary.DEFAULT.withMaxInFlight(4).withLeaseMs(500).withMaxInFlightRecords(40))
        .retry(RetryPolicy.DEFAULT.withMaxAttempts(3).withInitialBackoffMs(100))
        .dedupWindowMs(2_000)
        .build();
  }

  /**
   * Operations as functions that print their outcome (or refusal), so runs can be compared.
   * {@link StateGoldenTest} replays some of these histories against files: changing this changes
   * those states, so regenerate the files then (see there).
   */
  static List<Function<PipelineRuntime, String>> randomOps(Random r, int n) {
    List<Function<PipelineRuntime, String>> ops = new ArrayList<>();
    long[] now = {1_000};
    long[] seq = {0, 0};
    for (int i = 0; i < n; i++) {
      now[0] += r.nextInt(400);
      long t = now[0];
      int key = r.nextInt(12);
      int stage = r.nextInt(2);
      String stageName = stage == 0 ? "a" : "b";
      int attempt = r.nextInt(3);
      switch (r.nextInt(10)) {
        case 0, 1, 2 -> {
          long s = ++seq[stage];
          ops.add(rt -> attempt(() -> rt.enqueueBatch(
              new Batch("k" + key, stageName, 1 + key, 0, "i" + key + "-" + s, s), t)));
        }
        case 3, 4 -> {
          int max = r.nextInt(3);
          ops.add(rt -> attempt(() -> rt.startAvailable(t, max, Set.of())));
        }
        case 5 -> ops.add(rt -> attempt(() -> rt.ackBatch("k" + key, attempt, t)));
        case 6 -> ops.add(rt -> attempt(() -> rt.failBatch("k" + key, Math.max(1, attempt), "x", key % 5 == 0, t)));
        case 7 -> ops.add(rt -> attempt(() -> rt.extendLease("k" + key, attempt, t)));
        case 8 -> {
          OperatorAction action = switch (r.nextInt(6)) {
            case 0 -> new OperatorAction.RedriveDeadLetter("k" + key);
            case 1 -> new OperatorAction.CancelBatch("k" + key);
            case 2 -> new OperatorAction.DiscardDeadLetter("k" + key);
            case 3 -> new OperatorAction.PauseStage(stageName);
            case 4 -> new OperatorAction.ResumeStage(stageName);
            default -> new OperatorAction.SetMaxInFlight(1 + r.nextInt(4));
          };
          ops.add(rt -> attempt(() -> rt.applyAction(action, t)));
        }
        default -> {
          boolean startRun = r.nextBoolean();
          ops.add(rt -> attempt(() -> startRun ? rt.startRun(t) : rt.completeRun(t)));
        }
      }
    }
    return ops;
  }

  private static String attempt(java.util.function.Supplier<Object> call) {
    try {
      return String.valueOf(call.get());
    } catch (Rejection e) {
      return e.toString();
    }
  }
}
