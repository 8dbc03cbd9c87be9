package dev.lightspeed.orchestrator.client.history;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The real server jar in a child JVM that keeps its port across kill -9 and restart, so clients
 * keep one target. One per node: a cluster test starts several, each with its own arguments.
 * The server jar comes from the system property {@code server.jar} (failsafe sets it).
 */
final class ServerNode implements AutoCloseable {
  private final Path workDir;
  private final List<String> args;
  private final int port;
  /** A cluster node takes its API address from the cluster file, not from --bind/--port. */
  private final boolean clusterNode;
  private Process process;
  private Path log;
  private int starts;

  /** A node on a free loopback port; {@link #start()} runs it. */
  ServerNode(Path workDir, String... args) throws IOException {
    this.workDir = workDir;
    this.args = List.of(args);
    try (ServerSocket s = new ServerSocket(0)) {
      this.port = s.getLocalPort();
    }
    this.clusterNode = false;
  }

  /** A cluster node whose cluster file gives it API port {@code apiPort} ({@code --cluster ...}). */
  ServerNode(Path workDir, int apiPort, List<String> args) {
    this.workDir = workDir;
    this.args = List.copyOf(args);
    this.port = apiPort;
    this.clusterNode = true;
  }

  String target() {
    return "127.0.0.1:" + port;
  }

  /** Starts the jar and waits until it listens (first start, or restart after {@link #kill()}). */
  void start() throws IOException, InterruptedException {
    String jar = System.getProperty("server.jar");
    if (jar == null || !Files.exists(Path.of(jar))) {
      throw new IllegalStateException("system property server.jar must name the built server jar"
          + " (failsafe sets it; got " + jar + "): run `mvn install` or `make build` first");
    }
    log = workDir.resolve("server-" + port + "-" + (++starts) + ".log");
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
        "-jar", jar));
    if (!clusterNode) {
      command.addAll(List.of("--bind", "127.0.0.1", "--port", Integer.toString(port)));
    }
    command.addAll(args);
    process = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(log.toFile()).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!Files.readString(log).contains("listening on")) {
      if (!process.isAlive() || System.nanoTime() > deadline) {
        process.destroyForcibly();
        throw new IllegalStateException("server did not start:\n" + Files.readString(log));
      }
      Thread.sleep(20);
    }
  }

  /**
   * SIGSTOP, later {@link #resume()} (SIGCONT): the process keeps its sockets but answers
   * nothing, as a node behind a partition looks to the others.
   */
  void pause() throws IOException, InterruptedException {
    signal("STOP");
  }

  void resume() throws IOException, InterruptedException {
    signal("CONT");
  }

  private void signal(String name) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid()))
        .inheritIO().start();
    if (kill.waitFor() != 0) {
      throw new IOException("kill -" + name + " " + process.pid() + " failed");
    }
  }

  /** The log of the current (or last) start. */
  Path log() {
    return log;
  }

  /** SIGKILL: no shutdown hook, no final snapshot, no flush. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  /**
   * A graceful stop, as an operator's restart sends it: SIGTERM, then waits until the process
   * has exited (the server drains its calls for up to --shutdown-grace, 10 s, then closes Raft).
   */
  void terminate() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      throw new IllegalStateException("the server did not exit within 60 s of SIGTERM: " + log);
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (process != null && process.isAlive()) {
      process.destroy();
      if (!process.waitFor(15, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }
}
