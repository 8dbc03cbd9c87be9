package dev.lightspeed.orchestrator.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * The deterministic state of one Raft group, as {@link PipelineGroupStateMachine} drives it. The
 * server's state machine (issue 16) implements this; the cluster module only replicates bytes.
 *
 * <p>Rules that make every replica end in the same state:
 *
 * <ul>
 *   <li>{@link #apply} is a function of the state, the index and the command's bytes only. It
 *       reads no clock, no random source and no file: a command carries the {@code now_ms} its
 *       submitter chose, so every replica sees the same time.
 *   <li>A bad command is answered, never thrown: an exception from {@code apply} is a bug, and
 *       the replica that throws stops applying (Ratis fails the group on that node).
 *   <li>Calls are never concurrent: Ratis applies a group's entries one at a time, and the
 *       adapter takes snapshots and answers queries under the same lock.
 * </ul>
 */
public interface ReplicatedState {
  /**
   * Applies the command committed at {@code index} (indexes only grow; Raft's own entries, such
   * as configuration changes, take indexes too, so there are gaps) and returns the reply the
   * submitter gets.
   */
  byte[] apply(long index, byte[] command);

  /**
   * Applies like {@link #apply} but may leave encoding the reply until someone reads it: the
   * leader's reply is then encoded when it is sent, off the thread that applies the group's
   * commands one at a time. The supplier runs at most once, possibly on another thread and after
   * later commands were applied: it may read only what this call captured (results that nothing
   * changes afterwards), never the live state. By default the reply is encoded here, under the
   * adapter's lock.
   */
  default java.util.function.Supplier<byte[]> applyDeferringReply(long index, byte[] command) {
    byte[] reply = apply(index, command);
    return () -> reply;
  }

  /** Answers a read-only request from the current state; changes nothing. */
  byte[] query(byte[] request);

  /**
   * A read in two steps: this call, under the adapter's lock, takes what must be consistent; the
   * returned supplier finishes the answer after the lock is released, while commands are applied
   * again (it may read only what this call captured, or take the state's own finer locks). For a
   * read whose finishing is O(state), such as a status's signature over every remembered batch,
   * which took seconds on a large group and held up every apply meanwhile. By default the whole
   * read is done under the lock.
   */
  default java.util.function.Supplier<byte[]> prepareQuery(byte[] request) {
    byte[] reply = query(request);
    return () -> reply;
  }

  /** The index of the last command applied (0 before the first). */
  long lastAppliedIndex();

  /** Writes the whole state, as of {@link #lastAppliedIndex()}, for {@link #restore}. */
  void snapshot(OutputStream out) throws IOException;

  /** Replaces the whole state with one that {@link #snapshot} wrote. */
  void restore(InputStream in) throws IOException;

  /** Makes the state of one group; called once per group a node serves (and per restart). */
  @FunctionalInterface
  interface Factory {
    ReplicatedState create(int group);
  }
}
