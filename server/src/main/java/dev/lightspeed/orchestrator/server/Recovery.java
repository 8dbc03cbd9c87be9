package dev.lightspeed.orchestrator.server;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.lightspeed.orchestrator.core.Rejection;
import dev.lightspeed.orchestrator.journal.v1.Command;
import dev.lightspeed.orchestrator.journal.v1.SnapshotFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The two steps that rebuild pipelines from disk: load a snapshot file, then apply journal
 * records on top of it. Start-up runs them on the live registry; {@link ShadowSnapshot} runs the
 * very same steps on a registry of its own, so a snapshot is exactly what a restart would
 * recover.
 */
final class Recovery {
  private Recovery() {}

  /** Loads the snapshot {@code file} into the empty {@code registry}; returns its floor index. */
  static long loadSnapshot(Path file, PipelineRegistry registry) throws IOException {
    SnapshotFile snapshot;
    try (InputStream in = Files.newInputStream(file)) {
      snapshot = SnapshotFile.parseFrom(in);
    } catch (InvalidProtocolBufferException e) {
      throw new IOException("snapshot " + file + " is corrupt: " + e.getMessage(), e);
    }
    registry.restore(snapshot);
    return snapshot.getFloorIndex();
  }

  /** Applies the journal record {@code index} to {@code registry}, as recovery does. */
  static void applyRecord(PipelineRegistry registry, long index, byte[] bytes) throws IOException {
    try {
      registry.replay(index, Command.parseFrom(bytes));
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      String why = e instanceof Rejection r ? r.toString() : e.getMessage();
      throw new IOException(
          "journal record " + index + " cannot be applied (" + why + "); the journal"
              + " does not match this server version or the snapshot", e);
    }
  }
}
