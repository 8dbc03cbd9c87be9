package dev.lightspeed.orchestrator.cluster;

import java.io.Closeable;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.LeaderSteppingDownException;
import org.apache.ratis.protocol.exceptions.RaftRetryFailureException;
import org.apache.ratis.retry.MultipleLinearRandomRetry;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * Calls one Raft group: a Ratis {@link RaftClient} that finds the leader itself and, when the
 * leader goes away, retries on the other members until one is elected (bounded by its retry
 * policy). Thread-safe.
 *
 * <p>Ratis' ordered async client closes itself for good when one write runs out of retries (its
 * sliding window fails every later write with {@code AlreadyClosedException}), so a group that
 * lost its majority for longer than the retries would have stayed unwritable through this node
 * after the majority came back. Such a client is replaced by a new one (the failed call still
 * fails; the caller's retry goes through the new client).
 */
public final class GroupClient implements Closeable {
  /**
   * Sends of a call refused by a leader stepping down: at least 160 x 50 ms = 8 s, which covers a
   * hand-over, which gives up after 3 s ({@code ClusterNode.HAND_OVER_TIMEOUT_MS}), and a
   * transfer Ratis left stuck, which the leader's node releases after at most 5.5 s ({@code
   * ClusterNode.STUCK_TRANSFER_MAX_MS}, see {@code StuckTransferRelease}).
   */
  private static final int STEPPING_DOWN_RETRIES = 160;
  private static final long STEPPING_DOWN_PAUSE_MS = 50;

  private final ClusterLayout layout;
  private final int group;
  private final RaftTuning tuning;
  private final RaftTls tls;
  private volatile RaftClient client;
  private volatile boolean closed;

  public GroupClient(ClusterLayout layout, int group, RaftTuning tuning) {
    this(layout, group, tuning, null);
  }

  /** Speaking mutual TLS with {@code tls} (the node's certificate), or plaintext when null. */
  public GroupClient(ClusterLayout layout, int group, RaftTuning tuning, RaftTls tls) {
    this.layout = layout;
    this.group = group;
    this.tuning = tuning;
    this.tls = tls;
    this.client = newClient();
  }

  private RaftClient newClient() {
    return RaftClient.newBuilder()
        .setProperties(RaftProps.of(tuning))
        .setParameters(RaftTls.parameters(tls))
        .setRaftGroup(layout.raftGroup(group))
        .setRetryPolicy(MultipleLinearRandomRetry.parseCommaSeparated(tuning.clientRetries()))
        .build();
  }

  /**
   * Replaces {@code failed} by a new client when a call through it ended because its retries ran
   * out or it had closed; once only per failed client, however many calls saw the failure.
   */
  private void renewAfter(RaftClient failed, Throwable error) {
    if (!givesUp(error)) {
      return;
    }
    RaftClient old;
    synchronized (this) {
      if (closed || client != failed) {
        return;
      }
      old = client;
      client = newClient();
    }
    try {
      old.close();
    } catch (IOException | RuntimeException e) {
      // Closing fails the old client's pending calls, which is what they get anyway.
    }
  }

  private static boolean givesUp(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof RaftRetryFailureException || t instanceof AlreadyClosedException) {
        return true;
      }
    }
    return false;
  }

  /** A reply's bytes and the log index it was committed at (or read after). */
  public record Reply(byte[] bytes, long index) {}

  /** Replicates the command: the reply comes once a majority has it and the leader applied it. */
  public Reply write(byte[] command) throws IOException {
    return unwrap(untilNotSteppingDown(() -> client.io().send(message(command))));
  }

  /**
   * A linearizable read (read index): the leader confirms it still leads, waits until it has
   * applied everything committed before the read arrived, then asks its state.
   */
  public Reply read(byte[] request) throws IOException {
    return unwrap(untilNotSteppingDown(() -> client.io().sendReadOnly(message(request))));
  }

  /**
   * A read from one node's state as it is, once it has applied {@code minIndex}: it may miss
   * writes committed after that (the {@code stale_ok} option of issue 17).
   */
  public Reply staleRead(byte[] request, String nodeId, long minIndex) throws IOException {
    return unwrap(client.io().sendStaleRead(message(request), minIndex, RaftPeerId.valueOf(nodeId)));
  }

  /**
   * As {@link #write}, without holding a thread: the future completes with the leader's apply
   * reply, or fails (a {@link java.util.concurrent.CompletionException} around the cause) when
   * the retries ran out without a leader.
   */
  public CompletableFuture<Reply> writeAsync(byte[] command) {
    return untilNotSteppingDownAsync(() -> {
      RaftClient c = client;
      return c.async().send(message(command))
          .whenComplete((reply, error) -> {
            if (error != null) {
              renewAfter(c, error);
            } else if (!reply.isSuccess()) {
              renewAfter(c, reply.getException());
            }
          });
    }, STEPPING_DOWN_RETRIES).thenApply(GroupClient::unwrapUnchecked);
  }

  /** As {@link #read} (read index on the leader), without holding a thread. */
  public CompletableFuture<Reply> readAsync(byte[] request) {
    return untilNotSteppingDownAsync(() -> client.async().sendReadOnly(message(request)),
        STEPPING_DOWN_RETRIES).thenApply(GroupClient::unwrapUnchecked);
  }

  /**
   * A leader that is handing its leadership over (a member's graceful stop, {@link
   * ClusterNode#close}) refuses new requests with {@link LeaderSteppingDownException} before it
   * appends them, and Ratis' client returns that refusal instead of retrying. Nothing was applied,
   * so the call is sent again after a short pause: once the hand-over is done, the old leader
   * answers NotLeader naming the new one, and the client goes there (RollingRestartIT failed
   * with "is stepping down" before this).
   */
  private RaftClientReply untilNotSteppingDown(RaftCall call) throws IOException {
    for (int tries = 0; ; tries++) {
      boolean last = tries >= STEPPING_DOWN_RETRIES;
      try {
        RaftClientReply reply = call.send();
        if (last || !steppingDown(reply.isSuccess() ? null : reply.getException())) {
          return reply;
        }
      } catch (IOException e) {
        if (last || !steppingDown(e)) {
          throw e;
        }
      }
      try {
        Thread.sleep(STEPPING_DOWN_PAUSE_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while the group's leader was stepping down", e);
      }
    }
  }

  /** As {@link #untilNotSteppingDown}; the refusal comes as a reply or as the future's failure. */
  private static CompletableFuture<RaftClientReply> untilNotSteppingDownAsync(
      Supplier<CompletableFuture<RaftClientReply>> call, int triesLeft) {
    CompletableFuture<RaftClientReply> sent = call.get();
    return sent.handle((reply, error) -> {
      Throwable refusal = error != null ? error : reply.isSuccess() ? null : reply.getException();
      if (triesLeft <= 0 || !steppingDown(refusal)) {
        return sent;
      }
      return CompletableFuture.supplyAsync(() -> null, CompletableFuture.delayedExecutor(
              STEPPING_DOWN_PAUSE_MS, TimeUnit.MILLISECONDS))
          .thenCompose(ignored -> untilNotSteppingDownAsync(call, triesLeft - 1));
    }).thenCompose(f -> f);
  }

  private static boolean steppingDown(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof LeaderSteppingDownException) {
        return true;
      }
    }
    return false;
  }

  /** A blocking Raft call. */
  private interface RaftCall {
    RaftClientReply send() throws IOException;
  }

  private static Reply unwrapUnchecked(RaftClientReply reply) {
    try {
      return unwrap(reply);
    } catch (IOException e) {
      throw new CompletionException(e);
    }
  }

  /** The leader this client last talked to, or null. */
  public String leaderId() {
    RaftPeerId leader = client.getLeaderId();
    return leader == null ? null : leader.toString();
  }

  private static Message message(byte[] bytes) {
    return Message.valueOf(ByteString.copyFrom(bytes));
  }

  private static Reply unwrap(RaftClientReply reply) throws IOException {
    if (!reply.isSuccess()) {
      throw new IOException("Raft call failed: " + reply.getException(), reply.getException());
    }
    return new Reply(reply.getMessage().getContent().toByteArray(), reply.getLogIndex());
  }

  @Override
  public void close() throws IOException {
    synchronized (this) {
      closed = true;
    }
    client.close();
  }
}
