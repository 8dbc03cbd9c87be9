package dev.lightspeed.orchestrator.cluster;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ratis' state machine for one Raft group, around a {@link ReplicatedState}: a committed log entry
 * at index i becomes {@code apply(i, bytes)}, 1:1; a snapshot is the state's bytes in Ratis'
 * {@link SimpleStateMachineStorage} file {@code snapshot.<term>_<index>} (with its MD5), taken at
 * the last applied index; on start and after the leader installs a snapshot, the newest snapshot
 * file is restored and Ratis replays the log after it.
 *
 * <p>The adapter reads no clock: time travels inside the command bytes.
 */
public final class PipelineGroupStateMachine extends BaseStateMachine {
  private static final Logger log = LoggerFactory.getLogger(PipelineGroupStateMachine.class);

  private final ReplicatedState state;
  private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
  /** apply, snapshot, restore and query never overlap (ReplicatedState's contract). */
  private final Object lock = new Object();
  /** Stale reads waiting until this replica has applied their minimum index. */
  private final NavigableMap<Long, List<CompletableFuture<Void>>> waitingForIndex = new TreeMap<>();

  /** Told when this node's member of the group is removed (a membership change). */
  private final Runnable onGroupRemove;

  public PipelineGroupStateMachine(ReplicatedState state) {
    this(state, () -> { });
  }

  public PipelineGroupStateMachine(ReplicatedState state, Runnable onGroupRemove) {
    this.state = state;
    this.onGroupRemove = onGroupRemove;
  }

  /** Leaders this replica learnt of since its start (Ratis counts no such thing per member). */
  private final java.util.concurrent.atomic.AtomicLong leaderChanges =
      new java.util.concurrent.atomic.AtomicLong();

  @Override
  public void notifyLeaderChanged(org.apache.ratis.protocol.RaftGroupMemberId member,
      org.apache.ratis.protocol.RaftPeerId newLeader) {
    if (newLeader != null) { // null: the old leader is gone, none known yet
      leaderChanges.incrementAndGet();
    }
  }

  /** How often this replica saw the group's leader change (a metric). */
  public long leaderChanges() {
    return leaderChanges.get();
  }

  @Override
  public void notifyGroupRemove() {
    onGroupRemove.run();
  }

  /** The state this adapter drives (for status pages and tests). */
  public ReplicatedState state() {
    return state;
  }

  /**
   * What {@code read} takes from the state, with the index the state was at: no entry is applied
   * in between, so the two belong together (a status page comparing replicas needs that).
   */
  public <T> T readAtIndex(java.util.function.BiFunction<ReplicatedState, Long, T> read) {
    synchronized (lock) {
      TermIndex at = getLastAppliedTermIndex();
      return read.apply(state, at == null ? -1 : at.getIndex());
    }
  }

