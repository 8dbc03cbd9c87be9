package dev.lightspeed.orchestrator.core;

import java.util.List;

/**
 * The configuration of one pipeline (SPEC section 2), with every default already applied. Build
 * one with {@link #builder(String)}; check it with {@link PipelineSpecValidator#validate}.
 *
 * @param name the pipeline id, {@code [a-z0-9][a-z0-9._-]{0,62}}
 * @param stages ordered, unique stage names (same pattern), at least one
 * @param connectors the connector plan; may be empty only if {@code allowUnboundStages}
 * @param boundary the backpressure boundary
 * @param retry the retry policy
 * @param dedupWindowMs how long a finished batch's idempotency key and ack result are remembered
 * @param allowUnboundStages whether enqueue to a stage with no connector is allowed
 */
public record PipelineSpec(
    String name,
    List<String> stages,
    List<Connector> connectors,
    Boundary boundary,
    RetryPolicy retry,
    long dedupWindowMs,
    boolean allowUnboundStages) {

  public static final long DEFAULT_DEDUP_WINDOW_MS = 300_000;

  public PipelineSpec {
    stages = List.copyOf(stages);
    connectors = List.copyOf(connectors);
  }

  public static Builder builder(String name) {
    return new Builder(name);
  }

  public Builder toBuilder() {
    return new Builder(name)
        .stages(stages)
        .connectors(connectors)
        .boundary(boundary)
        .retry(retry)
        .dedupWindowMs(dedupWindowMs)
        .allowUnboundStages(allowUnboundStages);
  }

  /** Builds a spec; every setting left alone keeps the default of SPEC section 2. */
  public static final class Builder {
    private final String name;
    private List<String> stages = List.of();
    private List<Connector> connectors = List.of();
    private Boundary boundary = Boundary.DEFAULT;
    private RetryPolicy retry = RetryPolicy.DEFAULT;
    private long dedupWindowMs = DEFAULT_DEDUP_WINDOW_MS;
    private boolean allowUnboundStages;

    private Builder(String name) {
      this.name = name;
    }

    public Builder stages(List<String> value) {
      this.stages = value;
      return this;
    }

    public Builder stages(String... value) {
      return stages(List.of(value));
    }

    public Builder connectors(List<Connector> value) {
      this.connectors = value;
      return this;
    }

    public Builder connectors(Connector... value) {
      return connectors(List.of(value));
    }

    public Builder boundary(Boundary value) {
      this.boundary = value;
      return this;
    }

    public Builder retry(RetryPolicy value) {
      this.retry = value;
      return this;
    }

    public Builder dedupWindowMs(long value) {
      this.dedupWindowMs = value;
      return this;
    }

    public Builder allowUnboundStages(boolean value) {
      this.allowUnboundStages = value;
      return this;
    }

    public PipelineSpec build() {
      return new PipelineSpec(
          name, stages, connectors, boundary, retry, dedupWindowMs, allowUnboundStages);
    }
  }
}
