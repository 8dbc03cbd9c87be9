package dev.lightspeed.orchestrator.durability;

import dev.lightspeed.orchestrator.host.PipelinesStateMachine;
import dev.lightspeed.orchestrator.journal.CommandLog;
import dev.lightspeed.orchestrator.journal.InMemoryCommandLog;
import dev.lightspeed.orchestrator.journal.SnapshotStore;
import dev.lightspeed.orchestrator.journal.v1.SnapshotFile;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The snapshotter's own copy of the pipelines, recovered exactly as start-up recovers the live
 * ones (the newest snapshot file, then the journal after its floor, read back from the segment
 * files) and then kept following the journal record by record. Only the snapshotter's thread
 * touches it; the live registry is never read or locked.
 *
 * <p>Determinism of the core makes the copy at index {@code n} equal to the live pipelines at
 * {@code n}, which is what a restart from the same files would recover: so a snapshot of it is
 * a snapshot of the live state (see {@link ShadowSnapshot}).
 */
final class ShadowRegistry implements AutoCloseable {
  /** How often applying records looks whether shutdown asked it to stop. */
  private static final int INTERRUPT_CHECK_EVERY = 4096;

  private final PipelinesStateMachine machine;
  private final CommandLog.Tail tail;
  private final long loadedFloor;
  private final long loadMs;

  private ShadowRegistry(
      PipelinesStateMachine machine, CommandLog journal, long floor, long loadMs) {
    this.machine = machine;
    this.tail = journal.tail(floor);
    this.loadedFloor = floor;
    this.loadMs = loadMs;
  }

  /** Loads the newest snapshot in {@code store}; {@link #catchUp} then applies the journal. */
  static ShadowRegistry load(SnapshotStore store, CommandLog journal) throws IOException {
    long started = System.nanoTime();
    Optional<SnapshotStore.Stored> latest = store.latest();
    // nothing is ever appended here: the shadow only follows the real journal
    PipelinesStateMachine machine =
        new PipelinesStateMachine(new AtomicReference<>(new InMemoryCommandLog()));
    long floor = latest.isPresent() ? Recovery.loadSnapshot(store, latest.get(), machine) : 0;
    return new ShadowRegistry(
        machine, journal, floor, (System.nanoTime() - started) / 1_000_000);
  }

  /** Keeps {@code retention} events per pipeline from now on (the live server's setting). */
  void eventRetention(int retention) {
    machine.eventRetention(retention);
  }

  /** The journal record this copy is at: every record up to it, and none after, is applied. */
  long appliedIndex() {
    return tail.lastRead();
  }

  /** The floor of the snapshot it was loaded from (0: none). */
  long loadedFloor() {
    return loadedFloor;
  }

  /** How long loading that snapshot took. */
  long loadMs() {
    return loadMs;
  }

  /**
   * Applies the journal records up to {@code upTo} (≤ the journal's durable index); returns how
   * many. Throws {@link InterruptedIOException} soon after its thread is interrupted. After any
   * exception this copy is unusable.
   */
  long catchUp(long upTo, CpuPacer pacer) throws IOException {
    long[] applied = new long[1];
    tail.readUpTo(upTo, (index, bytes) -> {
      machine.apply(index, bytes);
      if (++applied[0] % INTERRUPT_CHECK_EVERY == 0) {
        abandonIfInterrupted();
      }
      pacer.pace();
    });
    return applied[0];
  }

  /** Every pipeline as of {@link #appliedIndex()}, which must be above 0. */
  SnapshotFile snapshotFile() throws IOException {
    return machine.snapshot(appliedIndex());
  }

  static void abandonIfInterrupted() throws InterruptedIOException {
    if (Thread.currentThread().isInterrupted()) {
      throw new InterruptedIOException("interrupted");
    }
  }

  @Override
  public void close() throws IOException {
    tail.close();
  }
}
