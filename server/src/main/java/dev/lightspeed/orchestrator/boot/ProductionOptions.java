package dev.lightspeed.orchestrator.boot;

import dev.lightspeed.orchestrator.dashboard.DashboardHttpServer;
import dev.lightspeed.orchestrator.grpc.ConnectionLimiter;
import dev.lightspeed.orchestrator.grpc.OutboundBudget;
import dev.lightspeed.orchestrator.host.HeapGuard;
import dev.lightspeed.orchestrator.host.Limits;
import dev.lightspeed.orchestrator.security.TokenFile;
import dev.lightspeed.orchestrator.server.ServerSettings;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The command-line flags for running in production: TLS, bearer tokens, limits, keepalive,
 * handler threads and metrics (a picocli mixin of {@link ServerMain}). README "Running in
 * production" and docs/operations.md document them. The transport they build is {@link
 * NettyTransport}'s.
 */
public final class ProductionOptions {
  // ---- security ------------------------------------------------------------------------------

  @Option(
      names = "--tls-cert",
      paramLabel = "FILE",
      description = "PEM certificate chain of the server (leaf first). With --tls-key: serve TLS"
          + " only.")
  Path tlsCert;

  @Option(
      names = "--tls-key",
      paramLabel = "FILE",
      description = "PEM private key of --tls-cert, unencrypted PKCS#8 (-----BEGIN PRIVATE KEY-----,"
          + " as openssl genpkey or openssl req -noenc write it).")
  Path tlsKey;

  @Option(
      names = "--tls-client-ca",
      paramLabel = "FILE",
      description = "PEM CA certificates for mutual TLS: every client must present a certificate"
          + " signed by one of them, or its connection is refused in the handshake. Needs"
          + " --tls-cert. On a cluster node also the CA of the other nodes' certificates (Raft"
          + " is then mutual TLS; a cluster node with --tls-cert needs it).")
  Path tlsClientCa;

  @Option(
      names = "--token-file",
      paramLabel = "FILE",
      description = "Bearer tokens and their roles, one 'TOKEN ROLE[,ROLE...] [NAME]' per line"
          + " (roles: producer, worker, operator, admin, reader). With it every"
          + " OrchestratorService call needs 'authorization: Bearer TOKEN'; health and reflection"
          + " stay open.")
  Path tokenFile;

  @Option(
      names = "--insecure",
      description = "Allow listening on a non-loopback --bind without TLS or without"
          + " authentication (tokens or client certificates), and a cluster node's Raft in"
          + " plaintext on a non-loopback raftAddress. Without it the server refuses to start"
          + " that way.")
  boolean insecure;

  // ---- limits --------------------------------------------------------------------------------

  @Option(
      names = "--max-message-bytes",
      defaultValue = "4194304",
      paramLabel = "BYTES",
      description = "Largest request message accepted; a larger one is refused by gRPC with"
          + " RESOURCE_EXHAUSTED before it is read (default: ${DEFAULT-VALUE}).")
  int maxMessageBytes;

  @Option(
      names = "--max-items-per-call",
      defaultValue = "" + Limits.DEFAULT_MAX_ITEMS_PER_CALL,
      paramLabel = "N",
      description = "Most batches in one EnqueueBatches, and acks in one AckBatches; more is"
          + " INVALID_ARGUMENT TOO_MANY_ITEMS (default: ${DEFAULT-VALUE}).")
  int maxItemsPerCall;

  @Option(
      names = "--max-watchers-per-pipeline",
      defaultValue = "" + Limits.DEFAULT_MAX_WATCHERS_PER_PIPELINE,
      paramLabel = "N",
      description = "Most open WatchStarted streams per pipeline; one more is RESOURCE_EXHAUSTED"
          + " TOO_MANY_WATCHERS (default: ${DEFAULT-VALUE}).")
  int maxWatchersPerPipeline;

  @Option(
      names = "--max-pipelines",
      defaultValue = "" + Limits.DEFAULT_MAX_PIPELINES,
      paramLabel = "N",
      description = "Most pipelines on this server; creating one more is RESOURCE_EXHAUSTED"
          + " TOO_MANY_PIPELINES (default: ${DEFAULT-VALUE}).")
  int maxPipelines;

