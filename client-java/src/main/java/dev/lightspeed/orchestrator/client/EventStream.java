package dev.lightspeed.orchestrator.client;

import dev.lightspeed.orchestrator.client.errors.ErrorReason;
import dev.lightspeed.orchestrator.client.errors.OrchestratorErrors;
import dev.lightspeed.orchestrator.v1.Event;
import dev.lightspeed.orchestrator.v1.EventType;
import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.WatchEventsRequest;
import dev.lightspeed.orchestrator.v1.WatchEventsResponse;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A pipeline's events (WatchEvents) as a blocking iterator that resumes by itself: when the
 * stream ends because this reader fell behind (WATCH_BUFFER_FULL) or the connection or the
 * server went away (UNAVAILABLE), it opens a new one after the last event id it returned, so the
 * caller sees every event in id order with no gap and no duplicate, as long as the server still
 * retains them (otherwise {@code hasNext} throws the EVENTS_EXPIRED error). Reconnects wait 100 ms,
 * doubling up to 5 s, until {@link #close()}. Other errors (the pipeline was deleted, a bad
 * request) end the iteration with a typed {@link
 * dev.lightspeed.orchestrator.client.errors.OrchestratorException}.
 *
 * <p>{@link #lastEventId()} is the id to store for resuming in another process. One reader thread
 * at a time; {@link #close()} from any thread.
 */
public final class EventStream implements Iterator<Event>, AutoCloseable {
  private static final Duration FIRST_BACKOFF = Duration.ofMillis(100);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

  private final Channel channel;
  private final String pipeline;
  private final List<EventType> types;
  /** The last id returned, or -1 while none was and the stream started "from now". */
  private long lastEventId;
  private ClientCall<WatchEventsRequest, WatchEventsResponse> call;
  private BlockingQueue<Object> queue;
  private Object head;
  private volatile boolean closed;
  private int reconnects;

  private record End(Status status, Metadata trailers) {}

  EventStream(Channel channel, String pipeline, Long afterEventId, List<EventType> types) {
    this.channel = channel;
    this.pipeline = pipeline;
    this.types = List.copyOf(types);
    this.lastEventId = afterEventId == null ? -1 : afterEventId;
    open();
  }

  /** The id of the last event returned (or the resume id given), -1 if none yet. */
  public long lastEventId() {
    return lastEventId;
  }

  /** How many times the stream was reopened after a resumable end. */
  public int reconnects() {
    return reconnects;
  }

  private synchronized void open() {
    if (closed) {
      return;
    }
    WatchEventsRequest.Builder request =
        WatchEventsRequest.newBuilder().setPipeline(pipeline).addAllTypes(types);
    if (lastEventId >= 0) {
      request.setAfterEventId(lastEventId);
    }
    BlockingQueue<Object> q = new LinkedBlockingQueue<>();
    ClientCall<WatchEventsRequest, WatchEventsResponse> c =
        channel.newCall(OrchestratorServiceGrpc.getWatchEventsMethod(), CallOptions.DEFAULT);
    c.start(
        new ClientCall.Listener<>() {
          @Override
          public void onMessage(WatchEventsResponse message) {
            q.add(message.getEvent());
          }

          @Override
          public void onClose(Status status, Metadata trailers) {
            q.add(new End(status, trailers));
          }
        },
        new Metadata());
    c.sendMessage(request.build());
    c.halfClose();
    c.request(1);
    call = c;
    queue = q;
  }

  /** Waits for the next event (resuming as needed); false once closed. */
  @Override
  public boolean hasNext() {
    return fill(null);
  }

  @Override
  public Event next() {
    if (!hasNext()) {
      throw new NoSuchElementException("the event stream is closed");
    }
    return take();
  }

  /** The next event if one arrives within {@code timeout}; empty on timeout or once closed. */
  public Optional<Event> poll(Duration timeout) {
    return fill(timeout) ? Optional.of(take()) : Optional.empty();
  }

  /** Ends the stream; idempotent. */
  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      call.cancel("closed by the client", null);
    }
  }

  private boolean fill(Duration timeout) {
    long deadline = timeout == null ? Long.MAX_VALUE : System.nanoTime() + timeout.toNanos();
    Duration backoff = FIRST_BACKOFF;
    while (!closed) {
      if (head == null) {
        try {
          head = timeout == null ? queue.take()
              : queue.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          close();
          return false;
        }
        if (head == null) {
          return false; // timed out
        }
      }
      if (!(head instanceof End end)) {
        return true;
      }
      head = null;
      if (!resumable(end)) {
        if (end.status().isOk()) {
          return false;
        }
        throw OrchestratorErrors.fromStatus(end.status(), end.trailers());
      }
      if (System.nanoTime() + backoff.toNanos() > deadline) {
        return false;
      }
      try {
        Thread.sleep(backoff.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        close();
        return false;
      }
      backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF
          : backoff.multipliedBy(2);
      reconnects++;
      open();
    }
    return false;
  }

  /** Fell behind, or the connection or server went away: resume after the last id. */
  private static boolean resumable(End end) {
    Status.Code code = end.status().getCode();
    if (code == Status.Code.UNAVAILABLE) {
      return true;
    }
    if (code == Status.Code.RESOURCE_EXHAUSTED) {
      return OrchestratorErrors.fromStatus(end.status(), end.trailers()).reason()
          == ErrorReason.WATCH_BUFFER_FULL;
    }
    return false;
  }

  private Event take() {
    Event e = (Event) head;
    head = null;
    lastEventId = e.getEventId();
    call.request(1);
    return e;
  }
}
