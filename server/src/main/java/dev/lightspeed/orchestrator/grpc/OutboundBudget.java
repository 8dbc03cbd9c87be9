package dev.lightspeed.orchestrator.grpc;

import com.google.protobuf.MessageLite;
import io.grpc.Attributes;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.KnownLength;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerTransportFilter;
import io.grpc.Status;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Bounds the reply bytes that wait for clients to read them, per connection and for the whole
 * server. A client that opens many calls and never reads (an HTTP/2 flow-control window of zero)
 * leaves every reply queued in the server's transport; 1,000 ListBatches calls per connection on
 * a few connections took the server from 102 MB to 2.4 GB, and with {@code -Xmx512m} out of direct
 * memory (issue 15). With this budget such a client gets RESOURCE_EXHAUSTED for its new calls
 * once its connection holds {@code perConnection} bytes, and every client does while the server
 * as a whole holds {@code total}; when the flooder goes, its streams end, their bytes are
 * released and new calls are served again.
 *
 * <p>What is counted: each message a call sends, from {@code sendMessage} on. A reply of a
 * unary call is released when the call completes, which grpc-java reports once its trailers
 * (queued behind its data) have been written to the socket, or when it is cancelled: exactly the
 * time its bytes wait. A streaming call's messages are also released whenever the call reports
 * ready: grpc-java marks it ready only while less than 32 KiB of it is queued, so a stream that
 * keeps up holds no budget, and what a stream can leave queued unnoticed is under 32 KiB (the
 * WatchStarted sender only sends while ready). The check is made before a call's handler runs
 * (at its half-close), so a refused call has changed nothing; a read's reply is checked again when
 * it is sent (reads answer later, from the read pool), and any other reply that is already
 * computed is always sent, so the budget can be passed by the replies of the changes running at
 * that moment.
 */
public final class OutboundBudget implements ServerInterceptor {
  /** Why a call was refused; the metric's label value. */
  public enum Limit {
    PER_CONNECTION("per_connection"),
    SERVER("server");

    final String label;

    Limit(String label) {
      this.label = label;
    }
  }

  private static final Attributes.Key<AtomicLong> CONNECTION_PENDING =
      Attributes.Key.create("lightspeed.pendingOutboundBytes");

  private final long perConnection;
  private final long total;
  private final AtomicLong pending = new AtomicLong();
  private final LongAdder refusedPerConnection = new LongAdder();
  private final LongAdder refusedServer = new LongAdder();

  public OutboundBudget(long perConnection, long total) {
    this.perConnection = perConnection;
    this.total = total;
  }

  /** Gives each connection its own counter; add it to the server builder with the interceptor. */
  public ServerTransportFilter transportFilter() {
    return new ServerTransportFilter() {
      @Override
      public Attributes transportReady(Attributes attributes) {
        return attributes.toBuilder().set(CONNECTION_PENDING, new AtomicLong()).build();
      }
    };
  }

  /** Reply bytes waiting for their clients now, over all connections. */
  public long pendingBytes() {
    return pending.get();
  }

