package dev.lightspeed.orchestrator.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lightspeed.orchestrator.v1.WorkAck;
import dev.lightspeed.orchestrator.v1.WorkExtend;
import dev.lightspeed.orchestrator.v1.WorkFail;
import dev.lightspeed.orchestrator.v1.WorkRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link WorkRequestCoalescer}: the acks that arrive while a request is being applied are applied
 * together, in order, and anything else keeps its place. The first apply is held on a latch (as a
 * contended pipeline lock would hold it), so what arrives meanwhile is known exactly.
 */
class WorkRequestCoalescerTest {
  private final ExecutorService executor = Executors.newSingleThreadExecutor();
  /** What the applier saw, in order: "acks[1,2]" or "fail 3" / "extend 4". */
  private final List<String> applied = new ArrayList<>();
  private final CountDownLatch firstEntered = new CountDownLatch(1);
  private final CountDownLatch releaseFirst = new CountDownLatch(1);
  private final AtomicReference<RuntimeException> failure = new AtomicReference<>();
  private RuntimeException throwOnOther;

  private final WorkRequestCoalescer coalescer = new WorkRequestCoalescer(executor,
      new WorkRequestCoalescer.Applier() {
        @Override
        public CompletableFuture<?> acks(List<WorkAck> acks) {
          holdTheFirst();
          record("acks" + acks.stream().map(a -> Long.toString(a.getRequestId()))
              .collect(Collectors.joining(",", "[", "]")));
          return null;
        }

        @Override
        public CompletableFuture<?> other(WorkRequest request) {
          holdTheFirst();
          record((request.hasFail() ? "fail " + request.getFail().getRequestId()
              : "extend " + request.getExtend().getRequestId()));
          if (throwOnOther != null) {
            throw throwOnOther;
          }
          return null;
        }
      }, failure::set);

