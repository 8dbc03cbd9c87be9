package dev.lightspeed.orchestrator.replication;

import dev.lightspeed.orchestrator.cluster.GroupClient;
import dev.lightspeed.orchestrator.grpc.ClusterEntries;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Group commit for one Raft group, on the node that took the calls: while {@code maxInFlight} of
 * this node's writes to the group are being replicated, the calls that arrive wait, and the next
 * write carries all of them as one log entry ({@link ClusterEntries#batch}); the group applies
 * them in that order at one index and answers each ({@link GroupState}).
 *
 * <p>Why: a cluster's cost is per log entry, not per command: the Raft client's request, the
 * leader's append and flush, one append-entries message per follower, one apply call, one reply,
 * each through Ratis' and gRPC's layers (JFR shows them spread thin, no hot spot). A single server
 * already writes all calls waiting for the disk with one fsync; this gives the cluster the same.
 * An idle group sends a call at once, alone, in the format it always had: batching only ever
 * starts when calls would otherwise wait behind the ones in flight.
 */
final class EntryBatcher {
  /** Replicated writes of this node to the group at once; the rest wait and go together. */
  static final int MAX_IN_FLIGHT = 2;
  /** A batch holds at most this many entries... */
  static final int MAX_ENTRIES = 256;
  /** ...and about this many bytes (one larger entry still goes, alone). */
  static final int MAX_BYTES = 1 << 20;

  private final Function<byte[], CompletableFuture<GroupClient.Reply>> send;
  private final int maxInFlight;
  private final ArrayDeque<Pending> waiting = new ArrayDeque<>();
  private int inFlight;

  private record Pending(byte[] entry, CompletableFuture<GroupClient.Reply> reply) {}

  EntryBatcher(Function<byte[], CompletableFuture<GroupClient.Reply>> send) {
    this(send, MAX_IN_FLIGHT);
  }

  EntryBatcher(Function<byte[], CompletableFuture<GroupClient.Reply>> send, int maxInFlight) {
    this.send = send;
    this.maxInFlight = maxInFlight;
  }

  /** Replicates {@code entry}, alone or with others: completes with its own reply. */
  CompletableFuture<GroupClient.Reply> write(byte[] entry) {
    Pending p = new Pending(entry, new CompletableFuture<>());
    synchronized (this) {
      waiting.add(p);
    }
    drain();
    return p.reply;
  }

  private void drain() {
    while (true) {
      List<Pending> batch = new ArrayList<>();
      synchronized (this) {
        if (inFlight >= maxInFlight || waiting.isEmpty()) {
          return;
        }
        int bytes = 0;
        while (!waiting.isEmpty() && batch.size() < MAX_ENTRIES
            && (batch.isEmpty() || bytes + waiting.peek().entry.length <= MAX_BYTES)) {
          Pending p = waiting.poll();
          bytes += p.entry.length;
          batch.add(p);
        }
        inFlight++;
      }
      send(batch);
    }
  }

  private void send(List<Pending> batch) {
    CompletableFuture<GroupClient.Reply> sent;
    try {
      sent = send.apply(batch.size() == 1 ? batch.get(0).entry
          : ClusterEntries.batch(batch.stream().map(Pending::entry).toList()));
    } catch (RuntimeException e) {
      sent = CompletableFuture.failedFuture(e);
    }
    sent.whenComplete((reply, failure) -> {
      synchronized (this) {
        inFlight--;
      }
      try {
        answer(batch, reply, failure);
      } finally {
        drain();
      }
    });
  }

  private static void answer(List<Pending> batch, GroupClient.Reply reply, Throwable failure) {
    if (failure != null) {
      batch.forEach(p -> p.reply.completeExceptionally(failure));
      return;
    }
    if (batch.size() == 1) {
      batch.get(0).reply.complete(reply);
      return;
    }
    List<byte[]> replies;
    try {
      replies = ClusterEntries.parseReplies(reply.bytes());
      if (replies.size() != batch.size() && replies.size() != 1) {
        throw new IOException(replies.size() + " replies");
      }
    } catch (IOException e) {
      IllegalStateException broken = new IllegalStateException(
          "the group's reply to a batch of " + batch.size() + " commands is unreadable", e);
      batch.forEach(p -> p.reply.completeExceptionally(broken));
      return;
    }
    for (int i = 0; i < batch.size(); i++) {
      // One reply for all: the group refused the batch as a whole (GroupState).
      byte[] mine = replies.size() == 1 ? replies.get(0) : replies.get(i);
      batch.get(i).reply.complete(new GroupClient.Reply(mine, reply.index()));
    }
  }
}
