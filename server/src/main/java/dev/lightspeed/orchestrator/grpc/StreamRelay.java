package dev.lightspeed.orchestrator.grpc;

import dev.lightspeed.orchestrator.v1.OrchestratorServiceGrpc;
import dev.lightspeed.orchestrator.v1.WatchEventsRequest;
import dev.lightspeed.orchestrator.v1.WatchStartedRequest;
import dev.lightspeed.orchestrator.v1.WorkRequest;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ClientStreamTracer;
import io.grpc.Context;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The streams of a pipeline whose Raft group does not include this node (WatchStarted,
 * WatchEvents, Work), served by relaying them to a member of the group (docs/cluster.md, "Streams
 * on a node outside the pipeline's group"). A member serves such a stream from its own replica;
 * this node holds none, so it passes the messages both ways and the member's end back unchanged.
 *
 * <p>The first request names the pipeline (the watch request, the Work stream's {@code open}); the
 * call is decided then. A pipeline whose group includes this node, or a first request that names
 * none, goes to the service as if this class were not there.
 *
 * <p>Otherwise the stream is opened on the members in {@link ClusterRouting#relayOrder} order
 * with the caller's {@code authorization} header (the member authenticates and authorizes the
 * original caller) and the caller's deadline. A member the stream never reached (no connection,
 * or none within {@link #OPEN_WAIT_MS}) is passed over for the next; once a member has the
 * stream, the relay never moves it: the batches of a Work stream belong to that member's stream
 * and its slots.
 *
 * <ul>
 *   <li>Flow control both ways, at most {@link #WINDOW} messages asked ahead: more are asked
 *       from the member only while the caller's transport is ready, and from the caller only
 *       while the member's is. A slow caller slows the member's stream (whose own rules then
 *       apply: a WatchStarted buffer that fills ends the stream WATCH_BUFFER_FULL, passed on as
 *       it is).
 *   <li>The member's end (status, description, trailers with their ErrorInfo) is the caller's.
 *       An end the member did not send (the connection to it was lost) is UNAVAILABLE naming the
 *       member and what to do. The caller cancelling, or going away, cancels the member's stream.
 * </ul>
 *
 * <p>Every method of the two calls runs under this relay's lock: gRPC's calls are not
 * thread-safe, and their methods never block.
 */
final class StreamRelay implements ServerInterceptor {
  private static final Logger log = LoggerFactory.getLogger(StreamRelay.class);

  /** The relayed methods, and the pipeline that a first request names (null: none). */
  private static final Map<String, Function<Object, String>> PIPELINE_OF = Map.of(
      OrchestratorServiceGrpc.getWatchStartedMethod().getFullMethodName(),
      m -> ((WatchStartedRequest) m).getPipeline(),
      OrchestratorServiceGrpc.getWatchEventsMethod().getFullMethodName(),
      m -> ((WatchEventsRequest) m).getPipeline(),
      OrchestratorServiceGrpc.getWorkMethod().getFullMethodName(),
      m -> ((WorkRequest) m).hasOpen() ? ((WorkRequest) m).getOpen().getPipeline() : null);

  /** The generated descriptors (with the protobuf marshallers) the member is called with. */
  private static final Map<String, MethodDescriptor<?, ?>> METHODS = Map.of(
      OrchestratorServiceGrpc.getWatchStartedMethod().getFullMethodName(),
      OrchestratorServiceGrpc.getWatchStartedMethod(),
      OrchestratorServiceGrpc.getWatchEventsMethod().getFullMethodName(),
      OrchestratorServiceGrpc.getWatchEventsMethod(),
      OrchestratorServiceGrpc.getWorkMethod().getFullMethodName(),
      OrchestratorServiceGrpc.getWorkMethod());

  /** What the member authenticates the caller by (security.AuthInterceptor reads the same). */
  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  /** Headers and trailers that each hop's transport writes itself, never passed on. */
  private static final java.util.Set<String> TRANSPORT_KEYS = java.util.Set.of("content-type",
      "te", "user-agent", "grpc-encoding", "grpc-accept-encoding", "grpc-status", "grpc-message",
      "grpc-timeout");

  /**
   * Messages asked ahead from either side: each is one event, started batch or result (a few
   * hundred bytes), so what the relay may hold beyond a not-ready transport stays small, and a
   * stream is not slowed to one message per thread hand-off.
   */
  static final int WINDOW = 32;

  /** How long a member may take to carry the stream (connect, handshake) before the next. */
  static final long OPEN_WAIT_MS = ClusterReplicas.OPEN_WAIT_MS;

  private final ClusterRouting routing;
  private final MemberChannels channels;
  private final RelayMetrics metrics = new RelayMetrics(METHODS.values().stream()
      .map(MethodDescriptor::getBareMethodName).sorted().toList());

  StreamRelay(ClusterRouting routing, MemberChannels channels) {
    this.routing = routing;
    this.channels = channels;
  }

  /** This node's relayed streams, for {@code /metrics}. */
  RelayMetrics metrics() {
    return metrics;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    Function<Object, String> pipelineOf = PIPELINE_OF.get(method);
    if (pipelineOf == null) {
      return next.startCall(call, headers);
    }
    @SuppressWarnings("unchecked")
    MethodDescriptor<Q, R> typed = (MethodDescriptor<Q, R>) METHODS.get(method);
    return new Deciding<>(call, headers, next, pipelineOf, typed);
  }

  /**
   * Reads the first request, then hands the call to the service (with that request) or to a
   * {@link Relay}. gRPC runs a listener's callbacks one at a time.
   */
  private final class Deciding<Q, R> extends ServerCall.Listener<Q> {
    private final ServerCall<Q, R> call;
    private final Metadata headers;
    private final ServerCallHandler<Q, R> next;
    private final Function<Object, String> pipelineOf;
    private final MethodDescriptor<Q, R> method;
    private ServerCall.Listener<Q> delegate;

    Deciding(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next,
        Function<Object, String> pipelineOf, MethodDescriptor<Q, R> method) {
      this.call = call;
      this.headers = headers;
      this.next = next;
      this.pipelineOf = pipelineOf;
      this.method = method;
      call.request(1);
    }

    @Override
    public void onMessage(Q message) {
      if (delegate != null) {
        delegate.onMessage(message);
        return;
      }
      String pipeline = pipelineOf.apply(message);
      if (pipeline == null || pipeline.isEmpty() || routing.localReplica(pipeline) != null) {
        delegate = next.startCall(new FirstRequestRead<>(call), headers);
        delegate.onMessage(message);
        if (call.isReady()) {
          delegate.onReady();
        }
      } else {
        delegate = new Relay<>(call, headers, method, pipeline, message);
      }
    }

    @Override
    public void onHalfClose() {
      if (delegate == null) {
        // No request at all: the service refuses that as it always has.
        delegate = next.startCall(call, headers);
      }
      delegate.onHalfClose();
    }

    @Override
    public void onCancel() {
      if (delegate != null) {
        delegate.onCancel();
      }
    }

    @Override
    public void onComplete() {
      if (delegate != null) {
        delegate.onComplete();
      }
    }

    @Override
    public void onReady() {
      if (delegate != null) {
        delegate.onReady();
      }
    }
  }

  /**
   * The call as the service sees it when the first request was already read here: the service's
   * first {@code request(n)} asks for that one among its n.
   */
  private static final class FirstRequestRead<Q, R>
      extends ForwardingServerCall.SimpleForwardingServerCall<Q, R> {
    private final AtomicBoolean counted = new AtomicBoolean();

    FirstRequestRead(ServerCall<Q, R> call) {
      super(call);
    }

    @Override
    public void request(int numMessages) {
      int n = counted.compareAndSet(false, true) ? numMessages - 1 : numMessages;
      if (n > 0) {
        super.request(n);
      }
    }
  }

  /** One relayed stream: the caller's call, and the member's (the current attempt). */
  private final class Relay<Q, R> extends ServerCall.Listener<Q> {
    private final ServerCall<Q, R> call;
    private final MethodDescriptor<Q, R> method;
    private final String pipeline;
    private final Q first;
    private final Metadata forward = new Metadata();
    /** The caller's context: the member's call inherits its deadline and its cancellation. */
    private final Context context = Context.current();
    private final List<ClusterRouting.Member> members;
    private final List<String> unreachable = new ArrayList<>();
    private int nextMember;

    // Guarded by this.
    private Attempt attempt;
    private boolean halfClosed;
    /** Messages asked from the member that have not arrived. */
    private int memberAsked;
    /** Messages asked from the caller that have not arrived. */
    private int callerAsked;
    /** The caller's call is closed (or the caller went away): nothing more is passed. */
    private boolean ended;

    Relay(ServerCall<Q, R> call, Metadata headers, MethodDescriptor<Q, R> method,
        String pipeline, Q first) {
      this.call = call;
      this.method = method;
      this.pipeline = pipeline;
      this.first = first;
      Iterable<String> auth = headers.getAll(AUTHORIZATION);
      if (auth != null) {
        for (String value : auth) {
          forward.put(AUTHORIZATION, value);
        }
      }
      this.members = routing.relayOrder(pipeline);
      synchronized (this) {
        openNext();
      }
    }

    /** One call to one member, and what was seen of it (its tracer writes, this reads). */
    private final class Attempt extends ClientCall.Listener<R> {
      final ClusterRouting.Member member;
      ClientCall<Q, R> upstream;
      /** The call got a stream on a connection to the member. */
      volatile boolean created;
      /** The member sent the status that ended the call (not made up by this node). */
      volatile boolean endedByMember;
      /** Cancelled here: no connection carried the stream within {@link #OPEN_WAIT_MS}. */
      boolean timedOut;

      Attempt(ClusterRouting.Member member) {
        this.member = member;
      }

      final ClientStreamTracer.Factory tracer = new ClientStreamTracer.Factory() {
        @Override
        public ClientStreamTracer newClientStreamTracer(
            ClientStreamTracer.StreamInfo info, Metadata headers) {
          return new ClientStreamTracer() {
            @Override
            public void streamCreated(io.grpc.Attributes transportAttrs, Metadata headers) {
              created = true;
              metrics.opened(method.getBareMethodName());
            }

            @Override
            public void inboundTrailers(Metadata trailers) {
              endedByMember = true;
            }
          };
        }
      };

      @Override
      public void onHeaders(Metadata headers) {
        synchronized (Relay.this) {
          if (attempt == this && !ended) {
            call.sendHeaders(passedOn(headers));
          }
        }
      }

      @Override
      public void onMessage(R message) {
        synchronized (Relay.this) {
          if (attempt != this || ended) {
            return;
          }
          memberAsked--;
          call.sendMessage(message);
          askMember();
        }
      }

      @Override
      public void onReady() {
        synchronized (Relay.this) {
          if (attempt == this) {
            askCaller();
          }
        }
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        boolean lost = false;
        try {
          lost = closed(status, trailers);
        } finally {
          if (created) {
            metrics.ended(method.getBareMethodName(), lost);
          }
        }
      }

      /** Passes the member's end on, or tries the next member; true when the member was lost. */
      private boolean closed(Status status, Metadata trailers) {
        synchronized (Relay.this) {
          if (attempt != this || ended) {
            return false;
          }
          if (context.isCancelled()) {
            // The caller cancelled or went away: its context, which the member's call runs in,
            // cancelled that call, and this can run before the caller's onCancel does. Not a
            // lost member (CI saw it counted as one, and logged relay_lost).
            ended = true;
            return false;
          }
          if (!created && (timedOut || status.getCode() == Status.Code.UNAVAILABLE)) {
            // The stream never reached the member: nothing of it exists there; try the next.
            unreachable.add(member.id() + " (" + member.apiAddress() + "): "
                + (timedOut ? "no connection within " + OPEN_WAIT_MS + " ms"
                    : status.getDescription()));
            openNext();
            return false;
          }
          ended = true;
          if (endedByMember || status.getCode() == Status.Code.DEADLINE_EXCEEDED) {
            call.close(status, passedOn(trailers));
            // A member that stops gracefully ends its streams UNAVAILABLE itself, one that dies
            // drops the connection (below): either way the member went away.
            return endedByMember && status.getCode() == Status.Code.UNAVAILABLE;
          } else if (channels.closed()) {
            call.close(Status.UNAVAILABLE.withDescription("server shutting down (this node"
                + " relayed the stream to node '" + member.id() + "'); open the stream again on"
                + " another node"), new Metadata());
          } else {
            log.atInfo().addKeyValue("event", "relay_lost").addKeyValue("pipeline", pipeline)
                .addKeyValue("member", member.id()).addKeyValue("status", status.getCode())
                .log("a relayed stream lost its member: {}", status.getDescription());
            call.close(Status.UNAVAILABLE.withDescription("this node relayed the stream to node '"
                + member.id() + "' (" + member.apiAddress() + "), a member of Raft group "
                + routing.groupOf(pipeline) + " which holds pipeline '" + pipeline + "', and the"
                + " connection to it ended (" + status.getCode()
                + (status.getDescription() == null ? "" : ": " + status.getDescription())
                + "). Open the stream again, on this node or any other: a Work stream's"
                + " unacknowledged batches come back when their leases expire; WatchEvents"
                + " resumes with after_event_id").withCause(status.getCause()), new Metadata());
            return true;
          }
          return false;
        }
      }
    }

    /** Opens the stream on the next member; UNAVAILABLE to the caller when none is left. */
    private void openNext() {
      while (nextMember < members.size()) {
        ClusterRouting.Member member = members.get(nextMember++);
        Attempt a = new Attempt(member);
        ClientCall<Q, R> upstream;
        try {
          upstream = channels.to(member.apiAddress())
              .newCall(method, CallOptions.DEFAULT.withStreamTracerFactory(a.tracer));
        } catch (RuntimeException e) {
          unreachable.add(member.id() + " (" + member.apiAddress() + "): " + e.getMessage());
          continue;
        }
        a.upstream = upstream;
        attempt = a;
        memberAsked = WINDOW;
        Context previous = context.attach();
        try {
          upstream.start(a, copy(forward));
          if (attempt != a || ended) {
            return; // it ended at once (its end was handled, on this thread)
          }
          upstream.sendMessage(first);
          if (halfClosed) {
            upstream.halfClose();
          }
          upstream.request(WINDOW);
        } finally {
          context.detach(previous);
        }
        // A member whose process is frozen accepts the TCP connection and never answers the
        // HTTP/2 handshake: give up on it after a while, as on one that refused.
        CompletableFuture.delayedExecutor(OPEN_WAIT_MS, TimeUnit.MILLISECONDS).execute(() -> {
          synchronized (this) {
            if (attempt == a && !a.created && !ended) {
              a.timedOut = true;
              a.upstream.cancel("no connection to the member within " + OPEN_WAIT_MS + " ms",
                  null);
            }
          }
        });
        return;
      }
      ended = true;
      metrics.unplaced(method.getBareMethodName());
      call.close(Status.UNAVAILABLE.withDescription("this node holds no replica of pipeline '"
          + pipeline + "' (Raft group " + routing.groupOf(pipeline) + ") and could not reach"
          + " any of its group's nodes to relay the stream to"
          + (unreachable.isEmpty() ? " " + routing.membersOf(pipeline) : ": " + unreachable)
          + "; a group needs a majority of its nodes up. Open the stream again later, or"
          + " through another node"), new Metadata());
    }

    /**
     * Tops up the messages asked from the member to {@link #WINDOW} once half of them arrived,
     * while the caller's transport is ready to send.
     */
    private void askMember() {
      if (!ended && memberAsked <= WINDOW / 2 && call.isReady()) {
        int more = WINDOW - memberAsked;
        memberAsked = WINDOW;
        attempt.upstream.request(more);
      }
    }

    /**
     * Asks the caller for a message when none is asked and the member's stream can take one; not
     * before the stream has reached the member (until then it may still move to the next).
     */
    private void askCaller() {
      if (!ended && !halfClosed && callerAsked <= WINDOW / 2 && attempt.created
          && attempt.upstream.isReady()) {
        int more = WINDOW - callerAsked;
        callerAsked = WINDOW;
        call.request(more);
      }
    }

    @Override
    public synchronized void onMessage(Q message) {
      if (ended) {
        return;
      }
      callerAsked--;
      attempt.upstream.sendMessage(message);
      askCaller();
    }

    @Override
    public synchronized void onHalfClose() {
      if (ended || halfClosed) {
        return;
      }
      halfClosed = true;
      attempt.upstream.halfClose();
    }

    @Override
    public synchronized void onCancel() {
      if (ended) {
        return;
      }
      ended = true;
      attempt.upstream.cancel("the caller of the relayed stream cancelled it or went away",
          null);
    }

    @Override
    public synchronized void onReady() {
      askMember();
    }
  }

  private static Metadata copy(Metadata headers) {
    Metadata out = new Metadata();
    out.merge(headers);
    return out;
  }

  /**
   * The member's headers or trailers without what the transport writes (the ErrorInfo of
   * {@code grpc-status-details-bin} and any other entry are kept as they are).
   */
  private static Metadata passedOn(Metadata in) {
    Metadata out = new Metadata();
    for (String key : in.keys()) {
      if (TRANSPORT_KEYS.contains(key) || key.startsWith(":")) {
        continue;
      }
      if (key.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
        Metadata.Key<byte[]> k = Metadata.Key.of(key, Metadata.BINARY_BYTE_MARSHALLER);
        for (byte[] v : in.getAll(k)) {
          out.put(k, v);
        }
      } else {
        Metadata.Key<String> k = Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER);
        for (String v : in.getAll(k)) {
          out.put(k, v);
        }
      }
    }
    return out;
  }
}