  @Option(
      names = "--max-heap-percent",
      defaultValue = "" + HeapGuard.DEFAULT_MAX_HEAP_PERCENT,
      paramLabel = "PERCENT",
      description = "While garbage collection leaves the heap at least this full, new batches and"
          + " pipelines are refused RESOURCE_EXHAUSTED QUEUE_FULL (with RetryInfo) instead of"
          + " running out of memory; taken again 5 points below. 50..100, 100 = off (default:"
          + " ${DEFAULT-VALUE}).")
  int maxHeapPercent;

  @Option(
      names = "--event-retention",
      defaultValue = "" + Limits.DEFAULT_EVENT_RETENTION,
      paramLabel = "N",
      description = "Events kept per pipeline (in memory and in snapshots) for WatchEvents to"
          + " resume from; an older resume id is OUT_OF_RANGE EVENTS_EXPIRED (default:"
          + " ${DEFAULT-VALUE}).")
  int eventRetention;

  @Option(
      names = "--max-concurrent-calls-per-connection",
      defaultValue = "1000",
      paramLabel = "N",
      description = "HTTP/2 streams one connection may have open at once; the client waits for"
          + " more (default: ${DEFAULT-VALUE}).")
  int maxConcurrentCallsPerConnection;

  @Option(
      names = "--max-connections",
      defaultValue = "10000",
      paramLabel = "N",
      description = "Most client connections (TCP) open at once; one more is closed as soon as it"
          + " is accepted. Lowered at start-up, with a warning, if the descriptor limit"
          + " (ulimit -n) cannot hold it besides the journal's reserve (default:"
          + " ${DEFAULT-VALUE}).")
  int maxConnections;

  @Option(
      names = "--max-connections-per-address",
      defaultValue = "1000",
      paramLabel = "N",
      description = "Most connections open at once from one remote IP address; one more is closed"
          + " as soon as it is accepted (default: ${DEFAULT-VALUE}).")
  int maxConnectionsPerAddress;

  @Option(
      names = "--handshake-timeout",
      defaultValue = "10",
      paramLabel = "SECONDS",
      description = "Close a connection that has not completed its TLS and HTTP/2 handshake"
          + " (the client's preface and SETTINGS) within this time (default: ${DEFAULT-VALUE}).")
  long handshakeTimeoutSeconds;

  @Option(
      names = "--max-pending-outbound-bytes",
      defaultValue = "134217728",
      paramLabel = "BYTES",
      description = "Most reply bytes the server holds for clients that have not read them yet"
          + " (HTTP/2 flow control), over all connections; while it holds more, new calls are"
          + " refused with RESOURCE_EXHAUSTED (default: ${DEFAULT-VALUE}, 128 MiB).")
  long maxPendingOutboundBytes;

  @Option(
      names = "--max-pending-outbound-bytes-per-connection",
      defaultValue = "16777216",
      paramLabel = "BYTES",
      description = "The same per connection: while a connection holds more unread reply bytes,"
          + " its new calls are refused with RESOURCE_EXHAUSTED (default: ${DEFAULT-VALUE},"
          + " 16 MiB).")
  long maxPendingOutboundBytesPerConnection;

  @Option(
      names = "--keepalive-time",
      defaultValue = "60",
      paramLabel = "SECONDS",
      description = "Ping a client after this long without traffic, so that vanished clients"
          + " (and their streams) are noticed (default: ${DEFAULT-VALUE}).")
  long keepaliveTimeSeconds;

  @Option(
      names = "--keepalive-timeout",
      defaultValue = "20",
      paramLabel = "SECONDS",
      description = "Close the connection if a ping is not answered within this time (default:"
          + " ${DEFAULT-VALUE}).")
  long keepaliveTimeoutSeconds;

  @Option(
      names = "--permit-keepalive-time",
      defaultValue = "10",
      paramLabel = "SECONDS",
      description = "Clients may ping at most this often (also without open calls); a client that"
          + " pings more often is disconnected (default: ${DEFAULT-VALUE}).")
  long permitKeepaliveTimeSeconds;

  @Option(
      names = "--max-connection-age",
      defaultValue = "1800",
      paramLabel = "SECONDS",
      description = "Ask clients to reconnect after this long (GOAWAY), which spreads them over"
          + " servers behind a load balancer; running calls go on. 0 = never (default:"
          + " ${DEFAULT-VALUE}).")
  long maxConnectionAgeSeconds;