  @Override
  public StateMachineStorage getStateMachineStorage() {
    return storage;
  }

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage)
      throws IOException {
    getLifeCycle().startAndTransition(() -> {
      super.initialize(server, groupId, raftStorage);
      storage.init(raftStorage);
      restoreLatest();
    });
  }

  /** Ratis pauses before it installs a snapshot the leader sent, then calls reinitialize. */
  @Override
  public void pause() {
    if (getLifeCycleState() == LifeCycle.State.RUNNING) {
      getLifeCycle().transition(LifeCycle.State.PAUSING);
      getLifeCycle().transition(LifeCycle.State.PAUSED);
    }
  }

  @Override
  public void reinitialize() throws IOException {
    restoreLatest();
    if (getLifeCycleState() == LifeCycle.State.PAUSED) {
      getLifeCycle().transition(LifeCycle.State.STARTING);
      getLifeCycle().transition(LifeCycle.State.RUNNING);
    }
  }

  /** Restores the newest snapshot file, if any (re-reading the directory: one may have arrived). */
  private void restoreLatest() throws IOException {
    SingleFileSnapshotInfo snapshot = storage.loadLatestSnapshot();
    if (snapshot == null) {
      return;
    }
    File file = snapshot.getFile().getPath().toFile();
    TermIndex at = snapshot.getTermIndex();
    // A snapshot damaged on disk must not become the state: start fails, naming the file.
    MD5Hash expected = MD5FileUtil.readStoredMd5ForFile(file);
    MD5Hash actual = MD5FileUtil.computeMd5ForFile(file);
    if (!actual.equals(expected)) {
      throw new IOException("snapshot " + file + " does not match its MD5 file (" + expected
          + " expected, " + actual + " read): the file is damaged");
    }
    synchronized (lock) {
      try (InputStream in = new BufferedInputStream(Files.newInputStream(file.toPath()))) {
        state.restore(in);
      }
      if (state.lastAppliedIndex() > at.getIndex()) {
        throw new IOException("snapshot " + file + " is at index " + at.getIndex()
            + " but its state says it applied index " + state.lastAppliedIndex());
      }
      setLastAppliedTermIndex(at);
    }
    wakeReadsUpTo(at.getIndex());
    log.info("{}: restored snapshot at {} from {}", getGroupId(), at, file);
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    LogEntryProto entry = trx.getLogEntry();
    byte[] command = entry.getStateMachineLogEntry().getLogData().toByteArray();
    java.util.function.Supplier<byte[]> reply;
    synchronized (lock) {
      try {
        reply = state.applyDeferringReply(entry.getIndex(), command);
      } catch (RuntimeException e) {
        log.error("{}: apply({}) threw; the state is no longer trustworthy",
            getGroupId(), entry.getIndex(), e);
        return CompletableFuture.failedFuture(e);
      }
      updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
    }
    wakeReadsUpTo(entry.getIndex());
    // The leader's reply is read within milliseconds (it is sent to the client), so it is encoded
    // then, off the apply thread. A follower's is kept in Ratis' retry cache (a minute) and read
    // only if a client resends the call to it after a fail-over: deferring it kept the apply's
    // result objects alive that long, several times the encoded bytes, and under the bulk
    // benchmark the followers' heaps filled until the heap guard refused writes (round 16).
    if (trx.getServerRole() == RaftPeerRole.LEADER) {
      return CompletableFuture.completedFuture(new DeferredReply(reply));
    }
    return CompletableFuture.completedFuture(Message.valueOf(ByteString.copyFrom(reply.get())));
  }

  @Override
  public CompletableFuture<Message> query(Message request) {
    // Not on the caller's thread: Ratis calls this for a read-index read from the thread that
    // handles the followers' append-entries replies, so a slow read (a large group's status
    // signature: seconds) held up the leader's heartbeats until it lost its leadership (measured
    // under the bulk benchmark: three elections in 10 s, each started by one GetStatus).
    return CompletableFuture.supplyAsync(() -> {
      java.util.function.Supplier<byte[]> finish;
      synchronized (lock) {
        finish = state.prepareQuery(request.getContent().toByteArray());
      }
      return Message.valueOf(ByteString.copyFrom(finish.get()));
    }, QUERIES);
  }

  /**
   * Runs the reads of every group of this JVM: off Ratis' threads, a few at once (reads are
   * short but for a status's signature, and two cores are common).
   */
  private static final java.util.concurrent.Executor QUERIES =
      java.util.concurrent.Executors.newFixedThreadPool(
          Math.max(2, Runtime.getRuntime().availableProcessors()), r -> {
            Thread t = new Thread(r, "raft-query");
            t.setDaemon(true);
            return t;
          });

  /** Raft's own entries (configuration, a new leader's first entry) advance the index too. */
  @Override
  public void notifyTermIndexUpdated(long term, long index) {
    super.notifyTermIndexUpdated(term, index);
    wakeReadsUpTo(index);
  }

  /**
   * A stale read: this replica's state once it has applied {@code minIndex}. Overridden because
   * BaseStateMachine.queryStale of Ratis 3.2.2 only wakes its waiting reads when the applied
   * index is set to the value it already has, so a read that has to wait can wait forever.
   */
  @Override
  public CompletableFuture<Message> queryStale(Message request, long minIndex) {
    CompletableFuture<Void> applied;
    synchronized (waitingForIndex) {
      TermIndex last = getLastAppliedTermIndex();
      if (last != null && last.getIndex() >= minIndex) {
        applied = CompletableFuture.completedFuture(null);
      } else {
        applied = new CompletableFuture<>();
        waitingForIndex.computeIfAbsent(minIndex, k -> new ArrayList<>()).add(applied);
      }
    }
    return applied.thenCompose(v -> query(request));
  }

  private void wakeReadsUpTo(long index) {
    List<CompletableFuture<Void>> ready = new ArrayList<>();
    synchronized (waitingForIndex) {
      NavigableMap<Long, List<CompletableFuture<Void>>> head = waitingForIndex.headMap(index, true);
      head.values().forEach(ready::addAll);
      head.clear();
    }
    // Completed outside the monitor: each runs its query, which takes the state's lock.
    ready.forEach(f -> f.complete(null));
  }

  @Override
  public void close() throws IOException {
    List<CompletableFuture<Void>> pending = new ArrayList<>();
    synchronized (waitingForIndex) {
      waitingForIndex.values().forEach(pending::addAll);
      waitingForIndex.clear();
    }
    pending.forEach(f -> f.completeExceptionally(new IOException("group closed")));
    super.close();
  }

  /**
   * Writes the state at the last applied index. Ratis calls this on the thread that applies
   * entries, so no entry is applied meanwhile; the lock only keeps queries out.
   */
  @Override
  public long takeSnapshot() throws IOException {
    TermIndex at;
    File tmp;
    synchronized (lock) {
      at = getLastAppliedTermIndex();
      if (at == null || at.getIndex() <= 0) {
        return RaftLog.INVALID_LOG_INDEX;
      }
      File file = storage.getSnapshotFile(at.getTerm(), at.getIndex());
      tmp = new File(file.getParentFile(), file.getName() + ".tmp");
      try (FileChannel channel = FileChannel.open(tmp.toPath(), StandardOpenOption.CREATE,
              StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
        OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel));
        state.snapshot(out);
        out.flush();
        channel.force(true);
      }
    }
    // Written aside and renamed, so a crash never leaves a half snapshot under the final name.
    File file = storage.getSnapshotFile(at.getTerm(), at.getIndex());
    Files.move(tmp.toPath(), file.toPath(), StandardCopyOption.ATOMIC_MOVE);
    FileInfo info = new FileInfo(file.toPath(), MD5FileUtil.computeAndSaveMd5ForFile(file));
    storage.updateLatestSnapshot(new SingleFileSnapshotInfo(info, at));
    log.info("{}: took snapshot at {} into {}", getGroupId(), at, file);
    return at.getIndex();
  }
}
