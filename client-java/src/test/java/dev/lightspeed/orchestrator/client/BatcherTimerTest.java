package dev.lightspeed.orchestrator.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A lane's delay timer stays armed across calls: a producer that keeps W outstanding, whose
 * calls leave by the refill rule, does not arm (and wake the timer thread for) one timer per
 * call.
 */
class BatcherTimerTest {
  private final List<Integer> sizes = Collections.synchronizedList(new ArrayList<>());
  private final List<CompletableFuture<List<Object>>> calls =
      Collections.synchronizedList(new ArrayList<>());
  // A delay that never runs out within the test: only flush() or the refill rule sends.
  private final Batcher<String, Boolean> batcher = new Batcher<>(
      new BatchingOptions(100, Duration.ofHours(1), 1 << 20),
      items -> {
        sizes.add(items.size());
        CompletableFuture<List<Object>> call = new CompletableFuture<>();
        calls.add(call);
        return call;
      },
      String::length);

  @Test
  void callsThatLeaveByTheRefill_doNotArmATimerEach() throws Exception {
    List<CompletableFuture<Boolean>> outstanding = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      outstanding.add(batcher.add("stage", "a")); // the first arms the lane's timer
    }
    batcher.flush(); // call 1, of 4
    for (int round = 0; round < 20; round++) {
      calls.get(calls.size() - 1).complete(new ArrayList<>(Collections.nCopies(4, false)));
      List<CompletableFuture<Boolean>> again = new ArrayList<>();
      for (CompletableFuture<Boolean> f : outstanding) {
        f.get(20, TimeUnit.SECONDS);
        again.add(batcher.add("stage", "b")); // each answered caller sends again
      }
      outstanding = again;
    }
    assertThat(sizes).hasSize(21).containsOnly(4);
    synchronized (batcher) {
      assertThat(batcher.timersScheduled).isEqualTo(1);
    }
  }
}
