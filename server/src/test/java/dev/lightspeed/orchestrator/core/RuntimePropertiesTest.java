package dev.lightspeed.orchestrator.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.state.Action;
import net.jqwik.api.state.ActionChain;
import net.jqwik.api.state.Transformer;
import net.jqwik.api.statistics.Statistics;

/**
 * Stateful properties: random chains of operations (enqueues with repeated and conflicting
 * idempotency keys, starts with random max_batches and stage filters, acks and failures with
 * current and stale attempts, heartbeats, every operator action, runs) under a clock that mostly
 * moves forward and sometimes backward. After every step:
 *
 * <ul>
 *   <li>the result equals the one a naive {@link ReferenceModel} of SPEC predicts, and the lists,
 *       counts, mode, runs and counters equal the model's (so no batch is lost or duplicated: each
 *       accepted batch is in exactly one live state, or DONE, cancelled or discarded);
 *   <li>{@code valid()} holds;
 *   <li>a refused call (error, FailureRejected, deduplicated enqueue) left the signature and the
 *       clock unchanged;
 *   <li>the signature changed exactly when the model's observable state changed;
 *   <li>the events (SPEC 3.10) equal the model's: each id, time, type and payload;
 *   <li>before a start with a positive max_batches and known stages, {@code startWouldChange}
 *       says whether it starts or expires anything (a cluster node's Work stream relies on it);
 * </ul>
 *
 * and at the end, replaying the same operations on a fresh runtime gives the same result and
 * signature at every step.
 *
 * <p>Where SPEC is silent the model follows the core's documented decisions: an unknown stage in
 * start_available's filter is UNKNOWN_STAGE; the in-flight-records stop applies only to candidates
 * that are not skipped (paused, disabled, filtered or blocked); operator actions name live batches only (a DONE key is BATCH_NOT_FOUND);
 * extend_lease of a DONE key within the window is STALE_ATTEMPT or NOT_IN_FLIGHT;
 * a BatchView keeps its last ready time while IN_FLIGHT and shows 0 while DEAD_LETTERED.
 */
class RuntimePropertiesTest {
  private static final List<String> KEYS = List.of("k0", "k1", "k2", "k3", "k4", "k5");
  private static final List<String> IDEMS =
      List.of("i0", "i1", "i2", "i3", "i4", "i5", "i6", "i7", "i8", "i9");

  /** Ordered stage a, record limits on b, an unbound stage c; leases, lag and record budget on. */
  static final PipelineSpec STRICT =
      PipelineSpec.builder("strict")
          .stages("a", "b", "c")
          .connectors(
              Connector.of("a-in", ConnectorKind.SOURCE, "a").withOrdered(true),
              Connector.of("b-in", ConnectorKind.SOURCE, "b").withMaxBatchRecords(6),
              Connector.of("b-out", ConnectorKind.SINK, "b").withDeadLetterDestination("b-dlq"))
          .boundary(new Boundary(3, 6, 500, 12, 1_000))
          .retry(new RetryPolicy(3, 100, 250, 2.0))
          .dedupWindowMs(2_000)
          .build();

  /** Unbound stages allowed, no leases, no backoff, a tight record budget, an ordered SINK. */
  static final PipelineSpec LOOSE =
      PipelineSpec.builder("loose")
          .stages("a", "b", "c")
          .connectors(
              Connector.of("a-out", ConnectorKind.SINK, "a").withOrdered(true),
              Connector.of("b-in", ConnectorKind.SOURCE, "b").withDeadLetterDestination("src-b"))
          .boundary(new Boundary(3, 8, 0, 10, 0))
          .retry(new RetryPolicy(2, 0, 0, 1.0))
          .dedupWindowMs(500)
          .allowUnboundStages(true)
          .build();

  @Property(tries = 200)
  void strictPipeline_behavesLikeTheModel(@ForAll("strictChains") ActionChain<Harness> chain) {
    check(chain);
  }

  @Property(tries = 200)
  void loosePipeline_behavesLikeTheModel(@ForAll("looseChains") ActionChain<Harness> chain) {
    check(chain);
  }