  @Option(
      names = "--max-connection-age-grace",
      defaultValue = "0",
      paramLabel = "SECONDS",
      description = "After --max-connection-age, cancel the calls still running after this long."
          + " 0 = never: WatchStarted streams run until their client ends them (default:"
          + " ${DEFAULT-VALUE}).")
  long maxConnectionAgeGraceSeconds;

  // ---- threads -------------------------------------------------------------------------------

  @Option(
      names = "--handler-threads",
      defaultValue = "0",
      paramLabel = "N",
      description = "0 (default): run call handlers on the transport's event-loop threads, the"
          + " cheapest way: handlers never wait for I/O (a change is answered when its journal"
          + " fsync completes, from the journal's thread) and hold a pipeline's lock only briefly."
          + " N > 0: run them on a pool of N threads instead.")
  int handlerThreads;

  // ---- metrics -------------------------------------------------------------------------------

  @Option(
      names = "--metrics-port",
      paramLabel = "PORT",
      description = "Serve Prometheus metrics on http://<metrics-bind>:PORT/metrics (9464 is"
          + " customary; 0 picks a free port, logged). Default: no metrics.")
  Integer metricsPort;

  @Option(
      names = "--metrics-bind",
      defaultValue = "127.0.0.1",
      paramLabel = "ADDRESS",
      description = "Address of the metrics endpoint (default: ${DEFAULT-VALUE}; 0.0.0.0 to let a"
          + " remote Prometheus scrape it: it has no authentication).")
  String metricsBind;

  /** Flag combinations that cannot work; empty when all is well. */
  public List<String> problems() {
    List<String> out = new ArrayList<>();
    if ((tlsCert == null) != (tlsKey == null)) {
      out.add("--tls-cert and --tls-key go together");
    }
    if (tlsClientCa != null && tlsCert == null) {
      out.add("--tls-client-ca needs --tls-cert and --tls-key (mutual TLS is TLS)");
    }
    positive(out, "--max-message-bytes", maxMessageBytes);
    positive(out, "--max-items-per-call", maxItemsPerCall);
    positive(out, "--max-watchers-per-pipeline", maxWatchersPerPipeline);
    positive(out, "--event-retention", eventRetention);
    positive(out, "--max-pipelines", maxPipelines);
    if (maxHeapPercent < 50 || maxHeapPercent > 100) {
      out.add("--max-heap-percent must be 50..100 (100 = off), got " + maxHeapPercent);
    }
    positive(out, "--max-concurrent-calls-per-connection", maxConcurrentCallsPerConnection);
    positive(out, "--max-connections", maxConnections);
    positive(out, "--max-connections-per-address", maxConnectionsPerAddress);
    positive(out, "--handshake-timeout", handshakeTimeoutSeconds);
    positive(out, "--max-pending-outbound-bytes", maxPendingOutboundBytes);
    positive(out, "--max-pending-outbound-bytes-per-connection",
        maxPendingOutboundBytesPerConnection);
    positive(out, "--keepalive-time", keepaliveTimeSeconds);
    positive(out, "--keepalive-timeout", keepaliveTimeoutSeconds);
    notNegative(out, "--permit-keepalive-time", permitKeepaliveTimeSeconds);
    notNegative(out, "--max-connection-age", maxConnectionAgeSeconds);
    notNegative(out, "--max-connection-age-grace", maxConnectionAgeGraceSeconds);
    notNegative(out, "--handler-threads", handlerThreads);
    if (metricsPort != null && (metricsPort < 0 || metricsPort > 65535)) {
      out.add("--metrics-port must be 0..65535 (got " + metricsPort + ")");
    }
    return out;
  }

  private static void positive(List<String> out, String flag, long value) {
    if (value < 1) {
      out.add(flag + " must be ≥ 1 (got " + value + ")");
    }
  }

  private static void notNegative(List<String> out, String flag, long value) {
    if (value < 0) {
      out.add(flag + " must be ≥ 0 (got " + value + ")");
    }
  }

  boolean tls() {
    return tlsCert != null;
  }

  boolean authenticated() {
    return tokenFile != null || tlsClientCa != null;
  }

