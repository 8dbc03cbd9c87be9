package dev.lightspeed.orchestrator.server;

import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.grpc.ClusterGrpcService;
import dev.lightspeed.orchestrator.host.ServerReason;
import dev.lightspeed.orchestrator.v1.Connector;
import dev.lightspeed.orchestrator.v1.CreatePipelineRequest;
import dev.lightspeed.orchestrator.v1.GetPipelineRequest;
import dev.lightspeed.orchestrator.v1.GetPipelineResponse;
import dev.lightspeed.orchestrator.v1.PipelineSpec;
import dev.lightspeed.orchestrator.v1.UpdatePipelineRequest;
import dev.lightspeed.orchestrator.v1.UpdatePipelineResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code --config FILE} on a cluster node (docs/cluster.md, "--config on a cluster"): the
 * single server's rule through the cluster's normal replicated path. For each pipeline of the
 * file, in order, a linearizable GetPipeline (read index on its group's leader); a missing one is
 * created (CreatePipeline, replicated through its group), an existing one gets the file's spec as
 * an UpdatePipeline of every field, each connector whose entry does not set {@code disabled}
 * keeping its current state ({@link ConfigReconciler}'s rule). Both are idempotent, so nodes that
 * start with the same file at once converge: whichever creates a pipeline first, the others
 * update it to the same spec and change nothing.
 *
 * <p>A group without a leader (the cluster is starting, or lost its majority) is waited for,
 * retried every {@link #PAUSE_MS} until {@code wait} is spent; then the pipelines left are named
 * in an error and the node serves anyway. A refusal of the rules (an update SPEC 3.9 forbids,
 * say) is the caller's to report: start-up stops, as on one server.
 */
final class ClusterConfigApplier {
  private static final Logger log = LoggerFactory.getLogger(ClusterConfigApplier.class);
  static final long PAUSE_MS = 250;

  /** What applying the file did: the pipelines left undone when the wait ran out. */
  record Outcome(List<String> created, List<String> updated, List<String> unchanged,
      List<String> notApplied, String lastProblem) {}

  private final ClusterGrpcService service;
  private final String nodeId;

  ClusterConfigApplier(ClusterGrpcService service, String nodeId) {
    this.service = service;
    this.nodeId = nodeId;
  }

  /** Applies {@code specs} (checked already); throws the Rejection of a refused change. */
  Outcome apply(List<PipelineSpec> specs, Duration wait) throws InterruptedException {
    long deadline = System.nanoTime() + wait.toNanos();
    List<String> created = new ArrayList<>();
    List<String> updated = new ArrayList<>();
    List<String> unchanged = new ArrayList<>();
    String lastProblem = null;
    boolean waitingLogged = false;
    for (int i = 0; i < specs.size(); i++) {
      PipelineSpec spec = specs.get(i);
      while (true) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          List<String> notApplied = specs.subList(i, specs.size()).stream()
              .map(PipelineSpec::getName).toList();
          log.atError().addKeyValue("event", "config_not_applied")
              .addKeyValue("pipelines", String.join(",", notApplied))
              .log("--config: pipelines {} of the file were not applied within {} s: their Raft"
                  + " groups had no leader that answered ({}); this node serves anyway. Once the"
                  + " cluster has a majority, restart this node or apply them with"
                  + " CreatePipeline/UpdatePipeline", notApplied, wait.toSeconds(), lastProblem);
          return new Outcome(created, updated, unchanged, notApplied, lastProblem);
        }
        try {
          switch (applyOne(spec, left)) {
            case CREATED -> created.add(spec.getName());
            case UPDATED -> updated.add(spec.getName());
            case UNCHANGED -> unchanged.add(spec.getName());
          }
          break;
        } catch (Retry r) {
          lastProblem = r.getMessage();
          if (!waitingLogged) {
            waitingLogged = true;
            log.atInfo().addKeyValue("event", "config_waiting_for_leaders")
                .log("--config: waiting up to {} s for the Raft groups of the file's pipelines to"
                    + " have a leader ({})", wait.toSeconds(), lastProblem);
          }
          Thread.sleep(Math.min(PAUSE_MS, Math.max(1, TimeUnit.NANOSECONDS.toMillis(
              deadline - System.nanoTime()))));
        } catch (Rejection r) {
          throw Rejection.of(r.reason(), "pipeline '" + spec.getName() + "' (pipelines[" + i
              + "]): " + r.getMessage());
        }
      }
    }
    log.atInfo().addKeyValue("event", "config_applied")
        .log("--config: {} pipeline(s) created, {} updated, {} unchanged (through their Raft"
            + " groups)", created.size(), updated.size(), unchanged.size());
    return new Outcome(created, updated, unchanged, List.of(), lastProblem);
  }

  private enum Done { CREATED, UPDATED, UNCHANGED }

  /** Worth asking again: no leader yet, or the pipeline was created meanwhile. */
  private static final class Retry extends Exception {
    Retry(String message) {
      super(message, null, false, false);
    }
  }

  private Done applyOne(PipelineSpec spec, long leftNanos) throws Retry, InterruptedException {
    GetPipelineResponse current;
    try {
      current = call(service::getPipeline,
          GetPipelineRequest.newBuilder().setName(spec.getName()).build(), leftNanos);
    } catch (Rejection r) {
      if (r.reason() != ServerReason.PIPELINE_NOT_FOUND) {
        throw r;
      }
      try {
        call(service::createPipeline, CreatePipelineRequest.newBuilder().setSpec(spec).build(),
            leftNanos);
        log.atInfo().addKeyValue("event", "config_created").log("--config: pipeline '{}'"
            + " created through its Raft group", spec.getName());
        return Done.CREATED;
      } catch (Rejection exists) {
        if (exists.reason() == ServerReason.PIPELINE_EXISTS) {
          throw new Retry("pipeline '" + spec.getName() + "' was created meanwhile");
        }
        throw exists;
      }
    }
    PipelineSpec.Builder values = spec.toBuilder();
    for (Connector.Builder c : values.getConnectorsBuilderList()) {
      if (!c.hasDisabled()) {
        current.getPipeline().getConnectorsList().stream()
            .filter(now -> now.getName().equals(c.getName()))
            .findFirst()
            .ifPresent(now -> c.setDisabled(now.getDisabled()));
      }
    }
    UpdatePipelineResponse done = call(service::updatePipeline, UpdatePipelineRequest.newBuilder()
        .setPipeline(values).setUpdateMask(com.google.protobuf.FieldMask.newBuilder()
            .addAllPaths(ConfigReconciler.WHOLE_SPEC)).build(), leftNanos);
    List<String> changed = changedFields(current.getPipeline(), done.getPipeline());
    if (changed.isEmpty()) {
      log.info("--config: pipeline '{}' exists already with the same spec", spec.getName());
      return Done.UNCHANGED;
    }
    // The file wins, as on one server; loud, since on a cluster an outdated file on one node
    // undoes a change made through another (docs/cluster.md).
    log.atWarn().addKeyValue("event", "config_updated").addKeyValue("pipeline", spec.getName())
        .log("--config of node {}: pipeline '{}' existed with another spec; updated {} to the"
            + " file's (the file wins at start, as on one server: give every node the same"
            + " file)", nodeId, spec.getName(), String.join(", ", changed));
    return Done.UPDATED;
  }

  /** The fields of the whole spec whose effective value differs between two specs. */
  static List<String> changedFields(PipelineSpec before, PipelineSpec after) {
    List<String> changed = new ArrayList<>();
    for (String field : ConfigReconciler.WHOLE_SPEC) {
      var descriptor = PipelineSpec.getDescriptor().findFieldByName(field);
      if (!java.util.Objects.equals(before.getField(descriptor), after.getField(descriptor))) {
        changed.add(field);
      }
    }
    return changed;
  }

  /**
   * One call of the node's cluster service, as a client's call would run it (routed to the
   * group's leader); a refusal is thrown as its Rejection, no leader as {@link Retry}.
   */
  private static <Q, R> R call(BiConsumer<Q, StreamObserver<R>> method, Q request,
      long leftNanos) throws Retry, InterruptedException {
    CompletableFuture<R> reply = new CompletableFuture<>();
    method.accept(request, new StreamObserver<>() {
      @Override
      public void onNext(R value) {
        reply.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        reply.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {}
    });
    try {
      return reply.get(leftNanos, TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      throw new Retry("no reply in time");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof StatusRuntimeException s) {
        if (s.getStatus().getCause() instanceof Rejection r
            && s.getStatus().getCode() != Status.Code.UNAVAILABLE) {
          throw r;
        }
        if (s.getStatus().getCode() == Status.Code.UNAVAILABLE
            || s.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED) {
          throw new Retry(s.getStatus().getCode() + ": " + s.getStatus().getDescription());
        }
        throw Rejection.of(ServerReason.INVALID_REQUEST, s.getStatus().getCode() + ": "
            + s.getStatus().getDescription());
      }
      throw new Retry(String.valueOf(cause));
    }
  }
}