  private static void check(ActionChain<Harness> chain) {
    Harness h =
        chain
            .withInvariant(
                "valid",
                x -> assertThat(x.rt.queries().valid()).as(x.rt.queries().brokenInvariant()).isTrue())
            .run();
    h.assertReplayGivesTheSameResultsAndSignatures();
    Statistics.label("steps").collect(h.ops.size() / 20 * 20);
    Statistics.label("lease expired").collect(h.seen.contains("expired"));
    Statistics.label("deduplicated").collect(h.seen.contains("deduplicated"));
    Statistics.label("idempotency conflict").collect(h.seen.contains("IDEMPOTENCY_CONFLICT"));
    Statistics.label("dead lettered").collect(h.seen.contains("dead_lettered"));
    Statistics.label("redriven").collect(h.seen.contains("redrive"));
    Statistics.label("acked").collect(h.seen.contains("processed"));
    Statistics.label("refused steps %")
        .collect(h.results.stream().filter(r -> r instanceof Reason).count() * 100 / h.ops.size() / 10 * 10);
  }

  @Provide
  Arbitrary<ActionChain<Harness>> strictChains() {
    return chains(STRICT);
  }

  @Provide
  Arbitrary<ActionChain<Harness>> looseChains() {
    return chains(LOOSE);
  }

  private static Arbitrary<ActionChain<Harness>> chains(PipelineSpec spec) {
    return ActionChain.startWith(() -> new Harness(spec))
        .withAction(6, op(RuntimePropertiesTest::enqueue))
        .withAction(5, op(RuntimePropertiesTest::start))
        .withAction(3, op(RuntimePropertiesTest::ack))
        .withAction(4, op(RuntimePropertiesTest::fail))
        .withAction(1, op(RuntimePropertiesTest::extend))
        .withAction(3, op(RuntimePropertiesTest::action))
        .withAction(1, op(RuntimePropertiesTest::run))
        .withAction(1, op(RuntimePropertiesTest::update))
        .withMaxTransformations(60);
  }

  private static Action.Dependent<Harness> op(Function<Harness, Arbitrary<Op>> ops) {
    return h -> ops.apply(h).map(o -> Transformer.mutate(o.toString(), (Harness x) -> x.apply(o)));
  }

  // ---- generators ----------------------------------------------------------------------------

  /** The next call's now_ms: mostly forward, sometimes the same, sometimes backward. */
  private static Arbitrary<Long> now(Harness h) {
    return Arbitraries.frequencyOf(
            Tuple.of(3, Arbitraries.just(0L)),
            Tuple.of(6, Arbitraries.longs().between(1, 300)),
            Tuple.of(2, Arbitraries.longs().between(301, 3_000)),
            Tuple.of(1, Arbitraries.longs().between(-800, -1)))
        .map(dt -> h.wall + dt);
  }

  private static Arbitrary<String> stage(Harness h) {
    return Arbitraries.frequencyOf(
        Tuple.of(12, Arbitraries.of(h.model.spec.stages())), Tuple.of(1, Arbitraries.just("zz")));
  }

  /** A key the model knows (live or recently done) most of the time, else one from the pool. */
  private static Arbitrary<String> key(Harness h) {
    List<String> known = new ArrayList<>(h.model.live.keySet());
    known.addAll(h.model.done.keySet());
    known.sort(Comparator.naturalOrder());
    if (known.isEmpty()) {
      return Arbitraries.of(KEYS);
    }
    return Arbitraries.frequencyOf(
        Tuple.of(4, Arbitraries.of(known)), Tuple.of(1, Arbitraries.of(KEYS)));
  }

