package dev.lightspeed.orchestrator.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * A status draft read under the lock finishes to the signature of the state it was read at,
 * whatever the pipeline does before it is finished (the server finishes it without the lock).
 */
class StatusDraftTest {

  /** Acks, cancels and live batches, so that every part of the signature has entries. */
  private static void history(PipelineRuntime rt) {
    long now = 1_000;
    for (int i = 0; i < 300; i++) {
      rt.enqueueBatch(Fixtures.batch("b" + i, 1 + i % 7, i + 1), now);
      if (i % 3 != 2) {
        String started = rt.startAvailable(now, 1, Set.of()).started().get(0).batch().key();
        if (i % 3 == 0) {
          rt.ackBatch(started, 0, now);
        }
      } else {
        rt.applyAction(new OperatorAction.CancelBatch("b" + i), now);
      }
      now += 7;
    }
  }

  private static PipelineRuntime runtime() {
    return Fixtures.runtime(
        s -> s.dedupWindowMs(1_000).boundary(Boundary.DEFAULT.withMaxInFlight(100_000)));
  }

  @Test
  void finishingLater_givesTheSignatureOfTheStateItWasReadAt() {
    PipelineRuntime reference = runtime();
    history(reference);
    String expected = reference.queries().signature();

    PipelineRuntime rt = runtime();
    history(rt);
    StatusDraft draft = rt.queries().statusDraft();
    assertThat(draft.signatureKnown()).isFalse();

    // Meanwhile: more acks, and a clock far past the window, so that every remembered batch is
    // forgotten and its rows and text are reused.
    Consumer<Long> more = t -> {
      for (int i = 1_000; i < 2_500; i++) {
        rt.enqueueBatch(Fixtures.batch("c" + i, 1, i), t + i);
        String started = rt.startAvailable(t + i, 1, Set.of()).started().get(0).batch().key();
        rt.ackBatch(started, 0, t + i);
      }
    };
    more.accept(100_000L);

    PipelineStatus finished = draft.finish();
    assertThat(finished.signature()).isEqualTo(expected);
    assertThat(rt.queries().signature()).isNotEqualTo(expected);
  }

  @Test
  void aFinishedSignature_isCachedOnlyForTheVersionItWasReadAt() {
    PipelineRuntime rt = runtime();
    history(rt);
    StatusDraft draft = rt.queries().statusDraft();
    String signature = draft.finish().signature();
    rt.queries().offerSignature(draft.version(), signature);
    assertThat(rt.queries().statusDraft().signatureKnown()).isTrue();
    assertThat(rt.queries().statusDraft().finish().signature()).isEqualTo(signature);

    StatusDraft stale = rt.queries().statusDraft();
    rt.enqueueBatch(Fixtures.batch("late", 1, 10_000), 50_000);
    rt.queries().offerSignature(stale.version(), "not the current state");
    assertThat(rt.queries().signature()).isNotEqualTo("not the current state");
  }
}
