package dev.lightspeed.orchestrator.cluster;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.lightspeed.orchestrator.v1.ClusterConfig;
import dev.lightspeed.orchestrator.v1.ClusterPeer;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * The state machine of the membership group, of which every node of the cluster is a member: its
 * state is the list of nodes (a {@code ClusterConfig}), each entry the whole new list, written by
 * the node that runs a membership change. Every node applies it, keeps a copy in its data dir
 * ({@link MembershipFile}, read before Raft starts next time) and tells the node, which places
 * the groups by it. It also keeps the cluster's {@link ChangeLock}, taken and given back by each
 * change (two more entries per change). The log stays tiny, so it takes no snapshots: a new
 * member gets the whole log, and a restarted one replays it (the lock included).
 */
final class MembershipStateMachine extends BaseStateMachine {
  private final Path dataDir;
  private final Consumer<ClusterConfig> onChange;
  private final Runnable onRemoved;
  private final Consumer<ClusterPeer> onJoining;
  private volatile ClusterConfig current;
  /** Which node's membership change may run now (replayed from the log after a restart). */
  private final ChangeLock changeLock = new ChangeLock();

  /** {@code onJoining}: a change that adds this node started (it may not be in the list yet). */
  MembershipStateMachine(ClusterConfig initial, Path dataDir, Consumer<ClusterConfig> onChange,
      Runnable onRemoved, Consumer<ClusterPeer> onJoining) {
    this.current = initial;
    this.dataDir = dataDir;
    this.onChange = onChange;
    this.onRemoved = onRemoved;
    this.onJoining = onJoining;
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    LogEntryProto entry = trx.getLogEntry();
    byte[] data = entry.getStateMachineLogEntry().getLogData().toByteArray();
    if (ChangeLock.isLockEntry(data)) {
      byte[] reply;
      try {
        reply = changeLock.apply(data);
      } catch (java.io.IOException e) {
        return CompletableFuture.failedFuture(e);
      }
      synchronized (this) {
        updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
      }
      ClusterPeer joining = changeLock.joining();
      if (joining != null) {
        onJoining.accept(joining);
      }
      return CompletableFuture.completedFuture(Message.valueOf(ByteString.copyFrom(reply)));
    }
    ClusterConfig config;
    try {
      config = ClusterConfig.parseFrom(data);
    } catch (InvalidProtocolBufferException e) {
      // Only MembershipChanges writes here; a bad entry is a bug, and this replica stops trusting
      // itself rather than guess a membership.
      return CompletableFuture.failedFuture(e);
    }
    synchronized (this) {
      current = config;
      updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
    }
    MembershipFile.write(dataDir, config);
    onChange.accept(config);
    return CompletableFuture.completedFuture(Message.EMPTY);
  }

  /** The list of nodes this replica has applied (a read-index read makes it the committed one). */
  @Override
  public CompletableFuture<Message> query(Message request) {
    return CompletableFuture.completedFuture(
        Message.valueOf(ByteString.copyFrom(current.toByteArray())));
  }

  /** This node's member of the group was removed: the node left the cluster. */
  @Override
  public void notifyGroupRemove() {
    onRemoved.run();
  }
}
