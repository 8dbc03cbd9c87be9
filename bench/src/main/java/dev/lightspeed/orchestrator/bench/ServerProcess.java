package dev.lightspeed.orchestrator.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real server jar ({@code java -jar ...-all.jar}) in its own JVM, so that the load generator
 * and the server share neither a JIT nor a heap. Its output goes to a log file, which is also how
 * the port ({@code --port 0}) and the recovery time are learnt.
 */
final class ServerProcess implements ServerUnderTest, AutoCloseable {
  private static final Pattern LISTENING = Pattern.compile("listening on [^:\\s]+:(\\d+)");
  private static final Pattern RECOVERED =
      Pattern.compile("recovered (\\d+) pipelines from .* \\((a|no) snapshot \\+ (\\d+) journal records\\) in (\\d+) ms");

  final Process process;
  final Path log;
  final int port;
  /** From spawning the JVM to its "listening" log line. */
  final long startMillis;
  final List<String> command;

  private ServerProcess(Process process, Path log, int port, long startMillis, List<String> command) {
    this.process = process;
    this.log = log;
    this.port = port;
    this.startMillis = startMillis;
    this.command = command;
  }

  /**
   * Starts {@code java <jvmFlags> -jar <jar> --bind 127.0.0.1 --port 0 <args>} and waits for
   * "listening on".
   */
  static ServerProcess start(Path jar, List<String> jvmFlags, Path log, List<String> args)
      throws IOException, InterruptedException {
    return start(jar, null, jvmFlags, log, args);
  }

  /**
   * As above; with {@code mainClass} set, runs {@code java -cp <the benchmarks jar> mainClass}
   * instead of the server jar (for experiments).
   */
  static ServerProcess start(
      Path jar, String mainClass, List<String> jvmFlags, Path log, List<String> args)
      throws IOException, InterruptedException {
    if (mainClass == null && !Files.isRegularFile(jar)) {
      throw new IOException("server jar " + jar + " not found; build it with `make build`");
    }
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmFlags);
    if (mainClass == null) {
      command.addAll(List.of("-jar", jar.toString()));
    } else {
      command.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
    }
    command.addAll(List.of("--bind", "127.0.0.1", "--port", "0"));
    command.addAll(args);
    Files.createDirectories(log.toAbsolutePath().getParent());
    long spawned = System.nanoTime();
    Process process = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
    long deadline = spawned + TimeUnit.SECONDS.toNanos(120);
    while (true) {
      String text = Files.readString(log);
      Matcher m = LISTENING.matcher(text);
      if (m.find()) {
        long millis = (System.nanoTime() - spawned) / 1_000_000;
        return new ServerProcess(process, log, Integer.parseInt(m.group(1)), millis, command);
      }
      if (!process.isAlive() || System.nanoTime() > deadline) {
        process.destroyForcibly();
        throw new IOException("server did not start (see " + log + "):\n" + text);
      }
      Thread.sleep(2);
    }
  }

  /** The "recovered ..." log line: {pipelines, snapshot (1/0), journal records, ms}, or null. */
  long[] recovered() throws IOException {
    Matcher m = RECOVERED.matcher(Files.readString(log));
    if (!m.find()) {
      return null;
    }
    return new long[] {
      Long.parseLong(m.group(1)), m.group(2).equals("a") ? 1 : 0, Long.parseLong(m.group(3)),
      Long.parseLong(m.group(4))
    };
  }

  /**
   * How many background snapshots the server has logged so far (not the one at shutdown): a case
   * with one inside its window pays for it, so its row says so.
   */
  @Override
  public long snapshotsLogged() throws IOException {
    try (var lines = Files.lines(log)) {
      return lines.filter(l -> l.contains("snapshot at journal record") && !l.contains("at shutdown"))
          .count();
    }
  }

  /** User + system CPU time of the server process so far, in ms (from /proc). */
  @Override
  public long cpuMillis() {
    return ProcStat.cpuMillis(process.pid());
  }

  @Override
  public long jitMillis() {
    return ProcStat.jitMillis(process.pid());
  }

  long pid() {
    return process.pid();
  }

  /** SIGTERM: a graceful stop, which takes a final snapshot. */
  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroy();
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }
}
