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
 * A producer that keeps W outstanding sends calls of W: when a call returns, the items that
 * waited for it wait further for those its answered callers send again, instead of leaving at
 * once in a call of their own (which made a producer with 64 outstanding alternate two calls of
 * about 32 each: twice the round trips, each paying the server's fsync).
 */
class BatcherRefillTest {
  /** Answers every call at once but the second, which the test answers. */
  private final List<Integer> calls = Collections.synchronizedList(new ArrayList<>());
  private final CompletableFuture<List<Object>> held = new CompletableFuture<>();
  // A timer that never fires within the test: only flush() or the refill rule sends.
  private final Batcher<String, Boolean> batcher = new Batcher<>(
      new BatchingOptions(100, Duration.ofHours(1), 1 << 20),
      items -> {
        calls.add(items.size());
        List<Object> results = new ArrayList<>(Collections.nCopies(items.size(), false));
        return calls.size() == 2 ? held.thenApply(x -> results)
            : CompletableFuture.completedFuture(results);
      },
      String::length);

  /** Call 1 of 4 returned; call 2, of 4, in flight; 4 more wait for it: 8 outstanding. */
  private List<CompletableFuture<Boolean>> eightOutstanding() throws Exception {
    for (int i = 0; i < 4; i++) {
      batcher.add("stage", "a");
    }
    batcher.flush().get(20, TimeUnit.SECONDS);
    List<CompletableFuture<Boolean>> second = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      second.add(batcher.add("stage", "b")); // the refill: leaves at once, stays in flight
    }
    for (int i = 0; i < 4; i++) {
      batcher.add("stage", "c");
    }
    assertThat(calls).containsExactly(4, 4);
    return second;
  }

  @Test
  void whatWaitedForACall_leavesWithTheItemsItsCallersSendAgain() throws Exception {
    List<CompletableFuture<Boolean>> second = eightOutstanding();
    held.complete(List.of()); // call 2 returns (its callers answered on this thread)
    List<CompletableFuture<Boolean>> again = new ArrayList<>();
    for (CompletableFuture<Boolean> f : second) {
      f.get(20, TimeUnit.SECONDS);
      again.add(batcher.add("stage", "d")); // each answered caller sends again, as a window does
    }
    CompletableFuture.allOf(again.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
    assertThat(calls).containsExactly(4, 4, 8);
  }

  @Test
  void callersThatSendAgainWhileAnswered_areNotCountedTwice() throws Exception {
    List<CompletableFuture<Boolean>> second = eightOutstanding();
    List<CompletableFuture<Boolean>> again = Collections.synchronizedList(new ArrayList<>());
    for (CompletableFuture<Boolean> f : second) {
      f.thenRun(() -> again.add(batcher.add("stage", "d"))); // sends again as it is answered
    }
    held.complete(List.of());
    assertThat(again).hasSize(4);
    CompletableFuture.allOf(again.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
    assertThat(calls).containsExactly(4, 4, 8);
  }
}
