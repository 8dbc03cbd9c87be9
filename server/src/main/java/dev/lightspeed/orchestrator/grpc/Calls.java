package dev.lightspeed.orchestrator.grpc;

import dev.lightspeed.orchestrator.core.Command;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.host.JournalGate;
import dev.lightspeed.orchestrator.host.PipelineHandle;
import dev.lightspeed.orchestrator.host.PipelineRegistry;
import dev.lightspeed.orchestrator.host.ServerReason;
import io.grpc.Context;
import io.grpc.stub.StreamObserver;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * How the service runs a call and answers it: a change is applied to its pipeline and answered
 * once durable; a refusal is answered once the state it reports is durable; a read that may cost
 * O(state) runs off the transport threads. The handlers of {@link OrchestratorGrpcService} are one
 * line each over these.
 */
final class Calls {
  private final PipelineRegistry registry;
  private final Clock clock;
  /** Refuses every call once the journal failed. */
  private final JournalGate gate;
  /**
   * Where the reads that may cost O(state) run (GetStatus's first answer after a change, a
   * filtered ListBatches that skips most batches, the other lists): never on a transport thread,
   * and through each pipeline's own sequential executor over this pool, so that a large read of
   * one pipeline never delays a read of another.
   */
  private final Executor readPool;

  Calls(PipelineRegistry registry, Clock clock, Executor readPool) {
    this.registry = registry;
    this.gate = registry.gate();
    this.clock = clock;
    this.readPool = readPool;
  }

  /**
   * A reply to send once its change is durable; {@code sent} (may be null) runs just before it
   * is sent, to count what it reports.
   */
  record Reply<T>(T message, CompletableFuture<Void> durable, Runnable sent) {
    Reply(T message, CompletableFuture<Void> durable) {
      this(message, durable, null);
    }
  }

  long now() {
    return clock.millis();
  }

  JournalGate gate() {
    return gate;
  }

  /**
   * Submits the command {@code request} maps to on {@code pipeline} and maps its typed result to
   * the reply. The pipeline is looked up first: an unknown pipeline is PIPELINE_NOT_FOUND before
   * any check of the request.
   */
  <R, T> Reply<T> submit(
      String pipeline, Supplier<? extends Command<R>> request, Function<R, T> reply) {
    return submit(pipeline, request, reply, null);
  }

  /** As above; {@code counted} sees the typed result when the reply is sent (metrics). */
  <R, T> Reply<T> submit(
      String pipeline, Supplier<? extends Command<R>> request, Function<R, T> reply,
      java.util.function.Consumer<R> counted) {
    PipelineHandle handle = registry.get(pipeline);
    PipelineHandle.Executed<R> done = handle.execute(request.get(), now());
    R result = done.result();
    return new Reply<>(reply.apply(result), done.durable(),
        counted == null ? null : () -> counted.accept(result));
  }

  /**
   * Runs one call that may change state: its refusal is answered at once; its reply only once
   * its journal record is durable (a reply never precedes the fsync of its record). That reply is
   * sent by the journal's writer thread as it completes the group (grpc queues the bytes for the
   * call's event loop): a hand-off to another thread per group cost more than the sends do.
   */
  <T> void mutation(
      StreamObserver<T> out, String pipeline, String fieldPrefix, Supplier<Reply<T>> call) {
    Reply<T> reply;
    try {
      gate.ensureOpen();
      CallGuard.ensureCallLive();
      reply = call.get();
    } catch (Rejection r) {
      refuse(out, pipeline, fieldPrefix, r);
      return;
    } catch (RuntimeException e) {
      out.onError(ErrorMapper.toException(e, pipeline));
      return;
    }
    sendWhenDurable(out, pipeline, reply.message(), reply.durable(), reply.sent());
  }

  /**
   * Sends {@code message} once {@code durable} completes, which covers every change the message
   * reports, including those of earlier calls (a reply that changed nothing waits for the
   * pipeline's last change, see {@link PipelineHandle#settled()}). If the journal failed first,
   * JOURNAL_UNAVAILABLE is sent instead. On the happy path the future is usually complete and
   * the reply leaves at once; else it is sent by the journal's writer thread as it completes the
   * group (grpc queues the bytes for the call's event loop): a hand-off to another thread per
   * group cost more than the sends do. Nothing here ever waits on a transport thread.
   */
  <T> void sendWhenDurable(
      StreamObserver<T> out, String pipeline, T message, CompletableFuture<Void> durable,
      Runnable sent) {
    if (durable.isDone() && !durable.isCompletedExceptionally() && !gate.failed()) {
      if (sent != null) {
        sent.run();
      }
      out.onNext(message);
      out.onCompleted();
      return;
    }
    durable.whenComplete((ok, failure) -> {
      Rejection refused = gate.refusalAfter(failure);
      if (refused != null) {
        out.onError(ErrorMapper.toException(refused, pipeline, ""));
      } else {
        if (sent != null) {
          sent.run();
        }
        out.onNext(message);
        out.onCompleted();
      }
    });
  }

  /**
   * Sends a refusal once what it reports is durable: "no such batch", "stale attempt" or
   * "pipeline exists" describe state that an earlier call may have changed moments ago.
   */
  <T> void refuse(StreamObserver<T> out, String pipeline, String fieldPrefix, Rejection r) {
    if (r.reason() == ServerReason.JOURNAL_UNAVAILABLE) {
      out.onError(ErrorMapper.toException(r, pipeline, fieldPrefix));
      return;
    }
    CompletableFuture<Void> settled = registry.settled(pipeline);
    if (settled.isDone() && !settled.isCompletedExceptionally()) {
      out.onError(ErrorMapper.toException(r, pipeline, fieldPrefix));
      return;
    }
    settled.whenComplete((ok, failure) -> {
      Rejection refused = gate.refusalAfter(failure);
      out.onError(ErrorMapper.toException(refused != null ? refused : r, pipeline, fieldPrefix));
    });
  }

  /**
   * Runs one read: its reply once the state it read is durable (see {@link #sendWhenDurable}),
   * or its refusal mapped to a status. The settled future is taken after the read, so it covers
   * every change the read saw.
   */
  <T> void unary(StreamObserver<T> out, String pipeline, String fieldPrefix, Supplier<T> call) {
    T reply;
    try {
      gate.ensureOpen();
      reply = call.get();
    } catch (Rejection r) {
      refuse(out, pipeline, fieldPrefix, r);
      return;
    } catch (RuntimeException e) {
      out.onError(ErrorMapper.toException(e, pipeline));
      return;
    }
    sendWhenDurable(out, pipeline, reply, registry.settled(pipeline), null);
  }

  /**
   * A read of one pipeline that may cost O(state): run on that pipeline's sequential executor
   * over the read pool, so that it neither blocks a transport thread nor waits behind a read of
   * another pipeline.
   */
  <T> void pipelineRead(StreamObserver<T> out, String pipeline, Supplier<T> call) {
    Executor executor;
    try {
      gate.ensureOpen();
      executor = registry.get(pipeline).reads(readPool);
    } catch (Rejection r) {
      refuse(out, pipeline, "", r);
      return;
    }
    try {
      executor.execute(Context.current().wrap(() -> unary(out, pipeline, "", call)));
    } catch (RejectedExecutionException stopping) {
      out.onError(io.grpc.Status.UNAVAILABLE.withDescription("server shutting down")
          .asRuntimeException());
    }
  }
}
