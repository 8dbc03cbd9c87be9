package dev.lightspeed.orchestrator.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lightspeed.orchestrator.core.Reason;
import dev.lightspeed.orchestrator.core.Rejection;
import org.junit.jupiter.api.Test;

/** When the heap guard refuses, when it takes calls again, and what it says. */
class HeapGuardTest {
  private final HeapGuard guard = HeapGuard.of(90, 1_000);

  @Test
  void refusesFromTheLimitOn_andTakesCallsAgainOnlyFivePointsBelowIt() {
    guard.afterGc(899);
    guard.checkRoom("batches");
    guard.afterGc(900);
    assertThat(guard.full()).isTrue();
    guard.afterGc(860); // below the limit, not 5 points below: still refusing
    assertThat(guard.full()).isTrue();
    guard.afterGc(849);
    assertThat(guard.full()).isFalse();
    guard.checkRoom("batches");
  }

  @Test
  void theRefusalIsRetryableBackpressure_namingTheFlagAndWhatToDo() {
    guard.afterGc(950);
    assertThatThrownBy(() -> guard.checkRoom("batches"))
        .isInstanceOfSatisfying(Rejection.class, r -> {
          assertThat(r.reason()).isEqualTo(Reason.QUEUE_FULL);
          assertThat(r.retryAfterMs()).isPositive();
          assertThat(r.getMessage()).contains("95 % full").contains("limit 90 %")
              .contains("--max-heap-percent").contains("no new batches").contains("-Xmx");
        });
  }

  @Test
  void off_neverRefuses_andTheLimitIsChecked() {
    HeapGuard.OFF.afterGc(Long.MAX_VALUE / 2);
    HeapGuard.OFF.checkRoom("batches");
    assertThat(HeapGuard.watchThisJvm(100)).isSameAs(HeapGuard.OFF);
    assertThatThrownBy(() -> HeapGuard.of(49, 1_000)).hasMessageContaining("50..100");
    assertThatThrownBy(() -> HeapGuard.watchThisJvm(101)).hasMessageContaining("50..100");
  }
}
