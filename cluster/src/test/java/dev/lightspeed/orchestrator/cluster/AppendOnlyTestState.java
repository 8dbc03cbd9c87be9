package dev.lightspeed.orchestrator.cluster;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * TEST DOUBLE, not the orchestrator's state: it only proves the replication plumbing. Each
 * command is {@code now_ms (8 bytes, big-endian) + UTF-8 text}; the state is the list of
 * {@code "<index>@<now_ms>:<text>"} lines in apply order. Equal lists on two replicas mean they
 * applied the same commands at the same indexes with the same time.
 */
class AppendOnlyTestState implements ReplicatedState {
  private final List<String> lines = new ArrayList<>();
  private long lastApplied;
  /** The index of each snapshot that replaced this state, in order (none: all from the log). */
  private final List<Long> restoredAt = new ArrayList<>();

  static byte[] command(long nowMs, String text) {
    byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(8 + utf8.length).putLong(nowMs).put(utf8).array();
  }

  @Override
  public synchronized byte[] apply(long index, byte[] command) {
    ByteBuffer buffer = ByteBuffer.wrap(command);
    long nowMs = buffer.getLong();
    String text = StandardCharsets.UTF_8.decode(buffer).toString();
    lines.add(index + "@" + nowMs + ":" + text);
    lastApplied = index;
    return String.valueOf(lines.size()).getBytes(StandardCharsets.UTF_8);
  }

  /** How many of this replica's replies were encoded (read by Ratis). */
  private final java.util.concurrent.atomic.AtomicInteger repliesEncoded =
      new java.util.concurrent.atomic.AtomicInteger();

  /** Applies now; the reply (the line count then) is encoded, and counted, when read. */
  @Override
  public synchronized java.util.function.Supplier<byte[]> applyDeferringReply(
      long index, byte[] command) {
    byte[] reply = apply(index, command);
    Thread applier = Thread.currentThread();
    return () -> {
      repliesEncoded.incrementAndGet();
      if (Thread.currentThread() == applier) {
        encodedOnTheApplyThread.incrementAndGet();
      }
      return reply;
    };
  }

  /** Of those, how many were encoded on the thread that applied the command. */
  private final java.util.concurrent.atomic.AtomicInteger encodedOnTheApplyThread =
      new java.util.concurrent.atomic.AtomicInteger();

  int repliesEncoded() {
    return repliesEncoded.get();
  }

  int encodedOnTheApplyThread() {
    return encodedOnTheApplyThread.get();
  }

  /** "size" → the number of lines; anything else → the last line. */
  @Override
  public synchronized byte[] query(byte[] request) {
    String q = new String(request, StandardCharsets.UTF_8);
    String answer = q.equals("size")
        ? String.valueOf(lines.size())
        : (lines.isEmpty() ? "" : lines.get(lines.size() - 1));
    return answer.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public synchronized long lastAppliedIndex() {
    return lastApplied;
  }

  @Override
  public synchronized void snapshot(OutputStream out) throws IOException {
    DataOutputStream data = new DataOutputStream(out);
    data.writeLong(lastApplied);
    data.writeInt(lines.size());
    for (String line : lines) {
      data.writeUTF(line);
    }
    data.flush();
  }

  @Override
  public synchronized void restore(InputStream in) throws IOException {
    DataInputStream data = new DataInputStream(in);
    long applied = data.readLong();
    int n = data.readInt();
    List<String> read = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      read.add(data.readUTF());
    }
    lines.clear();
    lines.addAll(read);
    lastApplied = applied;
    restoredAt.add(applied);
  }

  synchronized List<String> lines() {
    return List.copyOf(lines);
  }

  synchronized List<Long> restoredAt() {
    return List.copyOf(restoredAt);
  }
}
