package dev.lightspeed.orchestrator.client.history;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The Go checker tools/lincheck, built once per JVM into {@code target/lincheck/} with the
 * {@code go} on PATH (the same Go that builds client-go), and run on a history file. Its
 * directory comes from the system property {@code lincheck.dir} (failsafe sets it).
 */
final class Lincheck {
  /** The checker's exit code and what it printed. */
  record Result(int exitCode, String output) {
    boolean linearizable() {
      return exitCode == 0;
    }
  }

  private static Path binary;

  private Lincheck() {}

  /** Runs the checker on {@code history}; a failure writes {@code history + ".html"}. */
  static Result check(Path history) throws IOException, InterruptedException {
    return run(List.of(build().toString(), history.toString()));
  }

  private static synchronized Path build() throws IOException, InterruptedException {
    if (binary == null) {
      Path source = Path.of(System.getProperty("lincheck.dir", "../tools/lincheck"));
      Path out = Path.of("target", "lincheck", "lincheck").toAbsolutePath();
      Result built;
      try {
        built = run(source, List.of("go", "build", "-buildvcs=false", "-o", out.toString(), "."));
      } catch (IOException e) {
        throw new IllegalStateException("the linearizability checker is a Go program: it needs"
            + " `go` on PATH (as client-go does)", e);
      }
      if (built.exitCode != 0) {
        throw new IllegalStateException("go build in " + source + " failed:\n" + built.output);
      }
      binary = out;
    }
    return binary;
  }

  private static Result run(List<String> command) throws IOException, InterruptedException {
    return run(Path.of("."), command);
  }

  private static Result run(Path dir, List<String> command)
      throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
        .start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new IllegalStateException(command + " did not finish in 5 minutes:\n" + output);
    }
    return new Result(p.exitValue(), output);
  }

  /** For messages: the file's path, or a note that it is missing. */
  static String describe(Path file) {
    return Files.exists(file) ? file.toAbsolutePath().toString() : file + " (not written)";
  }
}
