package dev.lightspeed.orchestrator.cluster;

import java.io.Closeable;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;

/**
 * Calls one Raft group: a Ratis {@link RaftClient} that finds the leader itself and, when the
 * leader goes away, retries on the other members until one is elected (bounded by its retry
 * policy). Thread-safe.
 */
public final class GroupClient implements Closeable {
  /** With requestTimeout per attempt, this bounds a call to about a minute of failover. */
  private static final int MAX_ATTEMPTS = 30;

  private final RaftClient client;

  public GroupClient(ClusterLayout layout, int group, RaftTuning tuning) {
    this.client = RaftClient.newBuilder()
        .setProperties(RaftProps.of(tuning))
        .setParameters(new Parameters())
        .setRaftGroup(layout.raftGroup(group))
        .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(
            MAX_ATTEMPTS, TimeDuration.valueOf(200, TimeUnit.MILLISECONDS)))
        .build();
  }

  /** A reply's bytes and the log index it was committed at (or read after). */
  public record Reply(byte[] bytes, long index) {}

  /** Replicates the command: the reply comes once a majority has it and the leader applied it. */
  public Reply write(byte[] command) throws IOException {
    return unwrap(client.io().send(message(command)));
  }

  /**
   * A linearizable read (read index): the leader confirms it still leads, waits until it has
   * applied everything committed before the read arrived, then asks its state.
   */
  public Reply read(byte[] request) throws IOException {
    return unwrap(client.io().sendReadOnly(message(request)));
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
    return client.async().send(message(command)).thenApply(GroupClient::unwrapUnchecked);
  }

  /** As {@link #read} (read index on the leader), without holding a thread. */
  public CompletableFuture<Reply> readAsync(byte[] request) {
    return client.async().sendReadOnly(message(request)).thenApply(GroupClient::unwrapUnchecked);
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
    client.close();
  }
}
