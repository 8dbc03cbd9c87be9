package dev.lightspeed.orchestrator.core;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * update_pipeline (SPEC 3.9): changes settings of a live pipeline named by an update mask, like
 * Pub/Sub's UpdateSubscription. {@link #check} runs the four checks in SPEC order and returns the
 * plan without changing anything; {@link #apply} makes it.
 */
final class PipelineUpdater {

  /** One field that a mask may name, how to read it from a spec, and how to set it. */
  private record Leaf(
      String path, Function<PipelineSpec, Object> get, Setter set) {}

  private interface Setter {
    PipelineSpec.Builder apply(PipelineSpec.Builder into, PipelineSpec from, PipelineSpec base);
  }

  /** Every leaf path, in the order the changed fields are reported. */
  private static final List<Leaf> LEAVES =
      List.of(
          boundary("boundary.max_in_flight", Boundary::maxInFlight,
              (b, v) -> b.withMaxInFlight(v.maxInFlight())),
          boundary("boundary.max_queued", Boundary::maxQueued,
              (b, v) -> b.withMaxQueued(v.maxQueued())),
          boundary("boundary.max_lag_ms", Boundary::maxLagMs,
              (b, v) -> b.withMaxLagMs(v.maxLagMs())),
          boundary("boundary.max_in_flight_records", Boundary::maxInFlightRecords,
              (b, v) -> b.withMaxInFlightRecords(v.maxInFlightRecords())),
          boundary("boundary.lease_ms", Boundary::leaseMs, (b, v) -> b.withLeaseMs(v.leaseMs())),
          retry("retry.max_attempts", RetryPolicy::maxAttempts,
              (r, v) -> r.withMaxAttempts(v.maxAttempts())),
          retry("retry.initial_backoff_ms", RetryPolicy::initialBackoffMs,
              (r, v) -> r.withInitialBackoffMs(v.initialBackoffMs())),
          retry("retry.max_backoff_ms", RetryPolicy::maxBackoffMs,
              (r, v) -> r.withMaxBackoffMs(v.maxBackoffMs())),
          retry("retry.multiplier", RetryPolicy::multiplier,
              (r, v) -> r.withMultiplier(v.multiplier())),
          new Leaf("dedup_window_ms", PipelineSpec::dedupWindowMs,
              (into, from, base) -> into.dedupWindowMs(from.dedupWindowMs())),
          new Leaf("allow_unbound_stages", PipelineSpec::allowUnboundStages,
              (into, from, base) -> into.allowUnboundStages(from.allowUnboundStages())),
          new Leaf("stages", PipelineSpec::stages,
              (into, from, base) -> into.stages(from.stages())),
          new Leaf("connectors", PipelineSpec::connectors,
              (into, from, base) -> into.connectors(from.connectors())));

  /** The paths a mask may name, for messages. */
  static final List<String> PATHS;

  static {
    List<String> paths = new ArrayList<>(List.of("boundary", "retry"));
    for (Leaf leaf : LEAVES) {
      paths.add(leaf.path());
    }
    PATHS = List.copyOf(paths);
  }

  /** What an accepted update will do: the next spec and the leaf paths whose value changes. */
  record Plan(PipelineSpec next, List<String> changed, String auditMessage) {}

  private final PipelineState state;

  PipelineUpdater(PipelineState state) {
    this.state = state;
  }

  /** Runs SPEC 3.9's checks in order; refuses with the first that fails, changing nothing. */
  Plan check(List<String> updateMask, PipelineSpec values) {
    List<Leaf> leaves = expand(updateMask);
    PipelineSpec current = state.currentSpec();
    PipelineSpec.Builder next = current.toBuilder();
    for (Leaf leaf : leaves) {
      // Each setter reads the value under construction, so boundary and retry fields combine.
      leaf.set().apply(next, values, next.build());
    }
    PipelineSpec spec = next.build();
    // 2. the resulting spec, as in section 2, and stages only grow at the end
    PipelineSpecValidator.validate(spec);
    List<String> before = current.stages();
    for (int i = 0; i < before.size(); i++) {
      if (i >= spec.stages().size() || !spec.stages().get(i).equals(before.get(i))) {
        throw Rejection.ofField(
            Reason.INVALID_PIPELINE_SPEC,
            "stages",
            "stage '" + before.get(i) + "' was removed or moved; existing stages stay in their"
                + " order, new stages may only be added at the end (now " + before + ")");
      }
    }
    // 3. a live batch that could then never start
    long budget = spec.boundary().maxInFlightRecords();
    if (budget > 0 && budget != current.boundary().maxInFlightRecords()) {
      for (LiveBatch b : state.liveByEnqueue) {
        if (b.batch.records() > budget) {
          throw Rejection.of(
              Reason.BATCH_TOO_LARGE,
              "batch '" + Text.printable(b.key()) + "' has " + b.batch.records() + " records,"
                  + " more than the new max_in_flight_records " + budget + ", so it could never"
                  + " start; cancel or discard it first, or choose a budget of at least "
                  + b.batch.records());
        }
      }
    }
    // 4. a stage that would become ordered while more than one of its batches is in flight
    for (StageState stage : state.stages.values()) {
      boolean ordered = false;
      for (Connector c : spec.connectors()) {
        ordered |= c.stage().equals(stage.name) && c.ordered();
      }
      if (ordered && !stage.ordered && stage.inFlight > 1) {
        throw Rejection.of(
            Reason.STAGE_IN_FLIGHT,
            "stage '" + stage.name + "' has " + stage.inFlight + " batches in flight and an"
                + " ordered stage runs at most 1; wait until at most 1 is in flight (e.g. pause"
                + " the stage), then update again");
      }
    }
    List<String> changed = new ArrayList<>();
    StringBuilder message = new StringBuilder("pipeline updated:");
    for (Leaf leaf : LEAVES) {
      Object was = leaf.get().apply(current);
      Object now = leaf.get().apply(spec);
      if (!Objects.equals(was, now)) {
        changed.add(leaf.path());
        message.append(changed.size() == 1 ? " " : "; ").append(leaf.path());
        if (!(now instanceof List)) {
          message.append(' ').append(was).append(" → ").append(now);
        }
      }
    }
    return new Plan(spec, List.copyOf(changed), message.toString());
  }

  /** Makes a checked plan; the caller appends the audit entry. */
  void apply(Plan plan) {
    int oldMax = state.spec.boundary().maxInFlight();
    int newMax = plan.next().boundary().maxInFlight();
    // A SET_MAX_IN_FLIGHT below the old max stays in force under the new max; otherwise the
    // effective limit follows the boundary (SPEC 3.9).
    state.effectiveMaxInFlight =
        state.effectiveMaxInFlight < oldMax ? Math.min(state.effectiveMaxInFlight, newMax) : newMax;
    state.replaceSpec(plan.next());
    // What is in flight may now be above the new limits (it keeps running; nothing starts until
    // it drops below): valid() tolerates exactly that much until the next start.
    if (state.inFlightCount > newMax) {
      state.inFlightAllowance = Math.max(state.inFlightAllowance, state.inFlightCount);
    }
    long budget = plan.next().boundary().maxInFlightRecords();
    if (budget > 0 && state.inFlightRecords > budget) {
      state.inFlightRecordsAllowance =
          Math.max(state.inFlightRecordsAllowance, state.inFlightRecords);
    }
  }

  /** Check 1: the mask, expanded to leaves (boundary and retry name all their fields). */
  private static List<Leaf> expand(List<String> updateMask) {
    if (updateMask.isEmpty()) {
      throw Rejection.ofField(
          Reason.INVALID_UPDATE_MASK,
          "update_mask",
          "name at least one path to change; paths that may be named: " + PATHS);
    }
    Set<Leaf> leaves = new LinkedHashSet<>();
    for (int i = 0; i < updateMask.size(); i++) {
      String path = updateMask.get(i);
      String field = "update_mask.paths[" + i + "]";
      if ("name".equals(path)) {
        throw Rejection.ofField(
            Reason.INVALID_UPDATE_MASK,
            field,
            "'name' cannot be updated: it says which pipeline to update; create a pipeline with"
                + " the new name instead");
      }
      boolean known = false;
      for (Leaf leaf : LEAVES) {
        if (leaf.path().equals(path) || leaf.path().startsWith(path + ".")
            && (path.equals("boundary") || path.equals("retry"))) {
          leaves.add(leaf);
          known = true;
        }
      }
      if (!known) {
        throw Rejection.ofField(
            Reason.INVALID_UPDATE_MASK,
            field,
            "unknown path '" + Text.printable(String.valueOf(path)) + "'; paths that may be"
                + " named: " + PATHS);
      }
    }
    return List.copyOf(leaves);
  }

  private interface BoundaryField {
    Boundary set(Boundary into, Boundary from);
  }

  private interface RetryField {
    RetryPolicy set(RetryPolicy into, RetryPolicy from);
  }

  private static Leaf boundary(String path, Function<Boundary, Object> get, BoundaryField set) {
    return new Leaf(
        path,
        spec -> get.apply(spec.boundary()),
        (into, from, base) -> into.boundary(set.set(base.boundary(), from.boundary())));
  }

  private static Leaf retry(String path, Function<RetryPolicy, Object> get, RetryField set) {
    return new Leaf(
        path,
        spec -> get.apply(spec.retry()),
        (into, from, base) -> into.retry(set.set(base.retry(), from.retry())));
  }
}