  /**
   * Why the server must not listen on {@code bind} as configured, or null if it may: a
   * non-loopback address needs TLS and authentication (tokens or client certificates) unless
   * {@code --insecure}.
   */
  String exposureProblem(String bind) throws UnknownHostException {
    if (InetAddress.getByName(bind).isLoopbackAddress() || insecure) {
      return null;
    }
    List<String> missing = new ArrayList<>();
    if (!tls()) {
      missing.add("TLS (--tls-cert and --tls-key)");
    }
    if (!authenticated()) {
      missing.add("authentication (--token-file, or client certificates with --tls-client-ca)");
    }
    if (missing.isEmpty()) {
      return null;
    }
    return "refusing to listen on " + bind + ", which is not a loopback address, without "
        + String.join(" and ", missing) + ": anyone who reaches it could read and change every"
        + " pipeline. Add them, bind 127.0.0.1, or pass --insecure to run this way anyway.";
  }

  /** The token file, read and checked, or null when none is configured. */
  public TokenFile tokens() throws IOException {
    if (tokenFile == null) {
      return null;
    }
    return TokenFile.read(tokenFile);
  }

  /** Whether a secret file can be read by other users (worth a warning, not a refusal). */
  static boolean readableByOthers(Path file) {
    try {
      var perms = Files.getPosixFilePermissions(file);
      return perms.contains(PosixFilePermission.OTHERS_READ)
          || perms.contains(PosixFilePermission.GROUP_READ);
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  Limits limits() {
    return new Limits(maxItemsPerCall, maxWatchersPerPipeline, maxPipelines, eventRetention)
        .withHeap(HeapGuard.watchThisJvm(maxHeapPercent));
  }

  /**
   * The connection limiter of the last {@link #nettyServerBuilder}; {@link #settings} hands it to
   * the server, which exports its counts and stops its event loops.
   */
  private ConnectionLimiter connectionLimiter;

  /**
   * A Netty server builder on {@code bind:port} with TLS (if set), limits, keepalive and the
   * connection caps (see {@link NettyTransport}).
   */
  public NettyServerBuilder nettyServerBuilder(String bind, int port) throws IOException {
    NettyTransport.Built built = NettyTransport.builder(this, bind, port);
    connectionLimiter = built.limiter();
    return built.builder();
  }

  /** The settings of the server besides its transport. */
  public ServerSettings settings(int watchBuffer, TokenFile tokens) {
    ServerSettings s = ServerSettings.defaults()
        .withWatchBufferCapacity(watchBuffer)
        .withLimits(limits())
        .withTokens(tokens)
        .withConnectionLimiter(connectionLimiter)
        .withOutboundBudget(
            new OutboundBudget(maxPendingOutboundBytesPerConnection, maxPendingOutboundBytes));
    return metricsPort == null ? s : s.withMetrics(metricsBind, metricsPort);
  }

  /**
   * How a cluster node dials the other members' API to relay a stream (docs/cluster.md, "Streams
   * on a node outside the pipeline's group"): with {@code --tls-cert}, TLS presenting this node's
   * certificate and trusting the nodes' CA ({@code --raft-tls-ca}, else {@code --tls-client-ca},
   * else the JVM's default roots); else null, plaintext.
   */
  public io.grpc.ChannelCredentials memberCredentials(Path raftTlsCa) throws IOException {
    // The nodes' certificates (the API's too) are of the nodes' CA: --raft-tls-ca when given.
    Path ca = raftTlsCa != null ? raftTlsCa : tlsClientCa;
    return !tls() ? null : dev.lightspeed.orchestrator.grpc.MemberChannels.tls(tlsCert.toFile(),
        tlsKey.toFile(), ca == null ? null : ca.toFile());
  }

  /** The dashboard's HTTP server on {@code bind:port}, with this TLS and message limit. */
  DashboardHttpServer dashboardServer(io.grpc.ServerServiceDefinition service, TokenFile tokens,
      String bind, int port) {
    return new DashboardHttpServer(service, tokens, bind, port,
        tls() ? tlsCert.toFile() : null, tls() ? tlsKey.toFile() : null,
        tlsClientCa == null ? null : tlsClientCa.toFile(), maxMessageBytes);
  }
}