  @AfterEach
  void stop() throws InterruptedException {
    releaseFirst.countDown();
    executor.shutdown();
    assertThat(executor.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
  }

  private void holdTheFirst() {
    if (firstEntered.getCount() > 0) {
      firstEntered.countDown();
      try {
        assertThat(releaseFirst.await(20, TimeUnit.SECONDS)).isTrue();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private synchronized void record(String what) {
    applied.add(what);
  }

  private synchronized List<String> applied() {
    return List.copyOf(applied);
  }

  private static WorkRequest ack(long id) {
    return WorkRequest.newBuilder().setAck(WorkAck.newBuilder().setRequestId(id).setKey("k" + id)
        .setAttempt(1)).build();
  }

  private static WorkRequest fail(long id) {
    return WorkRequest.newBuilder().setFail(WorkFail.newBuilder().setRequestId(id)
        .setKey("k" + id).setAttempt(1).setReason("boom")).build();
  }

  private static WorkRequest extend(long id) {
    return WorkRequest.newBuilder().setExtend(WorkExtend.newBuilder().setRequestId(id)
        .setKey("k" + id).setAttempt(1)).build();
  }

  /** Submits the first request, waits until the applier holds it, then submits the rest. */
  private void submitWhileTheFirstIsApplied(WorkRequest first, List<WorkRequest> rest)
      throws InterruptedException {
    coalescer.submit(first);
    assertThat(firstEntered.await(20, TimeUnit.SECONDS)).isTrue();
    rest.forEach(coalescer::submit);
    releaseFirst.countDown();
    awaitIdle();
  }

  /** Everything submitted before was applied: the single-thread executor ran past it. */
  private void awaitIdle() throws InterruptedException {
    CountDownLatch idle = new CountDownLatch(1);
    executor.execute(idle::countDown);
    assertThat(idle.await(20, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void acksArrivingWhileOneIsApplied_areAppliedTogether_inOrder() throws Exception {
    List<WorkRequest> rest = new ArrayList<>();
    for (int id = 2; id <= 9; id++) {
      rest.add(ack(id));
    }
    submitWhileTheFirstIsApplied(ack(1), rest);

    assertThat(applied()).containsExactly("acks[1]", "acks[2,3,4,5,6,7,8,9]");
    assertThat(coalescer.submitted()).isEqualTo(9);
  }

  @Test
  void aFailOrExtend_endsTheGroupBeforeIt_andKeepsItsPlace() throws Exception {
    submitWhileTheFirstIsApplied(ack(1),
        List.of(ack(2), ack(3), fail(4), ack(5), extend(6), extend(7), ack(8), ack(9)));

    assertThat(applied()).containsExactly(
        "acks[1]", "acks[2,3]", "fail 4", "acks[5]", "extend 6", "extend 7", "acks[8,9]");
  }

  @Test
  void aRequestArrivingWhileNothingIsApplied_isAppliedAtOnce_alone() throws Exception {
    releaseFirst.countDown();
    coalescer.submit(ack(1));
    awaitIdle();
    coalescer.submit(ack(2));
    awaitIdle();

    assertThat(applied()).containsExactly("acks[1]", "acks[2]");
  }

  @Test
  void aGroupHoldsAtMostTheCap() throws Exception {
    int n = WorkRequestCoalescer.MAX_ACKS_PER_GROUP + 5;
    List<WorkRequest> rest = new ArrayList<>();
    for (int id = 2; id <= n + 1; id++) {
      rest.add(ack(id));
    }
    List<Integer> sizes = new ArrayList<>();
    WorkRequestCoalescer sized = new WorkRequestCoalescer(executor,
        new WorkRequestCoalescer.Applier() {
          @Override
          public CompletableFuture<?> acks(List<WorkAck> acks) {
            holdTheFirst();
            synchronized (sizes) {
              sizes.add(acks.size());
            }
            return null;
          }

          @Override
          public CompletableFuture<?> other(WorkRequest request) {
            return null;
          }
        }, failure::set);
    sized.submit(ack(1));
    assertThat(firstEntered.await(20, TimeUnit.SECONDS)).isTrue();
    rest.forEach(sized::submit);
    releaseFirst.countDown();
    awaitIdle();

    synchronized (sizes) {
      assertThat(sizes).containsExactly(1, WorkRequestCoalescer.MAX_ACKS_PER_GROUP, 5);
    }
  }

  @Test
  void aFailureOfTheApplier_isReportedOnce_andNothingQueuedIsAppliedAfterIt() throws Exception {
    throwOnOther = new IllegalStateException("the pipeline was deleted");
    submitWhileTheFirstIsApplied(fail(1), List.of(ack(2), ack(3)));
    coalescer.submit(ack(4));
    awaitIdle();

    assertThat(applied()).containsExactly("fail 1");
    assertThat(failure.get()).isSameAs(throwOnOther);
  }

  /**
   * A cluster node's applier returns the pending replication of each request: nothing after it is
   * applied before it completes (order), and the acks that arrived meanwhile go together.
   */
  @Test
  void aPendingApply_holdsTheNextUntilDone_andTheAcksArrivingMeanwhileGoTogether()
      throws Exception {
    List<String> seen = new ArrayList<>();
    List<CompletableFuture<Void>> pending = new ArrayList<>();
    WorkRequestCoalescer async = new WorkRequestCoalescer(executor,
        new WorkRequestCoalescer.Applier() {
          @Override
          public CompletableFuture<?> acks(List<WorkAck> acks) {
            return applied("acks" + acks.stream().map(a -> Long.toString(a.getRequestId()))
                .collect(Collectors.joining(",", "[", "]")));
          }

          @Override
          public CompletableFuture<?> other(WorkRequest request) {
            return applied("fail " + request.getFail().getRequestId());
          }

          private CompletableFuture<?> applied(String what) {
            CompletableFuture<Void> replicated = new CompletableFuture<>();
            synchronized (seen) {
              seen.add(what);
              pending.add(replicated);
            }
            return replicated;
          }
        }, failure::set);
    async.submit(ack(1));
    awaitIdle();
    async.submit(ack(2));
    async.submit(ack(3));
    async.submit(fail(4));
    async.submit(ack(5));
    awaitIdle();
    synchronized (seen) {
      assertThat(seen).as("nothing applied while the first is pending").containsExactly("acks[1]");
    }
    for (int i = 0; i < 3; i++) {
      CompletableFuture<Void> next;
      synchronized (seen) {
        next = pending.get(i);
      }
      next.complete(null);
      awaitIdle();
    }
    synchronized (seen) {
      assertThat(seen).containsExactly("acks[1]", "acks[2,3]", "fail 4", "acks[5]");
    }
    assertThat(failure.get()).isNull();
  }
}