  /** An IN_FLIGHT key most of the time, when there is one: acks and failures that count. */
  private static Arbitrary<String> workedKey(Harness h) {
    List<String> inFlight =
        h.model.live.values().stream()
            .filter(b -> b.state == BatchState.IN_FLIGHT)
            .map(ReferenceModel.MBatch::key)
            .sorted()
            .toList();
    if (inFlight.isEmpty()) {
      return key(h);
    }
    return Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.of(inFlight)), Tuple.of(2, key(h)));
  }

  /** Mostly the key's current attempt, sometimes 0 (no fencing) or any other. */
  private static Arbitrary<Integer> attempt(Harness h, String key) {
    ReferenceModel.MBatch b = h.model.live.get(key);
    ReferenceModel.Done d = h.model.done.get(key);
    int current = Math.max(1, b != null ? b.attempt : d != null ? d.result().attempt() : 1);
    return Arbitraries.frequencyOf(
        Tuple.of(5, Arbitraries.just(current)),
        Tuple.of(2, Arbitraries.just(0)),
        Tuple.of(2, Arbitraries.integers().between(-1, 4)));
  }

  private static Arbitrary<Op> enqueue(Harness h) {
    Arbitrary<Op> fresh =
        Combinators.combine(
                Arbitraries.frequencyOf(
                    Tuple.of(30, Arbitraries.of(KEYS)), Tuple.of(1, Arbitraries.just(""))),
                stage(h),
                Arbitraries.frequencyOf(
                    Tuple.of(12, Arbitraries.longs().between(1, 8)),
                    Tuple.of(1, Arbitraries.just(0L)),
                    Tuple.of(1, Arbitraries.longs().between(9, 20))),
                Arbitraries.frequencyOf(
                    Tuple.of(10, Arbitraries.just(0L)),
                    Tuple.of(4, Arbitraries.longs().between(1, 700)),
                    Tuple.of(1, Arbitraries.just(-1L))),
                Arbitraries.frequencyOf(
                    Tuple.of(3, Arbitraries.just("u" + h.ops.size())),
                    Tuple.of(1, Arbitraries.of(IDEMS))),
                Arbitraries.frequencyOf(
                    Tuple.of(12, Arbitraries.longs().between(1, 3)),
                    Tuple.of(1, Arbitraries.longs().between(-2, 0))),
                now(h))
            .as(
                (key, stage, records, lag, idem, seqStep, now) -> {
                  long last = h.model.lastSeq.getOrDefault(stage, 0L);
                  return new Op.Enqueue(
                      new Batch(key, stage, records, lag, idem, last + seqStep), now);
                });
    List<ReferenceModel.Idem> remembered =
        h.model.idem.values().stream()
            .sorted(Comparator.comparing(ReferenceModel.Idem::idemKey))
            .toList();
    if (remembered.isEmpty()) {
      return fresh;
    }
    // the same enqueue again (a dedup while remembered), or with one field changed (a conflict)
    Arbitrary<Op> repeat =
        Combinators.combine(
                Arbitraries.of(remembered), Arbitraries.integers().between(0, 5), now(h))
            .as(
                (e, change, now) ->
                    new Op.Enqueue(
                        new Batch(
                            change == 1 ? e.batchKey() + "x" : e.batchKey(),
                            change == 2 ? "c" : e.stage(),
                            e.records() + (change == 3 ? 1 : 0),
                            change == 4 ? 77 : 0,
                            e.idemKey(),
                            e.seq() + (change == 5 ? 1 : 0)),
                        now));
    return Arbitraries.frequencyOf(Tuple.of(3, fresh), Tuple.of(2, repeat));
  }

  private static Arbitrary<Op> start(Harness h) {
    List<String> stages = h.model.spec.stages();
    Arbitrary<List<String>> filter =
        Arbitraries.frequencyOf(
            Tuple.of(6, Arbitraries.just(List.<String>of())),
            Tuple.of(
                3, Arbitraries.of(stages).list().ofMinSize(1).ofMaxSize(2).uniqueElements()),
            Tuple.of(1, Arbitraries.just(List.of("a", "zz"))));
    Arbitrary<Integer> max =
        Arbitraries.frequencyOf(
            Tuple.of(5, Arbitraries.just(0)), Tuple.of(3, Arbitraries.integers().between(1, 3)));
    return Combinators.combine(max, filter, now(h)).as(Op.Start::new);
  }

  /** For failures: mostly the current attempt, sometimes a stale one, rarely an invalid one. */
  private static Arbitrary<Integer> failedAttempt(Harness h, String key) {
    return Arbitraries.frequencyOf(
        Tuple.of(6, attempt(h, key).filter(a -> a >= 1)),
        Tuple.of(2, Arbitraries.integers().between(1, 4)),
        Tuple.of(1, Arbitraries.integers().between(-1, 0)));
  }

  private static Arbitrary<Op> ack(Harness h) {
    return workedKey(h)
        .flatMap(k -> Combinators.combine(attempt(h, k), now(h)).as((a, n) -> new Op.Ack(k, a, n)));
  }

  private static Arbitrary<Op> fail(Harness h) {
    Arbitrary<String> reason =
        Arbitraries.frequencyOf(
            Tuple.of(10, Arbitraries.just("boom")),
            Tuple.of(1, Arbitraries.just("")),
            Tuple.of(1, Arbitraries.just("lease expired")));
    Arbitrary<Boolean> nonRetryable =
        Arbitraries.frequencyOf(
            Tuple.of(3, Arbitraries.just(false)), Tuple.of(1, Arbitraries.just(true)));
    return workedKey(h)
        .flatMap(
            k ->
                Combinators.combine(failedAttempt(h, k), reason, nonRetryable, now(h))
                    .as((a, r, nr, n) -> new Op.Fail(k, a, r, nr, n)));
  }

  private static Arbitrary<Op> extend(Harness h) {
    return key(h)
        .flatMap(
            k -> Combinators.combine(attempt(h, k), now(h)).as((a, n) -> new Op.Extend(k, a, n)));
  }

  private static Arbitrary<Op> action(Harness h) {
    List<String> connectors = new ArrayList<>();
    h.model.spec.connectors().forEach(c -> connectors.add(c.name()));
    connectors.add("nope");
    List<String> deadLetters =
        h.model.live.values().stream()
            .filter(b -> b.state == BatchState.DEAD_LETTERED)
            .map(ReferenceModel.MBatch::key)
            .sorted()
            .toList();
    Arbitrary<String> deadLetter =
        deadLetters.isEmpty()
            ? key(h)
            : Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.of(deadLetters)), Tuple.of(1, key(h)));
    int boundary = h.model.spec.boundary().maxInFlight();
    Arbitrary<OperatorAction> action =
        Arbitraries.frequencyOf(
            Tuple.of(1, Arbitraries.just(new OperatorAction.Pause())),
            Tuple.of(3, Arbitraries.just(new OperatorAction.Resume())),
            Tuple.of(1, Arbitraries.just(new OperatorAction.Drain())),
            Tuple.of(2, stage(h).map(OperatorAction.PauseStage::new)),
            Tuple.of(3, stage(h).map(OperatorAction.ResumeStage::new)),
            Tuple.of(1, Arbitraries.of(connectors).map(OperatorAction.DisableConnector::new)),
            Tuple.of(3, Arbitraries.of(connectors).map(OperatorAction.EnableConnector::new)),
            Tuple.of(
                2,
                Arbitraries.integers()
                    .between(0, boundary + 1)
                    .map(OperatorAction.SetMaxInFlight::new)),
            Tuple.of(3, deadLetter.map(OperatorAction.RedriveDeadLetter::new)),
            Tuple.of(2, deadLetter.map(OperatorAction.DiscardDeadLetter::new)),
            Tuple.of(2, key(h).map(OperatorAction.CancelBatch::new)));
    return Combinators.combine(action, now(h)).as(Op.Act::new);
  }

  /**
   * update_pipeline: small changes of the boundary and retry policy (sometimes invalid), the
   * stages grown, reordered or cut, connectors made ordered or disabled, and bad masks.
   */
  private static Arbitrary<Op> update(Harness h) {
    PipelineSpec current = h.model.spec;
    Arbitrary<Boundary> boundary =
        Combinators.combine(
                Arbitraries.integers().between(0, 5),
                Arbitraries.longs().between(1, 10),
                Arbitraries.of(0L, 5L, 6L, 12L, 30L),
                Arbitraries.of(0L, 300L, 1_000L))
            .as((inFlight, queued, records, lease) ->
                current.boundary().withMaxInFlight(inFlight).withMaxQueued(queued)
                    .withMaxInFlightRecords(records).withLeaseMs(lease));
    Arbitrary<RetryPolicy> retry =
        Combinators.combine(Arbitraries.integers().between(1, 4), Arbitraries.of(0L, 50L, 100L))
            .as((attempts, backoff) ->
                current.retry().withMaxAttempts(attempts).withInitialBackoffMs(backoff));
    List<String> grown = new ArrayList<>(current.stages());
    grown.add("d" + current.stages().size());
    List<String> reordered = new ArrayList<>(current.stages());
    java.util.Collections.reverse(reordered);
    Arbitrary<List<String>> stages =
        Arbitraries.frequencyOf(
            Tuple.of(3, Arbitraries.just(grown)),
            Tuple.of(1, Arbitraries.just(reordered)),
            Tuple.of(1, Arbitraries.just(current.stages().subList(0, 1))));
    Arbitrary<List<Connector>> connectors =
        Arbitraries.of(current.connectors().isEmpty() ? List.of(0) : List.of(0, 1, 2))
            .map(kind -> current.connectors().stream()
                .map(c -> kind == 1 ? c.withOrdered(!c.ordered())
                    : kind == 2 ? c.withDisabled(true) : c)
                .toList());
    Arbitrary<List<String>> mask =
        Arbitraries.frequencyOf(
            Tuple.of(3, Arbitraries.of(List.of("boundary.max_in_flight"), List.of("boundary"),
                List.of("boundary.max_in_flight_records"), List.of("boundary.lease_ms"),
                List.of("boundary.max_queued"))),
            Tuple.of(2, Arbitraries.of(List.of("retry"), List.of("retry.max_attempts"))),
            Tuple.of(2, Arbitraries.of(List.of("stages"), List.of("stages", "connectors"),
                List.of("connectors"), List.of("dedup_window_ms"))),
            Tuple.of(1, Arbitraries.of(List.of(), List.of("name"), List.of("boundary.nope"))));
    return Combinators.combine(mask, boundary, retry, stages, connectors, now(h))
        .as((m, b, r, s, c, n) -> new Op.Update(m,
            current.toBuilder().boundary(b).retry(r).stages(s).connectors(c)
                .dedupWindowMs(current.dedupWindowMs() / 2).build(),
            n));
  }

  private static Arbitrary<Op> run(Harness h) {
    return Combinators.combine(Arbitraries.of(true, false), now(h))
        .as((startIt, n) -> startIt ? new Op.StartRun(n) : new Op.CompleteRun(n));
  }

  // ---- the state under test ------------------------------------------------------------------

  /** A runtime, its reference model, and the journal of what was applied. */
  static final class Harness {
    final PipelineRuntime rt;
    final ReferenceModel model;
    final List<Op> ops = new ArrayList<>();
    final List<Object> results = new ArrayList<>();
    final List<String> signatures = new ArrayList<>();
    final Set<String> seen = new HashSet<>();
    long wall = 1_000;

    Harness(PipelineSpec spec) {
      this.rt = PipelineRuntime.create(spec);
      this.model = new ReferenceModel(spec);
    }

    void apply(Op op) {
      wall = op.now();
      String sigBefore = rt.queries().signature();
      long clockBefore = rt.queries().lastNowMs();
      String visibleBefore = model.visible();

      // A cluster node submits a start only when the replica says it would change something.
      Boolean wouldChange = null;
      if (op instanceof Op.Start st && st.max() > 0
          && rt.queries().spec().stages().containsAll(st.stages())) {
        wouldChange = rt.queries().startWouldChange(
            new java.util.LinkedHashSet<>(st.stages()), Math.max(st.now(), clockBefore));
      }

      Object expected = model.apply(op);
      Object actual = Op.resultOf(op, rt);
      if (wouldChange != null && actual instanceof StartResult started) {
        assertThat(wouldChange)
            .as("startWouldChange before %s, which started %s and expired %s", op,
                started.started().size(), started.expired().size())
            .isEqualTo(!started.started().isEmpty() || !started.expired().isEmpty());
      }

      assertThat(actual).as("result of %s", op).isEqualTo(expected);
      String sig = rt.queries().signature();
      boolean refused =
          actual instanceof Reason
              || actual instanceof ProcessOutcome.FailureRejected
              || "deduplicated".equals(actual);
      if (refused) {
        assertThat(sig).as("signature after refused %s", op).isEqualTo(sigBefore);
        assertThat(rt.queries().lastNowMs()).as("clock after refused %s", op).isEqualTo(clockBefore);
      }
      boolean changed = !model.visible().equals(visibleBefore);
      assertThat(!sig.equals(sigBefore))
          .as("signature changed after %s (model changed: %s)", op, changed)
          .isEqualTo(changed);
      assertSameAsModel(op);

      ops.add(op);
      results.add(actual);
      signatures.add(sig);
      seen.add(String.valueOf(actual instanceof Reason ? actual : "")); // reasons by name
      String text = String.valueOf(actual);
      for (String word :
          List.of("deduplicated", "DeadLettered", "Processed", "RetryScheduled")) {
        if (text.contains(word)) {
          seen.add(
              switch (word) {
                case "DeadLettered" -> "dead_lettered";
                case "Processed" -> "processed";
                case "RetryScheduled" -> "retry_scheduled";
                default -> word;
              });
        }
      }
      if (actual instanceof StartResult s && !s.expired().isEmpty()) {
        seen.add("expired");
      }
      if (op instanceof Op.Act a
          && a.action() instanceof OperatorAction.RedriveDeadLetter
          && "applied".equals(actual)) {
        seen.add("redrive");
      }
    }

    private void assertSameAsModel(Op op) {
      PipelineQueries q = rt.queries();
      String after = "after " + op;
      List<BatchView> batches = q.batches();
      assertThat(batches).as("batches " + after).isEqualTo(model.batches());
      assertThat(batches.stream().map(v -> v.batch().key()).distinct().count())
          .as("each live key once " + after)
          .isEqualTo(batches.size());
      // every accepted batch is live exactly once, or DONE, cancelled or discarded
      long liveFates = model.fate.values().stream().filter("LIVE"::equals).count();
      assertThat(liveFates).as("live batches in the model " + after).isEqualTo(batches.size());
      assertThat(model.fate).as("fates " + after).hasSize((int) model.nextId);
      assertThat(q.retries()).as("retries " + after).isEqualTo(model.retries());
      assertThat(q.deadLetters()).as("dead letters " + after).isEqualTo(model.deadLetters());
      assertThat(q.queuedCount()).as("queued " + after).isEqualTo(model.queued());
      assertThat(q.retryWaitCount()).isEqualTo(model.count(BatchState.RETRY_WAIT));
      assertThat(q.inFlightCount()).as("in flight " + after).isEqualTo(model.inFlight());
      assertThat(q.deadLetterCount()).isEqualTo(model.count(BatchState.DEAD_LETTERED));
      assertThat(q.liveCount()).isEqualTo(model.live.size());
      assertThat(q.mode()).as("mode " + after).isEqualTo(model.mode());
      assertThat(q.effectiveMaxInFlight()).isEqualTo(model.effectiveMax);
      assertThat(q.activeRunId()).isEqualTo(model.activeRunId());
      assertThat(q.activeRun())
          .isEqualTo(model.activeRun == null ? null : model.runSummary(0));
      assertThat(q.runs()).as("runs " + after).isEqualTo(model.runsNewestFirst());
      assertThat(q.auditLog()).hasSize((int) Math.min(model.auditCount, 1_000));
      assertThat(q.stageCounters()).as("stage counters " + after).isEqualTo(model.stageCounters());
      assertThat(q.spec().connectors())
          .allSatisfy(c -> assertThat(c.disabled()).isEqualTo(model.disabled.contains(c.name())));
      assertThat(q.lastNowMs()).as("clock " + after).isEqualTo(model.lastNow);
      // SPEC 3.10: the model predicts every event, its id, time, type and payload.
      assertThat(q.nextEventId()).as("next event id " + after).isEqualTo(model.nextEventId);
      assertThat(q.eventsAfter(0).stream()
              .map(e -> new ReferenceModel.MEvent(e.eventId(), e.atMs(), e.type(),
                  e.payload() instanceof AuditEntry a ? a.action() : e.payload()))
              .toList())
          .as("events " + after)
          .isEqualTo(model.events);
      assertThat(q.valid()).as(q.brokenInvariant()).isTrue();
    }

    /** Replays the journal on a fresh runtime: same results, same signature after every step. */
    void assertReplayGivesTheSameResultsAndSignatures() {
      PipelineRuntime replica = PipelineRuntime.create(model.initialSpec);
      for (int i = 0; i < ops.size(); i++) {
        Op op = ops.get(i);
        assertThat(Op.resultOf(op, replica)).as("replayed result of %s", op).isEqualTo(results.get(i));
        assertThat(replica.queries().signature())
            .as("replayed signature after step %d: %s", i, op)
            .isEqualTo(signatures.get(i));
      }
      assertThat(replica.queries().eventsAfter(0)).as("replayed events")
          .isEqualTo(rt.queries().eventsAfter(0));
    }

    @Override
    public String toString() {
      return "Harness" + ops;
    }
  }
}
