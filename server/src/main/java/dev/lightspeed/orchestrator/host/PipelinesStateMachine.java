package dev.lightspeed.orchestrator.host;

import com.google.protobuf.UnsafeByteOperations;
import dev.lightspeed.orchestrator.core.Command;
import dev.lightspeed.orchestrator.core.PipelineQueries;
import dev.lightspeed.orchestrator.core.PipelineRuntime;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.journal.CommandLog;
import dev.lightspeed.orchestrator.journal.JournalCodec;
import dev.lightspeed.orchestrator.journal.v1.PipelineSnapshot;
import dev.lightspeed.orchestrator.journal.v1.SnapshotFile;
import java.io.DataInputStream;
import java.io.IOException;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * Every pipeline of a server as one deterministic state machine over the journal, in the shape
 * of a Raft state machine (Apache Ratis' {@code BaseStateMachine}):
 *
 * <ul>
 *   <li>{@link #apply(long, byte[])}: applies journal record {@code index}, exactly as it ran
 *       (Ratis {@code applyTransaction(index, bytes)}, 1:1);
 *   <li>{@link #lastAppliedIndex()}: every record up to it is reflected, none after;
 *   <li>{@link #snapshot(long)} / {@link #restore(SnapshotFile)}: the complete state at an index,
 *       and back (Ratis {@code takeSnapshot} / {@code reinitialize});
 *   <li>{@link #query}: a consistent read of one pipeline (Ratis {@code query}).
 * </ul>
 *
 * <p>Start-up recovery ({@link Recovery}) and the shadow snapshotter ({@link ShadowRegistry}) drive
 * a machine through exactly these calls, record by record, so a snapshot is what a restart would
 * recover. The live server ({@link PipelineRegistry}, {@link PipelineHandle}) applies a call to
 * the same pipelines first and journals the command it ran only if it changed something (a
 * refusal is never journaled); the record then is exactly what {@link #apply} replays.
 */
public final class PipelinesStateMachine {
  private final ConcurrentNavigableMap<String, PipelineHandle> pipelines =
      new ConcurrentSkipListMap<>();
  /** The journal live calls append to (the handles share it); an in-memory one for a shadow. */
  private final AtomicReference<CommandLog> log;
  /** The last record {@link #apply} applied; guarded by {@code this}. */
  private long lastApplied;
  /** Events kept per pipeline (SPEC 3.10) by the pipelines this machine creates. */
  private volatile int eventRetention = Limits.DEFAULT_EVENT_RETENTION;

  public PipelinesStateMachine(AtomicReference<CommandLog> log) {
    this.log = log;
  }

  /**
   * Keeps {@code retention} events per pipeline, in the pipelines here and in those a later
   * record creates. The snapshotter's copy needs it as much as the live registry: its snapshots
   * hold the events it kept, so with the default it wrote 100,000 events per pipeline whatever
   * {@code --event-retention} said (a larger value was cut to 100,000 by the next restart).
   */
  public void eventRetention(int retention) {
    this.eventRetention = retention;
    for (PipelineHandle h : pipelines.values()) {
      h.setEventRetention(retention);
    }
  }

  /** The pipelines by name, in name order; the live registry adds and removes them. */
  ConcurrentNavigableMap<String, PipelineHandle> pipelines() {
    return pipelines;
  }

  /**
   * The last journal record reflected. Live, every journaled change was applied before it was
   * appended, so the journal's last index is applied too.
   */
  synchronized long lastAppliedIndex() {
    return Math.max(lastApplied, log.get().lastIndex());
  }

  /**
   * Applies journal record {@code index} (the bytes the journal holds). Throws, saying which
   * record and why, if it cannot be read or applied: the journal and this code disagree.
   */
  public void apply(long index, byte[] record) throws IOException {
    JournalCodec.Entry entry = JournalCodec.decode(index, record); // says what is wrong itself
    try {
      apply(index, entry);
    } catch (RuntimeException e) {
      String why = e instanceof Rejection r ? r.toString() : e.getMessage();
      throw new IOException(
          "journal record " + index + " cannot be applied (" + why + "); the journal"
              + " does not match this server version or the snapshot", e);
    }
  }

  /**
   * Applies the decoded record {@code index}; a pipeline whose snapshot already holds it skips
   * it. Bulk items refused live are refused again, exactly as they were.
   */
  public synchronized void apply(long index, JournalCodec.Entry entry) {
    String name = entry.pipeline();
    if (entry.command() instanceof Command.CreatePipeline create) {
      PipelineRuntime runtime = PipelineRuntime.create(create.spec());
      runtime.setEventRetention(eventRetention);
      if (pipelines.putIfAbsent(name, new PipelineHandle(runtime, log, index)) != null) {
        throw new IllegalStateException(
            "journal record " + index + " creates pipeline '" + name + "', which exists");
      }
    } else if (entry.command() instanceof Command.DeletePipeline) {
      PipelineHandle handle = pipelines.remove(name);
      if (handle == null) {
        throw new IllegalStateException(
            "journal record " + index + " deletes pipeline '" + name + "', which does not exist");
      }
      handle.markDeleted();
    } else {
      PipelineHandle handle = pipelines.get(name);
      if (handle == null) {
        throw new IllegalStateException(
            "journal record " + index + " is for pipeline '" + name + "', which does not exist");
      }
      handle.replay(index, entry.command(), entry.nowMs());
    }
    lastApplied = Math.max(lastApplied, index);
  }

  /** A consistent read of {@code pipeline}; PIPELINE_NOT_FOUND if there is none. */
  <T> T query(String pipeline, Function<PipelineQueries, T> query) {
    PipelineHandle handle = pipelines.get(pipeline);
    if (handle == null) {
      throw PipelineHandle.notFound(pipeline);
    }
    return handle.read(query);
  }

  /**
   * Every pipeline's state with {@code floor} as the snapshot's floor: each pipeline's applied
   * index is the larger of the floor and the last record applied to it. The set of pipelines
   * cannot change meanwhile (the live registry creates and deletes under this machine's lock);
   * each pipeline is locked while it is copied.
   */
  public synchronized SnapshotFile snapshot(long floor) throws IOException {
    SnapshotFile.Builder file = SnapshotFile.newBuilder().setFloorIndex(floor);
    for (PipelineHandle h : pipelines.values()) {
      PipelineHandle.Snapshot s = h.snapshot(floor);
      file.addPipelines(
          PipelineSnapshot.newBuilder()
              .setName(s.name())
              .setAppliedIndex(s.appliedIndex())
              // the array is never touched again: wrap it instead of copying megabytes
              .setState(UnsafeByteOperations.unsafeWrap(s.state())));
    }
    return file.build();
  }

  /** Loads the pipelines of a snapshot into this (empty) machine. */
  public synchronized void restore(SnapshotFile file) throws IOException {
    for (PipelineSnapshot p : file.getPipelinesList()) {
      // newInput reads the parsed bytes in place instead of copying them (megabytes) first
      PipelineRuntime runtime =
          PipelineRuntime.readSnapshot(new DataInputStream(p.getState().newInput()));
      pipelines.put(p.getName(), new PipelineHandle(runtime, log, p.getAppliedIndex()));
    }
    lastApplied = Math.max(lastApplied, file.getFloorIndex());
  }
}
