package dev.lightspeed.orchestrator.cluster;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs plaintext on a mutual-TLS Raft connection (WARN {@code event=raft_peer_refused
 * plaintext=true}): the first in the process, then at most one line per 10 minutes with the count
 * since. Why this way: Netty refuses a connection that does not start with a TLS record before any
 * TLS callback (our trust manager) runs, in the pipeline Ratis builds, so the only trace is a FINE
 * record of gRPC's {@code WriteBufferingAndExceptionHandler} whose cause is Netty's
 * {@code NotSslRecordException}; this handler listens there (in Ratis' shaded gRPC).
 * {@code ClusterRaftTlsTest} fails if a Ratis upgrade moves that record.
 */
final class PlaintextPeerLog extends Handler {
  private static final Logger log = LoggerFactory.getLogger(PlaintextPeerLog.class);
  private static final long EVERY_NANOS = TimeUnit.MINUTES.toNanos(10);
  /** A gRPC client's HTTP/2 preface "PRI * HTTP/2.0", as Netty prints the refused bytes. */
  private static final String HTTP2_PREFACE_HEX = "505249202a20485454502f322e30";
  /** Held here: java.util.logging keeps loggers only weakly, and with them their level. */
  private static final java.util.logging.Logger GRPC_PIPELINE = java.util.logging.Logger
      .getLogger("org.apache.ratis.thirdparty.io.grpc.netty.WriteBufferingAndExceptionHandler");
  private static final PlaintextPeerLog INSTANCE = new PlaintextPeerLog();

  private final AtomicLong refusedSinceLogged = new AtomicLong();
  private final AtomicLong lastLoggedNanos = new AtomicLong();
  private volatile boolean loggedOnce;

  private PlaintextPeerLog() {}

  /** Once per process, when a node's Raft is set up with TLS. */
  static synchronized void install() {
    for (Handler h : GRPC_PIPELINE.getHandlers()) {
      if (h == INSTANCE) {
        return;
      }
    }
    INSTANCE.setLevel(Level.FINE);
    GRPC_PIPELINE.addHandler(INSTANCE);
    Level current = GRPC_PIPELINE.getLevel();
    if (current == null || current.intValue() > Level.FINE.intValue()) {
      GRPC_PIPELINE.setLevel(Level.FINE);
    }
  }

  @Override
  public void publish(LogRecord record) {
    Throwable plaintext = notSslRecord(record.getThrown());
    if (plaintext == null) {
      return;
    }
    long count = refusedSinceLogged.incrementAndGet();
    long now = System.nanoTime();
    long last = lastLoggedNanos.get();
    if ((loggedOnce && now - last < EVERY_NANOS) || !lastLoggedNanos.compareAndSet(last, now)) {
      return;
    }
    loggedOnce = true;
    refusedSinceLogged.addAndGet(-count);
    boolean grpcClient = String.valueOf(plaintext.getMessage()).contains(HTTP2_PREFACE_HEX);
    log.atWarn().addKeyValue("event", "raft_peer_refused").addKeyValue("plaintext", true)
        .addKeyValue("direction", grpcClient ? "incoming" : "unknown")
        .addKeyValue("connections", count)
        .log("Raft peer refused: {} ({} connection(s) since the last such line; at most one line"
            + " per 10 minutes). Is a node running without --tls-cert, --tls-key and"
            + " --tls-client-ca, or is it a process that is no node?",
            grpcClient ? "a gRPC client spoke plaintext to this node's mutual-TLS Raft port"
                : "a Raft connection without TLS (not a TLS record)", count);
  }

  private static Throwable notSslRecord(Throwable thrown) {
    for (Throwable t = thrown; t != null; t = t.getCause()) {
      if (t.getClass().getSimpleName().equals("NotSslRecordException")) {
        return t;
      }
    }
    return null;
  }

  @Override
  public void flush() {}

  @Override
  public void close() {}
}
