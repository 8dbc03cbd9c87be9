package dev.lightspeed.orchestrator.server;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The real server jar in a child JVM, for tests that kill it. */
final class ServerProcess implements AutoCloseable {
  private final Process process;
  private final Path log;
  final int port;

  private ServerProcess(Process process, Path log, int port) {
    this.process = process;
    this.log = log;
    this.port = port;
  }

  /** Starts {@code java -jar server.jar --port <free> ...args} and waits until it listens. */
  static ServerProcess start(Path workDir, String... args) throws IOException, InterruptedException {
    return start(workDir, List.of(), args);
  }

  /** As {@link #start(Path, String...)}, with options for the child JVM (e.g. log levels). */
  static ServerProcess start(Path workDir, List<String> jvmOptions, String... args)
      throws IOException, InterruptedException {
    String jar = System.getProperty("server.jar");
    if (jar == null || !Files.exists(Path.of(jar))) {
      throw new IllegalStateException("system property server.jar must name the built server jar"
          + " (failsafe sets it; got " + jar + ")");
    }
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path log = Files.createTempFile(workDir, "server", ".log");
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx512m"));
    command.addAll(jvmOptions);
    command.addAll(List.of(
        "-jar", jar, "--bind", "127.0.0.1", "--port", Integer.toString(port)));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
    ServerProcess server = new ServerProcess(process, log, port);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!Files.readString(log).contains("listening on")) {
      if (!process.isAlive() || System.nanoTime() > deadline) {
        process.destroyForcibly();
        throw new IllegalStateException("server did not start:\n" + Files.readString(log));
      }
      Thread.sleep(20);
    }
    return server;
  }

  /** SIGKILL: no shutdown hook, no final snapshot, no flush. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  long pid() {
    return process.pid();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  String log() throws IOException {
    return Files.readString(log);
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroy(); // SIGTERM: graceful
      if (!process.waitFor(15, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }
}
