package org.apache.ratis.server.impl;

import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.TransferLeadershipRequest;
import org.apache.ratis.server.RaftServer;

/** Test access to Ratis' leadership transfer, to put a leader in the state its bug leaves. */
public final class FailedTransfers {
  private FailedTransfers() {}

  /**
   * Starts a transfer as Ratis' {@code transferLeadershipAsync} does, to a peer the leader has no
   * log appender for: the try throws at once (Ratis 3.2.2 memoizes the missing appender, a null,
   * and its memoizer refuses nulls), after the leader was marked "stepping down" and before any
   * timeout was scheduled — one of the ways to the stuck state (another, a StartLeaderElection
   * RPC that fails before Ratis looks, is a race). Returns the request.
   */
  public static TransferLeadershipRequest failAtOnce(RaftServer.Division leader) {
    RaftServerImpl impl = (RaftServerImpl) leader;
    TransferLeadershipRequest request = new TransferLeadershipRequest(ClientId.randomId(),
        impl.getId(), impl.getMemberId().getGroupId(), 0, RaftPeerId.valueOf("nobody"), 1_000);
    try {
      impl.getTransferLeadership().start(impl.getRole().getLeaderStateNonNull(), request);
    } catch (RuntimeException e) {
      return request;
    }
    throw new AssertionError("Ratis' transfer to a peer without a log appender did not fail at"
        + " once any more: find another way to the stuck state");
  }

  /**
   * As {@link #failAtOnce}, then completes the stuck request's reply as failed, as Ratis does when
   * the StartLeaderElection RPC failed before it looked ({@code COMPLETED_EXCEPTIONALLY}).
   */
  public static void failWithReply(RaftServer.Division leader) throws Exception {
    failAtOnce(leader);
    java.lang.reflect.Field pending = TransferLeadership.class.getDeclaredField("pending");
    pending.setAccessible(true);
    var request = ((java.util.concurrent.atomic.AtomicReference<?>) pending.get(
        ((RaftServerImpl) leader).getTransferLeadership())).get();
    ((TransferLeadership.PendingRequest) request).complete(TransferLeadership.Result.NULL_FOLLOWER);
  }

  /** Whether the division answers writes "stepping down" now. */
  public static boolean steppingDown(RaftServer.Division division) {
    return ((RaftServerImpl) division).isSteppingDown();
  }
}
