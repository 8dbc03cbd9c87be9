package dev.lightspeed.orchestrator.client;

import dev.lightspeed.orchestrator.client.errors.OrchestratorErrors;
import dev.lightspeed.orchestrator.client.errors.OrchestratorException;
import dev.lightspeed.orchestrator.v1.AckBatchRequest;
import dev.lightspeed.orchestrator.v1.AckBatchesRequest;
import dev.lightspeed.orchestrator.v1.AckItem;
import dev.lightspeed.orchestrator.v1.AckResult;
import dev.lightspeed.orchestrator.v1.ApplyActionRequest;
import dev.lightspeed.orchestrator.v1.Batch;
import dev.lightspeed.orchestrator.v1.CompleteRunRequest;
import dev.lightspeed.orchestrator.v1.CompleteRunResponse;
import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.DeletePipelineRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchRequest;
import dev.lightspeed.orchestrator.v1.EnqueueBatchesRequest;
import dev.lightspeed.orchestrator.v1.EnqueueResult;
import dev.lightspeed.orchestrator.v1.ExtendLeaseRequest;
import dev.lightspeed.orchestrator.v1.FailBatchRequest;
import dev.lightspeed.orchestrator.v1.GetPipelineRequest;
import dev.lightspeed.orchestrator.v1.GetStatusRequest;
import dev.lightspeed.orchestrator.v1.GetStatusResponse;
import dev.lightspeed.orchestrator.v1.ListAuditLogRequest;
import dev.lightspeed.orchestrator.v1.ListAuditLogResponse;
import dev.lightspeed.orchestrator.v1.ListBatchesRequest;
import dev.lightspeed.orchestrator.v1.ListBatchesResponse;
import dev.lightspeed.orchestrator.v1.ListDeadLettersRequest;
import dev.lightspeed.orchestrator.v1.ListDeadLettersResponse;
import dev.lightspeed.orchestrator.v1.ListPipelinesRequest;
import dev.lightspeed.orchestrator.v1.ListPipelinesResponse;
import dev.lightspeed.orchestrator.v1.ListRetriesRequest;
import dev.lightspeed.orchestrator.v1.ListRetriesResponse;
import dev.lightspeed.orchestrator.v1.ListRunsRequest;
import dev.lightspeed.orchestrator.v1.ListRunsResponse;
import dev.lightspeed.orchestrator.v1.OperatorAction;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc.OrchestratorServiceBlockingStub;
import dev.lightspeed.orchestrator.v1.PipelineSpec;
import dev.lightspeed.orchestrator.v1.ProcessOutcome;
import dev.lightspeed.orchestrator.v1.RunSummary;
import dev.lightspeed.orchestrator.v1.StartAvailableRequest;
import dev.lightspeed.orchestrator.v1.StartRunRequest;
import dev.lightspeed.orchestrator.v1.UpdatePipelineRequest;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import dev.lightspeed.orchestrator.v1.WatchStartedRequest;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The blocking client of one Lightspeed Orchestrator server: one method per RPC, each bounded by
 * the builder's deadline, each refusal thrown as a typed {@link OrchestratorException} (see the
 * {@code errors} package). Idempotent calls are retried on UNAVAILABLE by the channel itself
 * ({@link RetryServiceConfig} says which and why). {@link #async()} gives the same calls as
 * {@link java.util.concurrent.CompletableFuture}s, {@link #watchStarted} a closeable iterator.
 *
 * <p>Methods take and return the generated messages of {@code dev.lightspeed.orchestrator.v1};
 * the frequent calls also have a form with plain arguments. Thread-safe; build one per process
 * and {@link #close()} it at the end.
 *
 * <pre>{@code
 * try (OrchestratorClient client = OrchestratorClient.builder().target("127.0.0.1:50051").build()) {
 *   client.enqueueBatch("orders", Batch.newBuilder().setKey("b1").setStage("extract")
 *       .setRecords(100).setIdempotencyKey("b1-1").build());
 * }
 * }</pre>
 */
public final class OrchestratorClient implements AutoCloseable {
  private final ManagedChannel managedChannel;
  private final Channel channel;
  private final Duration deadline;
  private final AsyncOrchestratorClient async;

  private OrchestratorClient(ManagedChannel managedChannel, Channel channel, Duration deadline) {
    this.managedChannel = managedChannel;
    this.channel = channel;
    this.deadline = deadline;
    this.async = new AsyncOrchestratorClient(channel, deadline);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The channel with this client's interceptors (token, retries): the Worker's Work stream. */
  Channel channel() {
    return channel;
  }

  /** The same calls in non-blocking form, on the same channel. */
  public AsyncOrchestratorClient async() {
    return async;
  }

  // ---- pipelines -----------------------------------------------------------------------------

  /** Creates a pipeline; returns its effective spec (every default filled in). */
  public PipelineSpec createPipeline(PipelineSpec spec) {
    return call(s -> s.createPipeline(CreatePipelineRequest.newBuilder().setSpec(spec).build()))
        .getPipeline();
  }

  /**
   * Changes the settings of a live pipeline that {@code updateMask} names (e.g. {@code
   * boundary.max_queued}; {@code boundary} and {@code retry} name all their fields) to their values
   * in {@code values}, whose name says which pipeline; returns the effective spec. A named field
   * absent in {@code values} takes its default. Refusals: {@code INVALID_UPDATE_MASK},
   * {@code INVALID_PIPELINE_SPEC}, {@code BATCH_TOO_LARGE}, {@code STAGE_IN_FLIGHT}.
   */
  public PipelineSpec updatePipeline(PipelineSpec values, java.util.List<String> updateMask) {
    return call(s -> s.updatePipeline(UpdatePipelineRequest.newBuilder()
            .setPipeline(values)
            .setUpdateMask(com.google.protobuf.FieldMask.newBuilder().addAllPaths(updateMask))
            .build()))
        .getPipeline();
  }

  /** The effective spec of a pipeline. */
  public PipelineSpec getPipeline(String name) {
    return getPipeline(name, false);
  }

  /**
   * As {@link #getPipeline(String)}; with {@code staleOk}, a cluster node answers from its own
   * replica as it is (may miss recent writes made elsewhere; answers while the pipeline's group
   * has no leader). A single server ignores it.
   */
  public PipelineSpec getPipeline(String name, boolean staleOk) {
    return call(s -> s.getPipeline(
            GetPipelineRequest.newBuilder().setName(name).setStaleOk(staleOk).build()))
        .getPipeline();
  }

  /** One page of pipelines, in name order. */
  public ListPipelinesResponse listPipelines(ListPipelinesRequest request) {
    return call(s -> s.listPipelines(request));
  }

  /** Deletes a pipeline; one with live batches only with {@code force}. */
  public void deletePipeline(String name, boolean force) {
    call(
        s ->
            s.deletePipeline(
                DeletePipelineRequest.newBuilder().setName(name).setForce(force).build()));
  }

  // ---- batches -------------------------------------------------------------------------------

  /**
   * Enqueues one batch; returns whether it was a repeat of an accepted enqueue (same idempotency
   * key), which changed nothing.
   */
  public boolean enqueueBatch(String pipeline, Batch batch) {
    return call(
            s ->
                s.enqueueBatch(
                    EnqueueBatchRequest.newBuilder().setPipeline(pipeline).setBatch(batch).build()))
        .getDeduplicated();
  }

  /**
   * Enqueues many batches, each with its own result; a refused item has an {@code error} (turn it
   * into an exception with {@link OrchestratorErrors#fromStatus(com.google.rpc.Status)}).
   */
  public List<EnqueueResult> enqueueBatches(String pipeline, List<Batch> batches) {
    return call(
            s ->
                s.enqueueBatches(
                    EnqueueBatchesRequest.newBuilder()
                        .setPipeline(pipeline)
                        .addAllBatches(batches)
                        .build()))
        .getResultsList();
  }

  /**
   * Starts what is available now (at most {@code maxBatches}, 0 = no limit) and returns the
   * started batches in start order. Each must be acked, failed or have its lease extended before
   * its {@code lease_deadline_ms}.
   */
  public List<StartedBatch> startAvailable(String pipeline, int maxBatches) {
    return startAvailable(
        StartAvailableRequest.newBuilder().setPipeline(pipeline).setMaxBatches(maxBatches).build());
  }

  /** StartAvailable with every option (stage filter). */
  public List<StartedBatch> startAvailable(StartAvailableRequest request) {
    return call(
        s -> {
          List<StartedBatch> started = new ArrayList<>();
          Iterator<dev.lightspeed.orchestrator.v1.StartAvailableResponse> it =
              s.startAvailable(request);
          while (it.hasNext()) {
            started.add(it.next().getStarted());
          }
          return started;
        });
  }

  /**
   * Every batch started in the pipeline from now on, by any caller, as a blocking iterator. Close
   * it to end the stream. Has no deadline.
   */
  public StartedBatchStream watchStarted(String pipeline) {
    return StartedBatchStream.open(
        channel, WatchStartedRequest.newBuilder().setPipeline(pipeline).build());
  }

  /**
   * The pipeline's events (WatchEvents) after {@code afterEventId} (null = from now on), only of
   * {@code types} (empty = all), as an iterator that resumes by itself after a cut-off or a lost
   * connection; close it to end the stream. Has no deadline.
   */
  public EventStream watchEvents(
      String pipeline, Long afterEventId, java.util.List<dev.lightspeed.orchestrator.v1.EventType> types) {
    return new EventStream(channel, pipeline, afterEventId, types);
  }

  /**
   * Acks a started batch. {@code attempt} fences the ack to the attempt that was started (0 = any
   * attempt); a stale one is refused with {@link
   * dev.lightspeed.orchestrator.client.errors.StaleAttemptException}. Repeating an ack is not an
   * error.
   */
  public ProcessOutcome ackBatch(String pipeline, String key, int attempt) {
    return call(
            s ->
                s.ackBatch(
                    AckBatchRequest.newBuilder()
                        .setPipeline(pipeline)
                        .setKey(key)
                        .setAttempt(attempt)
                        .build()))
        .getOutcome();
  }

  /** Acks many batches, each with its own result (outcome or error). */
  public List<AckResult> ackBatches(String pipeline, List<AckItem> acks) {
    return call(
            s ->
                s.ackBatches(
                    AckBatchesRequest.newBuilder().setPipeline(pipeline).addAllAcks(acks).build()))
        .getResultsList();
  }

  /**
   * Reports a failed attempt: the outcome is a scheduled retry, a dead letter, or {@code
   * failure_rejected} when the report is stale (the batch is no longer in flight under that
   * attempt).
   */
  public ProcessOutcome failBatch(
      String pipeline, String key, int attempt, String reason, boolean nonRetryable) {
    return failBatch(Requests.failBatch(pipeline, key, attempt, reason, nonRetryable));
  }

  public ProcessOutcome failBatch(FailBatchRequest request) {
    return call(s -> s.failBatch(request)).getOutcome();
  }

  /** Heartbeat: extends the lease of an in-flight attempt; returns the new deadline (epoch ms). */
  public long extendLease(String pipeline, String key, int attempt) {
    return call(
            s ->
                s.extendLease(
                    ExtendLeaseRequest.newBuilder()
                        .setPipeline(pipeline)
                        .setKey(key)
                        .setAttempt(attempt)
                        .build()))
        .getLeaseDeadlineMs();
  }

  // ---- operators and runs --------------------------------------------------------------------

  /** Applies an operator action (pause, drain, redrive, ...); it is audited. */
  public void applyAction(String pipeline, OperatorAction action) {
    call(
        s ->
            s.applyAction(
                ApplyActionRequest.newBuilder().setPipeline(pipeline).setAction(action).build()));
  }

  /** Opens a run (or returns the active one). */
  public RunSummary startRun(String pipeline) {
    return call(s -> s.startRun(StartRunRequest.newBuilder().setPipeline(pipeline).build()))
        .getRun();
  }

  /** Closes the active run and returns its summary; empty if no run was active. */
  public Optional<RunSummary> completeRun(String pipeline) {
    CompleteRunResponse resp =
        call(s -> s.completeRun(CompleteRunRequest.newBuilder().setPipeline(pipeline).build()));
    return resp.hasRun() ? Optional.of(resp.getRun()) : Optional.empty();
  }

  // ---- queries -------------------------------------------------------------------------------

  public ListBatchesResponse listBatches(ListBatchesRequest request) {
    return call(s -> s.listBatches(request));
  }

  public ListRetriesResponse listRetries(ListRetriesRequest request) {
    return call(s -> s.listRetries(request));
  }

  public ListDeadLettersResponse listDeadLetters(ListDeadLettersRequest request) {
    return call(s -> s.listDeadLetters(request));
  }

  public ListRunsResponse listRuns(ListRunsRequest request) {
    return call(s -> s.listRuns(request));
  }

  public ListAuditLogResponse listAuditLog(ListAuditLogRequest request) {
    return call(s -> s.listAuditLog(request));
  }

  /** Counts, mode, active run, signature and validity of a pipeline. */
  public GetStatusResponse getStatus(String pipeline) {
    return getStatus(pipeline, false);
  }

  /**
   * As {@link #getStatus(String)}; with {@code staleOk}, a cluster node answers from its own
   * replica as it is (may miss recent writes made elsewhere; answers while the pipeline's group
   * has no leader). A single server ignores it. The list reads take it in their request
   * ({@code setStaleOk}).
   */
  public GetStatusResponse getStatus(String pipeline, boolean staleOk) {
    return call(s -> s.getStatus(
        GetStatusRequest.newBuilder().setPipeline(pipeline).setStaleOk(staleOk).build()));
  }

  /**
   * The answering cluster node's own view of its Raft groups (admin role); nothing is forwarded,
   * so give this client one node's address to know which node answers. A single server refuses
   * with FAILED_PRECONDITION {@code NOT_A_CLUSTER}.
   */
  public dev.lightspeed.orchestrator.v1.GetClusterStatusResponse getClusterStatus() {
    return call(s -> s.getClusterStatus(
        dev.lightspeed.orchestrator.v1.GetClusterStatusRequest.getDefaultInstance()));
  }

  /**
   * Adds a node, started with {@code --join} on the peer's addresses, to the running cluster
   * (admin role; docs/cluster.md, "Membership"). Waits until every group it changes has its new
   * members: give the client a deadline of a minute or more. Not retried by the client; the same
   * call again finishes a change that failed half-way.
   */
  public dev.lightspeed.orchestrator.v1.AddClusterNodeResponse addClusterNode(
      dev.lightspeed.orchestrator.v1.ClusterPeer peer) {
    return call(s -> s.addClusterNode(
        dev.lightspeed.orchestrator.v1.AddClusterNodeRequest.newBuilder().setPeer(peer).build()));
  }

  /** Removes a node from the running cluster (admin role); as {@link #addClusterNode}. */
  public dev.lightspeed.orchestrator.v1.RemoveClusterNodeResponse removeClusterNode(
      String nodeId) {
    return call(s -> s.removeClusterNode(dev.lightspeed.orchestrator.v1.RemoveClusterNodeRequest
        .newBuilder().setNodeId(nodeId).build()));
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  /**
   * Closes the channel: running calls may finish for up to 5 s, then they are cancelled. Open
   * watch streams end.
   */
  @Override
  public void close() {
    managedChannel.shutdown();
    try {
      if (!managedChannel.awaitTermination(5, TimeUnit.SECONDS)) {
        managedChannel.shutdownNow();
        managedChannel.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      managedChannel.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  private <T> T call(Function<OrchestratorServiceBlockingStub, T> rpc) {
    OrchestratorServiceBlockingStub stub = OrchestratorServiceGrpc.newBlockingStub(channel);
    if (deadline != null) {
      stub = stub.withDeadlineAfter(deadline.toNanos(), TimeUnit.NANOSECONDS);
    }
    try {
      return rpc.apply(stub);
    } catch (StatusRuntimeException e) {
      throw OrchestratorErrors.from(e);
    }
  }

  /**
   * Settings of an {@link OrchestratorClient}. Defaults: target {@code 127.0.0.1:50051},
   * plaintext, deadline 10 s per call, idempotent calls retried on UNAVAILABLE up to 4 attempts
   * with backoff from 100 ms to 2 s.
   */
  public static final class Builder {
    private List<String> targets = List.of("127.0.0.1:50051");
    private String authority;
    private boolean tls;
    private Path trustCertificates;
    private Path clientCertificate;
    private Path clientKey;
    private Duration deadline = Duration.ofSeconds(10);
    private boolean retry = true;
    private int maxAttempts = 4;
    private Duration initialBackoff = Duration.ofMillis(100);
    private Duration maxBackoff = Duration.ofSeconds(2);
    private double multiplier = 2.0;
    private Executor executor;
    private boolean directExecutor;
    private final List<ClientInterceptor> interceptors = new ArrayList<>();

    private Builder() {}

    /** A gRPC target: {@code host:port}, or any name-resolver URI such as {@code dns:///host:port}. */
    public Builder target(String target) {
      this.targets = List.of(Objects.requireNonNull(target, "target"));
      return this;
    }

    /**
     * Several servers, e.g. the nodes of a cluster, each {@code host:port}: calls go to the first
     * that accepts a connection and move to the next when it goes away (gRPC's pick_first over
     * all of them); a call that fails UNAVAILABLE meanwhile is retried as {@link #retryPolicy}
     * says. One target is the same as {@link #target}. With TLS, every server must present a
     * certificate for the first target's host, or for the name given to {@link #overrideAuthority}.
     */
    public Builder targets(List<String> targets) {
      if (targets.isEmpty()) {
        throw new IllegalArgumentException("at least one target");
      }
      for (String t : targets) {
        Objects.requireNonNull(t, "target");
        if (targets.size() > 1 && (t.isBlank() || t.contains("/") || t.contains(","))) {
          throw new IllegalArgumentException(
              "each of several targets is host:port (no URI, no comma): '" + t + "'");
        }
      }
      this.targets = List.copyOf(targets);
      return this;
    }

    /**
     * The authority of every call, which is also the host name TLS checks the server's
     * certificate against (SNI): useful when several targets share one certificate name, e.g.
     * {@code orchestrator.internal}. Default: the (first) target's host and port.
     */
    public Builder overrideAuthority(String authority) {
      this.authority = Objects.requireNonNull(authority, "authority");
      return this;
    }

    /** TLS on (with the JVM's trusted roots unless {@link #trustCertificates}) or off. */
    public Builder tls(boolean tls) {
      this.tls = tls;
      return this;
    }

    /** TLS, trusting the PEM certificates in {@code pemFile} (e.g. a private CA). */
    public Builder trustCertificates(Path pemFile) {
      this.trustCertificates = Objects.requireNonNull(pemFile, "pemFile");
      this.tls = true;
      return this;
    }

    /**
     * Mutual TLS: presents this client certificate chain ({@code certChainPem}, PEM) and its
     * private key ({@code privateKeyPem}, unencrypted PKCS#8 PEM, what OpenSSL 3 writes) to a
     * server started with {@code --tls-client-ca}. Implies TLS; combine it with {@link
     * #trustCertificates} for a private CA. Both files are read by {@link #build()}.
     */
    public Builder clientCertificate(Path certChainPem, Path privateKeyPem) {
      this.clientCertificate = Objects.requireNonNull(certChainPem, "certChainPem");
      this.clientKey = Objects.requireNonNull(privateKeyPem, "privateKeyPem");
      this.tls = true;
      return this;
    }

    /**
     * The deadline of each call, retries included; {@code null} or zero for none. Streams that run
     * until closed (WatchStarted) never have one.
     */
    public Builder deadline(Duration deadline) {
      this.deadline = deadline == null || deadline.isZero() ? null : deadline;
      return this;
    }

    /**
     * Retries of the idempotent calls on UNAVAILABLE: {@code maxAttempts} tries in all (≥ 2),
     * exponential backoff from {@code initialBackoff} up to {@code maxBackoff} (gRPC adds jitter).
     */
    public Builder retryPolicy(
        int maxAttempts, Duration initialBackoff, Duration maxBackoff, double multiplier) {
      if (maxAttempts < 2) {
        throw new IllegalArgumentException("maxAttempts must be ≥ 2; use disableRetry() for none");
      }
      if (initialBackoff.isNegative() || initialBackoff.isZero() || maxBackoff.isNegative()
          || maxBackoff.isZero() || multiplier <= 0) {
        throw new IllegalArgumentException("backoffs must be > 0 and multiplier > 0");
      }
      this.retry = true;
      this.maxAttempts = maxAttempts;
      this.initialBackoff = initialBackoff;
      this.maxBackoff = maxBackoff;
      this.multiplier = multiplier;
      return this;
    }

    /** No automatic retries at all. */
    public Builder disableRetry() {
      this.retry = false;
      return this;
    }

    /** The executor that runs async callbacks and stream listeners (default: gRPC's pool). */
    public Builder executor(Executor executor) {
      this.executor = Objects.requireNonNull(executor, "executor");
      this.directExecutor = false;
      return this;
    }

    /**
     * Runs async callbacks and stream listeners on the transport's threads: the fastest choice
     * (no hand-off), but only if no callback ever blocks.
     */
    public Builder directExecutor() {
      this.directExecutor = true;
      this.executor = null;
      return this;
    }

    /** Interceptors for every call, e.g. to add authentication metadata; first runs first. */
    public Builder intercept(ClientInterceptor... interceptors) {
      this.interceptors.addAll(List.of(interceptors));
      return this;
    }

    /**
     * Sends {@code authorization: Bearer <token>} on every call, for a server started with
     * {@code --token-file}. Use it with TLS: the token is a secret.
     */
    public Builder bearerToken(String token) {
      if (token == null || token.isBlank()) {
        throw new IllegalArgumentException("bearer token must not be empty");
      }
      io.grpc.Metadata headers = new io.grpc.Metadata();
      headers.put(
          io.grpc.Metadata.Key.of("authorization", io.grpc.Metadata.ASCII_STRING_MARSHALLER),
          "Bearer " + token.strip());
      return intercept(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    public OrchestratorClient build() {
      String target =
          targets.size() == 1
              ? targets.get(0)
              : TargetListNameResolverProvider.channelTarget(targets);
      NettyChannelBuilder nb = NettyChannelBuilder.forTarget(target, credentials());
      if (authority != null) {
        nb.overrideAuthority(authority);
      }
      // gRPC's default, said out loud: one connection, to the first target that accepts it; when
      // it breaks, the next call reconnects trying the targets in order again. (round_robin
      // would spread calls over every node; a cluster node forwards to the leader anyway.)
      nb.defaultLoadBalancingPolicy("pick_first");
      if (directExecutor) {
        nb.directExecutor();
      } else if (executor != null) {
        nb.executor(executor);
      }
      if (retry) {
        nb.disableServiceConfigLookUp()
            .defaultServiceConfig(
                RetryServiceConfig.of(maxAttempts, initialBackoff, maxBackoff, multiplier))
            .maxRetryAttempts(maxAttempts)
            .enableRetry();
      } else {
        nb.disableRetry();
      }
      ManagedChannel managed = nb.build();
      // ClientInterceptors.intercept runs the last one first; reverse so the first runs first.
      List<ClientInterceptor> ordered = new ArrayList<>(interceptors);
      java.util.Collections.reverse(ordered);
      Channel channel = ClientInterceptors.intercept(managed, ordered);
      return new OrchestratorClient(managed, channel, deadline);
    }

    private ChannelCredentials credentials() {
      if (!tls) {
        return InsecureChannelCredentials.create();
      }
      if (trustCertificates == null && clientCertificate == null) {
        return TlsChannelCredentials.create();
      }
      TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder();
      if (trustCertificates != null) {
        try {
          b.trustManager(trustCertificates.toFile());
        } catch (IOException e) {
          throw new UncheckedIOException("cannot read the CA certificates " + trustCertificates, e);
        }
      }
      if (clientCertificate != null) {
        try {
          b.keyManager(clientCertificate.toFile(), clientKey.toFile());
        } catch (IOException e) {
          throw new UncheckedIOException(
              "cannot read the client certificate " + clientCertificate + " or its key " + clientKey,
              e);
        }
      }
      return b.build();
    }
  }
}
