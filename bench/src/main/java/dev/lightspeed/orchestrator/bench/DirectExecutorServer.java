package dev.lightspeed.orchestrator.bench;

import dev.lightspeed.orchestrator.server.Durability;
import dev.lightspeed.orchestrator.server.OrchestratorServer;
import io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.TimeUnit;

/**
 * An experiment, not a product: the real {@link OrchestratorServer} and {@link Durability},
 * built through their public constructors exactly as {@code ServerMain} builds them, except that
 * the Netty server runs handlers on its event loops ({@code directExecutor()}) instead of
 * grpc-java's default executor. It answers "what would directExecutor() on the server give?"
 * without touching server/ — run it with {@code LoadGenerator --server-main
 * dev.lightspeed.orchestrator.bench.DirectExecutorServer}.
 *
 * <p>Arguments: {@code --bind ADDR --port N} and either {@code --in-memory} or {@code --data-dir
 * DIR} (fsync always), as ServerMain takes them. ServerMain now runs handlers this way by
 * default ({@code --handler-threads 0}), with snapshots that no longer hold the pipeline lock;
 * this class is kept so that older results can be reproduced.
 */
public final class DirectExecutorServer {
  private DirectExecutorServer() {}

  public static void main(String[] args) throws Exception {
    String bind = "127.0.0.1";
    int port = 0;
    Path dataDir = null;
    boolean inMemory = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--bind" -> bind = args[++i];
        case "--port" -> port = Integer.parseInt(args[++i]);
        case "--data-dir" -> dataDir = Path.of(args[++i]);
        case "--in-memory" -> inMemory = true;
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    Durability durability = inMemory || dataDir == null
        ? Durability.inMemory()
        : Durability.open(Durability.Options.defaults(dataDir));
    OrchestratorServer server = new OrchestratorServer(
        NettyServerBuilder.forAddress(new InetSocketAddress(bind, port)).directExecutor(),
        Clock.systemUTC(), 4096, durability);
    server.start();
    System.out.println("DirectExecutorServer (experiment) listening on " + bind + ":" + server.port());
    System.out.flush();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        server.stop(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }));
    server.awaitTermination();
  }
}
