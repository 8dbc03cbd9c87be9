package dev.lightspeed.orchestrator.durability;

import dev.lightspeed.orchestrator.host.PipelineRegistry;
import dev.lightspeed.orchestrator.host.PipelinesStateMachine;
import dev.lightspeed.orchestrator.journal.InMemoryCommandLog;
import dev.lightspeed.orchestrator.journal.SnapshotCorruptException;
import dev.lightspeed.orchestrator.journal.SnapshotStore;
import dev.lightspeed.orchestrator.journal.v1.SnapshotFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The steps that rebuild pipelines from disk: choose and load a snapshot, then apply journal
 * records on top of it. Start-up runs them on the live registry; {@link ShadowSnapshot} runs the
 * very same steps on a registry of its own, so a snapshot is exactly what a restart would
 * recover.
 */
public final class Recovery {
  private static final Logger log = LoggerFactory.getLogger(Recovery.class);

  private Recovery() {}

  /** What start-up recovered from: a registry holding the snapshot's pipelines, and its floor. */
  record Loaded(PipelineRegistry registry, long floor, SnapshotStore.Stored snapshot) {}

  /**
   * Loads the newest snapshot that passes its checks and that the journal still covers (its
   * first segment starts at or before the record after the snapshot's floor; {@code
   * journalFirstIndex} 0 = no segment yet). A snapshot that fails its checks is logged and moved
   * aside, and the one before it is tried; "no snapshot" counts as the oldest, at floor 0, if the
   * journal starts at record 1. Throws, saying what to do, when none is usable.
   */
  static Loaded loadNewestUsable(SnapshotStore store, long journalFirstIndex, Path journalDir)
      throws IOException {
    List<SnapshotStore.Stored> all = store.list();
    List<SnapshotCorruptException> bad = new ArrayList<>();
    for (int k = all.size() - 1; k >= -1; k--) {
      SnapshotStore.Stored candidate = k >= 0 ? all.get(k) : null;
      long floor = candidate == null ? 0 : candidate.index();
      if (journalFirstIndex > floor + 1) {
        throw notCovered(store, all, bad, candidate, journalFirstIndex, journalDir);
      }
      PipelineRegistry registry = new PipelineRegistry(new InMemoryCommandLog());
      try {
        if (candidate != null) {
          loadSnapshot(store, candidate, registry.stateMachine());
        }
      } catch (SnapshotCorruptException e) {
        log.error("recovery: {}", e.getMessage());
        bad.add(e);
        continue;
      }
      for (int j = k + 1; j < all.size(); j++) {
        Path aside = store.moveAside(all.get(j));
        log.warn("recovery: moved the corrupt snapshot aside to {}; recovering from {} and the"
                + " journal after record {} instead",
            aside, candidate == null ? "no snapshot" : candidate.file(), floor);
      }
      return new Loaded(registry, floor, candidate);
    }
    throw new AssertionError("unreachable: the loop ends at the empty state");
  }

  private static IOException notCovered(
      SnapshotStore store, List<SnapshotStore.Stored> all, List<SnapshotCorruptException> bad,
      SnapshotStore.Stored candidate, long journalFirstIndex, Path journalDir) {
    String restore = " Restore the data directory from a backup; or, to start with what is left"
        + " (losing the state the missing records held), move it away and start empty.";
    if (!bad.isEmpty()) {
      return new IOException(bad.get(0).getMessage() + ", and no older snapshot can replace it:"
          + " the journal in " + journalDir + " starts at record " + journalFirstIndex + ", "
          + (candidate == null ? "and there is no older snapshot" : "after the older snapshot "
          + candidate.file() + " (record " + candidate.index() + ")") + "." + restore,
          bad.get(0));
    }
    if (candidate == null) {
      return new IOException("the journal in " + journalDir + " starts at record "
          + journalFirstIndex + ", but there is no snapshot in " + store.dir() + " covering the"
          + " records before it (the snapshot files were deleted or lost)." + restore);
    }
    return new IOException("snapshot " + candidate.file() + " covers journal records up to "
        + candidate.index() + ", but the journal in " + journalDir + " starts at record "
        + journalFirstIndex + ": the segments holding records " + (candidate.index() + 1) + ".."
        + (journalFirstIndex - 1) + " are missing." + restore);
  }

  /**
   * Loads the snapshot {@code stored} into the empty {@code machine}, checking it first; returns
   * its floor index.
   */
  public static long loadSnapshot(
      SnapshotStore store, SnapshotStore.Stored stored, PipelinesStateMachine machine)
      throws IOException {
    SnapshotFile snapshot = store.read(stored, SnapshotFile::parseFrom);
    if (snapshot.getFloorIndex() != stored.index()) {
      throw new SnapshotCorruptException(stored.file(), 0, "it says it covers journal record "
          + snapshot.getFloorIndex() + ", its name says " + stored.index());
    }
    try {
      machine.restore(snapshot);
    } catch (IOException | RuntimeException e) {
      // Passed its checksum (or has none, in format 1) but does not restore.
      throw new SnapshotCorruptException(stored.file(), 0, "its pipelines cannot be restored: "
          + e.getMessage(), e);
    }
    return snapshot.getFloorIndex();
  }
}
