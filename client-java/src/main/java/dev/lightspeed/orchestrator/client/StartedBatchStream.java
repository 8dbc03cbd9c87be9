package dev.lightspeed.orchestrator.client;

import dev.lightspeed.orchestrator.client.errors.OrchestratorErrors;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.StartedBatch;
import dev.lightspeed.orchestrator.v1.WatchStartedRequest;
import dev.lightspeed.orchestrator.v1.WatchStartedResponse;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import java.time.Duration;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A WatchStarted stream as a blocking iterator: every batch started in the pipeline after the
 * stream was established, in start order. {@link #hasNext()} waits for the next one; {@link
 * #poll(Duration)} waits at most a while. {@link #close()} (from any thread) ends the stream, and
 * a blocked reader then sees the end. A stream the server ends with an error (the pipeline was
 * deleted, the reader fell too far behind, the server shut down) throws that error as a typed
 * {@link dev.lightspeed.orchestrator.client.errors.OrchestratorException} from {@code hasNext}.
 *
 * <p>It reads one message ahead of the caller (gRPC flow control), so a reader that stops reading
 * leaves the server to buffer, and eventually to cut the stream off. One reader thread at a time.
 */
public final class StartedBatchStream implements Iterator<StartedBatch>, AutoCloseable {
  private final ClientCall<WatchStartedRequest, WatchStartedResponse> call;
  private final BlockingQueue<Object> queue = new LinkedBlockingQueue<>();
  private Object head;
  private volatile boolean closed;

  private record End(Status status, Metadata trailers) {}

  private StartedBatchStream(ClientCall<WatchStartedRequest, WatchStartedResponse> call) {
    this.call = call;
  }

  static StartedBatchStream open(Channel channel, WatchStartedRequest request) {
    ClientCall<WatchStartedRequest, WatchStartedResponse> call =
        channel.newCall(OrchestratorServiceGrpc.getWatchStartedMethod(), CallOptions.DEFAULT);
    StartedBatchStream stream = new StartedBatchStream(call);
    call.start(
        new ClientCall.Listener<>() {
          @Override
          public void onMessage(WatchStartedResponse message) {
            stream.queue.add(message.getStarted());
          }

          @Override
          public void onClose(Status status, Metadata trailers) {
            stream.queue.add(new End(status, trailers));
          }
        },
        new Metadata());
    call.sendMessage(request);
    call.halfClose();
    call.request(1);
    return stream;
  }

  /** Waits for the next started batch; false once the stream is closed or ended normally. */
  @Override
  public boolean hasNext() {
    if (head == null && !closed) {
      try {
        head = queue.take();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        close();
        return false;
      }
    }
    return available();
  }

  @Override
  public StartedBatch next() {
    if (!hasNext()) {
      throw new NoSuchElementException("the WatchStarted stream has ended");
    }
    return take();
  }

  /**
   * The next started batch if one arrives within {@code timeout}; empty on timeout or once the
   * stream has ended (then {@link #hasNext()} is false).
   */
  public Optional<StartedBatch> poll(Duration timeout) {
    if (head == null && !closed) {
      try {
        head = queue.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return Optional.empty();
      }
    }
    return head != null && available() ? Optional.of(take()) : Optional.empty();
  }

  /** Ends the stream (cancels the call); idempotent. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      call.cancel("closed by the client", null);
    }
  }

  private boolean available() {
    if (closed) {
      return false;
    }
    if (head instanceof End end) {
      if (end.status().isOk()) {
        return false;
      }
      throw OrchestratorErrors.fromStatus(end.status(), end.trailers());
    }
    return head != null;
  }

  private StartedBatch take() {
    StartedBatch batch = (StartedBatch) head;
    head = null;
    call.request(1);
    return batch;
  }
}
