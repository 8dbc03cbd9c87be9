package dev.lightspeed.orchestrator.client;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Settings of a {@link Worker}, the same in every client of this project. Defaults: concurrency
 * 1, every stage, reconnects backing off from 100 ms to 5 s after the Work stream breaks, a
 * heartbeat every third of the lease, 30 s for a graceful close.
 */
public final class WorkerOptions {
  private final String pipeline;
  private final int concurrency;
  private final List<String> stages;
  private final Duration minReconnectBackoff;
  private final Duration maxReconnectBackoff;
  private final double heartbeatFraction;
  private final Duration shutdownGrace;
  private final Consumer<WorkerResult> onResult;

  private WorkerOptions(Builder b) {
    this.pipeline = b.pipeline;
    this.concurrency = b.concurrency;
    this.stages = List.copyOf(b.stages);
    this.minReconnectBackoff = b.minReconnectBackoff;
    this.maxReconnectBackoff = b.maxReconnectBackoff;
    this.heartbeatFraction = b.heartbeatFraction;
    this.shutdownGrace = b.shutdownGrace;
    this.onResult = b.onResult;
  }

  public static Builder builder(String pipeline) {
    return new Builder(pipeline);
  }

  /** The pipeline whose batches this worker processes. */
  public String pipeline() {
    return pipeline;
  }

  /** How many handlers run at once; the worker never holds more batches than this. */
  public int concurrency() {
    return concurrency;
  }

  /** The stages to take batches from; empty = every stage. */
  public List<String> stages() {
    return stages;
  }

  /**
   * The first wait before opening the Work stream again after it broke (server restart, network);
   * it doubles, with jitter, up to {@link #maxReconnectBackoff}, and starts over once a stream
   * delivered something.
   */
  public Duration minReconnectBackoff() {
    return minReconnectBackoff;
  }

  public Duration maxReconnectBackoff() {
    return maxReconnectBackoff;
  }

  /** A lease is extended every {@code lease_ms × heartbeatFraction}. */
  public double heartbeatFraction() {
    return heartbeatFraction;
  }

  /** How long {@link Worker#close()} lets running handlers finish before interrupting them. */
  public Duration shutdownGrace() {
    return shutdownGrace;
  }

  /** Called with each batch's result once its report is answered; null: none. */
  public Consumer<WorkerResult> onResult() {
    return onResult;
  }

  public static final class Builder {
    private final String pipeline;
    private int concurrency = 1;
    private List<String> stages = List.of();
    private Duration minReconnectBackoff = Duration.ofMillis(100);
    private Duration maxReconnectBackoff = Duration.ofSeconds(5);
    private double heartbeatFraction = 1.0 / 3;
    private Duration shutdownGrace = Duration.ofSeconds(30);
    private Consumer<WorkerResult> onResult;

    private Builder(String pipeline) {
      this.pipeline = Objects.requireNonNull(pipeline, "pipeline");
    }

    public Builder concurrency(int concurrency) {
      if (concurrency < 1 || concurrency > 1000) {
        throw new IllegalArgumentException(
            "concurrency must be 1..1000, the server's Work stream capacity (got " + concurrency
                + ")");
      }
      this.concurrency = concurrency;
      return this;
    }

    public Builder stages(String... stages) {
      this.stages = List.of(stages);
      return this;
    }

    public Builder reconnectBackoff(Duration min, Duration max) {
      if (min.isNegative() || min.isZero() || max.compareTo(min) < 0) {
        throw new IllegalArgumentException("need 0 < min ≤ max (got " + min + ", " + max + ")");
      }
      this.minReconnectBackoff = min;
      this.maxReconnectBackoff = max;
      return this;
    }

    public Builder heartbeatFraction(double fraction) {
      if (!(fraction > 0 && fraction < 1)) {
        throw new IllegalArgumentException("fraction must be in (0, 1) (got " + fraction + ")");
      }
      this.heartbeatFraction = fraction;
      return this;
    }

    public Builder shutdownGrace(Duration grace) {
      if (grace.isNegative()) {
        throw new IllegalArgumentException("grace must be ≥ 0");
      }
      this.shutdownGrace = grace;
      return this;
    }

    /**
     * Calls {@code onResult} with each batch's result once its ack or failure report is answered,
     * on the thread that received the answer (the Work stream's transport thread, or the client's
     * executor after a unary call): keep it short and never block in it.
     */
    public Builder onResult(Consumer<WorkerResult> onResult) {
      this.onResult = Objects.requireNonNull(onResult, "onResult");
      return this;
    }

    public WorkerOptions build() {
      return new WorkerOptions(this);
    }
  }
}
