package org.apache.ratis.server.impl;

import java.lang.reflect.Field;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.ratis.protocol.TransferLeadershipRequest;
import org.apache.ratis.server.RaftServer;

/**
 * Works around a bug of Ratis 3.2.2 (still in its master branch) that leaves a group's leader
 * refusing every write until another node is elected.
 *
 * <p>{@code TransferLeadership.start} marks the leader "stepping down" (its {@code pending}
 * request) before it tries the transfer, and only a timeout it schedules after a successful try,
 * or a new leader, clears the mark. When the try fails at once — the new leader's
 * StartLeaderElection RPC failed before Ratis looked at it (a peer that is down: {@code
 * COMPLETED_EXCEPTIONALLY}), or the leader has no log appender for it (an exception out of the
 * try) — nothing ever clears it. From then on the leader answers every write with {@code
 * LeaderSteppingDownException} ("is stepping down") and every later transfer with "a previous
 * TransferLeadershipRequest exists". ClusterMembershipTest failed in CI on this (a write
 * refused "n1 … is stepping down" after 4 s of resends), and a node's graceful stop showed it
 * whenever it asked a peer that was down to take a group over.
 *
 * <p>{@link #releaseAfterCall} clears the request of a transfer call that has returned, which
 * can only still be pending if it is stuck. {@link #releaseIfStuck}, for requests of any origin,
 * recognises the stuck request by what no transfer in progress has: a reply already complete (a
 * finished transfer clears {@code pending} before completing it), or a request still pending
 * after {@code maxPendingNanos}, longer than any transfer's timeout. Both clear exactly that
 * request, by compare-and-set, so a transfer started meanwhile is never touched, and complete its
 * reply as timed out, so a caller still waiting on it returns.
 *
 * <p>This class sits in Ratis' package because {@code getTransferLeadership()} and the request
 * type are package-private there; only the {@code pending} field needs reflection. If a Ratis
 * upgrade renames any of it, compilation or {@code LeadershipTransferTest} fails.
 */
public final class StuckTransferRelease {
  private static final Field PENDING = pendingField();

  private final long maxPendingNanos;
  /** When each pending request was first seen, by identity; a released one is forgotten. */
  private final Map<TransferLeadership.PendingRequest, Long> firstSeen = new WeakHashMap<>();

  /** Releases requests complete but pending, and requests pending for over {@code maxPendingMs}. */
  public StuckTransferRelease(long maxPendingMs) {
    this.maxPendingNanos = maxPendingMs * 1_000_000;
  }

  private static Field pendingField() {
    try {
      Field f = TransferLeadership.class.getDeclaredField("pending");
      f.setAccessible(true);
      return f;
    } catch (NoSuchFieldException | RuntimeException e) {
      throw new ExceptionInInitializerError("Ratis' TransferLeadership has no field 'pending'"
          + " any more; StuckTransferRelease must follow the Ratis upgrade: " + e);
    }
  }

  /**
   * Clears the division's stuck transfer, if it has one, and returns why it was stuck; null when
   * there was none. After this the leader accepts writes again and can be asked for a new
   * transfer. {@code nowNanos} is {@link System#nanoTime()}.
   */
  public synchronized String releaseIfStuck(RaftServer.Division division, long nowNanos) {
    if (!(division instanceof RaftServerImpl)) {
      return null;
    }
    AtomicReference<TransferLeadership.PendingRequest> pending = pending(division);
    TransferLeadership.PendingRequest request = pending.get();
    if (request == null) {
      return null;
    }
    String why;
    if (request.getReplyFuture().isDone()) {
      why = "the transfer had already failed";
    } else {
      long seen = firstSeen.computeIfAbsent(request, r -> nowNanos);
      if (nowNanos - seen < maxPendingNanos) {
        return null;
      }
      why = "the transfer was still pending after " + maxPendingNanos / 1_000_000
          + " ms, with no timeout left to end it";
    }
    return release(pending, request, why) ? why : null;
  }

  /**
   * Clears the division's pending transfer if it is {@code call}'s, a transfer request whose call
   * ({@code RaftServer.transferLeadership}) has returned or thrown, so it is over; returns whether
   * it was still pending.
   */
  public synchronized boolean releaseAfterCall(
      RaftServer.Division division, TransferLeadershipRequest call) {
    if (!(division instanceof RaftServerImpl)) {
      return false;
    }
    AtomicReference<TransferLeadership.PendingRequest> pending = pending(division);
    TransferLeadership.PendingRequest request = pending.get();
    return request != null && request.getRequest() == call
        && release(pending, request, "its call had returned");
  }

  private boolean release(AtomicReference<TransferLeadership.PendingRequest> pending,
      TransferLeadership.PendingRequest request, String why) {
    if (!pending.compareAndSet(request, null)) {
      return false;
    }
    firstSeen.remove(request);
    request.complete(new TransferLeadership.Result(TransferLeadership.Result.Type.TIMED_OUT,
        "released by StuckTransferRelease: " + why));
    return true;
  }

  @SuppressWarnings("unchecked")
  private static AtomicReference<TransferLeadership.PendingRequest> pending(
      RaftServer.Division division) {
    try {
      return (AtomicReference<TransferLeadership.PendingRequest>)
          PENDING.get(((RaftServerImpl) division).getTransferLeadership());
    } catch (IllegalAccessException e) {
      throw new IllegalStateException("cannot read Ratis' TransferLeadership.pending", e);
    }
  }
}
