package dev.lightspeed.orchestrator.core;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks a {@link PipelineSpec} against the rules of SPEC section 2. The first broken rule is
 * refused with INVALID_PIPELINE_SPEC, naming the field by its path in the request (for example
 * {@code connectors[1].stage}) and saying what to change.
 */
public final class PipelineSpecValidator {
  /** Pipeline and stage names: lowercase, digits, '.', '_', '-'; 1 to 63 characters. */
  public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");

  private PipelineSpecValidator() {}

  /** Returns normally if the spec is valid, else throws the first rule it breaks. */
  public static void validate(PipelineSpec spec) {
    requireName("name", spec.name(), "pipeline name");
    if (spec.stages().isEmpty()) {
      throw invalid("stages", "declare at least one stage");
    }
    Set<String> stages = new HashSet<>();
    for (int i = 0; i < spec.stages().size(); i++) {
      String field = "stages[" + i + "]";
      String stage = spec.stages().get(i);
      requireName(field, stage, "stage name");
      if (!stages.add(stage)) {
        throw invalid(field, "duplicate stage '" + stage + "'; stage names must be unique");
      }
    }
    validateConnectors(spec, stages);
    validateBoundary(spec.boundary());
    validateRetry(spec.retry());
    if (spec.dedupWindowMs() < 0) {
      throw invalid(
          "dedup_window_ms", "must be ≥ 0 (got " + spec.dedupWindowMs() + "); 0 forgets at once");
    }
  }

  private static void validateConnectors(PipelineSpec spec, Set<String> stages) {
    if (spec.connectors().isEmpty() && !spec.allowUnboundStages()) {
      throw invalid(
          "connectors",
          "declare at least one connector, or set allow_unbound_stages to enqueue without one");
    }
    Set<String> names = new HashSet<>();
    Map<String, String> sourceOfStage = new HashMap<>();
    Map<String, String> sinkOfStage = new HashMap<>();
    for (int i = 0; i < spec.connectors().size(); i++) {
      String prefix = "connectors[" + i + "].";
      Connector c = spec.connectors().get(i);
      if (c == null) {
        throw invalid("connectors[" + i + "]", "must not be null");
      }
      if (c.name() == null || c.name().isEmpty()) {
        throw invalid(prefix + "name", "give the connector a name");
      }
      if (Text.utf8Length(c.name()) > Text.MAX_KEY_BYTES || Text.hasControlCharacter(c.name())) {
        throw invalid(
            prefix + "name", "must be at most 256 bytes of UTF-8 without control characters");
      }
      if (!names.add(c.name())) {
        throw invalid(prefix + "name", "duplicate connector name '" + c.name() + "'");
      }
      if (c.kind() == null) {
        throw invalid(prefix + "kind", "set the kind to SOURCE or SINK");
      }
      if (c.stage() == null || !stages.contains(c.stage())) {
        throw invalid(
            prefix + "stage",
            "unknown stage '" + c.stage() + "'; use one of the declared stages " + spec.stages());
      }
      Map<String, String> sameKind = c.kind() == ConnectorKind.SOURCE ? sourceOfStage : sinkOfStage;
      String other = sameKind.putIfAbsent(c.stage(), c.name());
      if (other != null) {
        throw invalid(
            prefix + "kind",
            "stage '" + c.stage() + "' already has the " + c.kind() + " connector '" + other
                + "'; a stage takes at most one SOURCE and one SINK");
      }
      if (c.maxBatchRecords() < 0) {
        throw invalid(
            prefix + "max_batch_records",
            "must be ≥ 0 (got " + c.maxBatchRecords() + "); 0 means unlimited");
      }
    }
  }

  private static void validateBoundary(Boundary b) {
    if (b == null) {
      throw invalid("boundary", "must not be null");
    }
    if (b.maxInFlight() < 1) {
      throw invalid("boundary.max_in_flight", "must be ≥ 1 (got " + b.maxInFlight() + ")");
    }
    if (b.maxQueued() < 1) {
      throw invalid("boundary.max_queued", "must be ≥ 1 (got " + b.maxQueued() + ")");
    }
    if (b.maxLagMs() < 0) {
      throw invalid(
          "boundary.max_lag_ms", "must be ≥ 0 (got " + b.maxLagMs() + "); 0 means unlimited");
    }
    if (b.maxInFlightRecords() < 0) {
      throw invalid(
          "boundary.max_in_flight_records",
          "must be ≥ 0 (got " + b.maxInFlightRecords() + "); 0 means unlimited");
    }
    if (b.leaseMs() < 0) {
      throw invalid(
          "boundary.lease_ms",
          "must be ≥ 0 (got " + b.leaseMs() + "); 0 means leases never expire");
    }
  }

  private static void validateRetry(RetryPolicy r) {
    if (r == null) {
      throw invalid("retry", "must not be null");
    }
    if (r.maxAttempts() < 1) {
      throw invalid("retry.max_attempts", "must be ≥ 1 (got " + r.maxAttempts() + ")");
    }
    if (r.initialBackoffMs() < 0) {
      throw invalid(
          "retry.initial_backoff_ms", "must be ≥ 0 (got " + r.initialBackoffMs() + ")");
    }
    if (r.maxBackoffMs() < 0) {
      throw invalid("retry.max_backoff_ms", "must be ≥ 0 (got " + r.maxBackoffMs() + ")");
    }
    if (!(r.multiplier() >= 1.0) || Double.isInfinite(r.multiplier())) {
      throw invalid(
          "retry.multiplier", "must be a finite number ≥ 1.0 (got " + r.multiplier() + ")");
    }
  }

  private static void requireName(String field, String value, String what) {
    if (value == null || value.isEmpty()) {
      throw invalid(field, "give a " + what + " matching " + NAME.pattern());
    }
    if (!NAME.matcher(value).matches()) {
      throw invalid(
          field,
          "'" + Text.printable(value) + "' is not a valid " + what + "; use 1-63 characters of"
              + " [a-z0-9._-], starting with a letter or digit");
    }
  }

  private static Rejection invalid(String field, String message) {
    return Rejection.ofField(Reason.INVALID_PIPELINE_SPEC, field, message);
  }
}