  /** Calls refused since start because {@code limit} was reached. */
  public long refused(Limit limit) {
    return (limit == Limit.PER_CONNECTION ? refusedPerConnection : refusedServer).sum();
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    AtomicLong connection = call.getAttributes().get(CONNECTION_PENDING);
    boolean unary = call.getMethodDescriptor().getType().serverSendsOneMessage();
    boolean read = unary && isRead(call.getMethodDescriptor().getFullMethodName());
    Charge charge = new Charge(connection);
    ServerCall<Q, R> counted = new SimpleForwardingServerCall<>(call) {
      /** Set when a read's reply was refused here; the handler's close is then dropped. */
      private volatile boolean refusedAtSend;

      @Override
      public void sendMessage(R message) {
        if (read) {
          // Reads reply later, from the read pool once durable (docs/durability.md), so many
          // can pass the check at their start before any reply is queued: a read's reply is
          // checked again here. A read changes nothing, so refusing its reply loses nothing.
          Status refusal = refusal(connection);
          if (refusal != null) {
            refusedAtSend = true;
            super.close(refusal, new Metadata());
            return;
          }
        }
        charge.add(sizeOf(message));
        super.sendMessage(message);
        if (!unary && isReady()) {
          charge.release();
        }
      }

      @Override
      public void close(Status status, Metadata trailers) {
        if (!refusedAtSend) {
          super.close(status, trailers);
        }
      }
    };
    return new SimpleForwardingServerCallListener<>(next.startCall(counted, headers)) {
      @Override
      public void onHalfClose() {
        Status refusal = refusal(connection);
        if (refusal != null) {
          call.close(refusal, new Metadata());
          return;
        }
        super.onHalfClose();
      }

      @Override
      public void onReady() {
        if (!unary) {
          charge.release();
        }
        super.onReady();
      }

      @Override
      public void onComplete() {
        charge.end();
        super.onComplete();
      }

      @Override
      public void onCancel() {
        charge.end();
        super.onCancel();
      }
    };
  }

  /** Whether {@code fullMethodName} is one of the service's reads (Get*, List*). */
  private static boolean isRead(String fullMethodName) {
    String bare = fullMethodName.substring(fullMethodName.lastIndexOf('/') + 1);
    return fullMethodName.startsWith("lightspeed.orchestrator.")
        && (bare.startsWith("Get") || bare.startsWith("List"));
  }

  /**
   * The serialized size of a reply. Interceptors on the server builder see messages already
   * serialized (a {@link KnownLength} stream from the protobuf marshaller); those on a service see
   * the protobuf message.
   */
  private static long sizeOf(Object message) {
    try {
      if (message instanceof MessageLite m) {
        return m.getSerializedSize();
      }
      if (message instanceof InputStream in && message instanceof KnownLength) {
        return in.available();
      }
    } catch (IOException e) {
      // unknown size: counted as none
    }
    return 0;
  }

  /** Why a call may not run now, or null if it may. */
  private Status refusal(AtomicLong connection) {
    if (connection != null && connection.get() >= perConnection) {
      refusedPerConnection.increment();
      return Status.RESOURCE_EXHAUSTED.withDescription(
          "this connection has " + connection.get() + " bytes of replies that its client has not"
              + " read, and the server holds at most " + perConnection
              + " (--max-pending-outbound-bytes-per-connection): read the replies of earlier"
              + " calls, or run fewer calls at once, then call again");
    }
    if (pending.get() >= total) {
      refusedServer.increment();
      return Status.RESOURCE_EXHAUSTED.withDescription(
          "the server holds " + pending.get() + " bytes of replies that clients have not read,"
              + " its most (--max-pending-outbound-bytes " + total + "): call again shortly");
    }
    return null;
  }

  /**
   * The bytes one call has sent and not yet seen leave. Its methods may run on any thread: a
   * reply can be sent by the journal's thread while the client cancels the call on the event loop,
   * so once the call has ended ({@link #end}) a late message is not counted at all.
   */
  private final class Charge {
    private static final long ENDED = -1;
    private final AtomicLong connection;
    private final AtomicLong bytes = new AtomicLong();

    Charge(AtomicLong connection) {
      this.connection = connection;
    }

    void add(long size) {
      long now;
      do {
        now = bytes.get();
        if (now == ENDED) {
          return;
        }
      } while (!bytes.compareAndSet(now, now + size));
      move(size);
    }

    /** The call's bytes have left (it is ready again). */
    void release() {
      long now;
      do {
        now = bytes.get();
        if (now <= 0) {
          return;
        }
      } while (!bytes.compareAndSet(now, 0));
      move(-now);
    }

    /** The call has ended: whatever it sent has been written or dropped. */
    void end() {
      long now = bytes.getAndSet(ENDED);
      if (now > 0) {
        move(-now);
      }
    }

    private void move(long size) {
      pending.addAndGet(size);
      if (connection != null) {
        connection.addAndGet(size);
      }
    }
  }
}
