package dev.lightspeed.orchestrator.client.history;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import dev.lightspeed.orchestrator.client.errors.OrchestratorException;
import io.grpc.Status;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Records client calls as a history for the linearizability checker (tools/lincheck): one JSON
 * line per call with the client's id, the operation, its input, its output and the
 * {@link System#nanoTime} just before the call and just after its reply. All clients of one
 * history must share one recorder (one JVM's clock). docs/cluster.md ("Checking histories")
 * documents the format.
 *
 * <p>A refusal with an ErrorInfo reason changed nothing (SPEC: "a refused call changes
 * nothing"), so it is a definite output. A call that ended any other way (DEADLINE_EXCEEDED,
 * UNAVAILABLE, a dropped connection, a killed server) may or may not have taken effect: its
 * output is {@code "unknown"}, and the checker lets it take effect at any time after its call,
 * or never.
 */
public final class HistoryRecorder implements AutoCloseable {
  /** Codes that say the outcome is not known, whatever detail the status carries. */
  private static final Set<Status.Code> UNKNOWN_OUTCOME = EnumSet.of(
      Status.Code.UNAVAILABLE, Status.Code.DEADLINE_EXCEEDED, Status.Code.CANCELLED,
      Status.Code.UNKNOWN, Status.Code.INTERNAL, Status.Code.DATA_LOSS);

  private final Path file;
  private final BufferedWriter out;
  private final List<JsonObject> lines = new ArrayList<>();

  public HistoryRecorder(Path file) throws IOException {
    this.file = file;
    Files.createDirectories(file.toAbsolutePath().getParent());
    this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
  }

  public Path file() {
    return file;
  }

  /** The settings of {@code pipeline} the checker's model needs. */
  public void config(String pipeline, int maxAttempts) {
    JsonObject line = new JsonObject();
    line.addProperty("op", "config");
    line.addProperty("pipeline", pipeline);
    line.addProperty("maxAttempts", maxAttempts);
    write(line);
  }

  /**
   * Runs {@code call}, records it with {@code output}'s description of its result, and returns the
   * result; a failed call is recorded and its exception rethrown.
   */
  public <T> T record(int client, String op, String pipeline, JsonObject input, Supplier<T> call,
      Function<T, JsonObject> output) {
    long called = System.nanoTime();
    T result;
    try {
      result = call.get();
    } catch (RuntimeException e) {
      long returned = System.nanoTime();
      write(line(client, op, pipeline, input, called, returned, failure(e)));
      throw e;
    }
    long returned = System.nanoTime();
    write(line(client, op, pipeline, input, called, returned, output.apply(result)));
    return result;
  }

  /** A refusal's reason, or "unknown" when the call may or may not have taken effect. */
  static JsonElement failure(RuntimeException e) {
    if (e instanceof OrchestratorException oe && !UNKNOWN_OUTCOME.contains(oe.code())
        && !oe.reasonName().equals(oe.code().name())) {
      JsonObject refused = new JsonObject();
      refused.addProperty("error", oe.reasonName());
      return refused;
    }
    return new JsonPrimitive("unknown");
  }

  private static JsonObject line(int client, String op, String pipeline, JsonObject input,
      long called, long returned, JsonElement output) {
    JsonObject line = new JsonObject();
    line.addProperty("client", client);
    line.addProperty("op", op);
    line.addProperty("pipeline", pipeline);
    if (input != null) {
      line.add("input", input);
    }
    line.addProperty("call", called);
    line.addProperty("return", returned);
    line.add("output", output);
    return line;
  }

  /** Appends a line as is: also for tests that add a hand-made call to a recorded history. */
  public synchronized void write(JsonObject line) {
    lines.add(line);
    try {
      out.write(line.toString());
      out.write('\n');
      out.flush(); // a history must survive the test JVM dying: it is the evidence
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every recorded line so far, in the order written. */
  public synchronized List<JsonObject> lines() {
    return List.copyOf(lines);
  }

  /** The last line recorded for {@code client}, or null: to say which call failed. */
  public synchronized JsonObject lastOf(int client) {
    for (int i = lines.size() - 1; i >= 0; i--) {
      JsonObject line = lines.get(i);
      if (line.has("client") && line.get("client").getAsInt() == client) {
        return line;
      }
    }
    return null;
  }

  @Override
  public synchronized void close() throws IOException {
    out.close();
  }
}
