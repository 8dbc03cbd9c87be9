package dev.lightspeed.orchestrator.journal;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Snapshot files in a directory, named {@code snapshot-<index, 20 digits>.pb} after the journal
 * index they cover. A snapshot is written to a temporary file, fsynced, then renamed into place,
 * so a crash leaves either the old or the new snapshot, never half of one. Only the newest is
 * kept: the journal before it is compacted away, so older ones could not be replayed anyway.
 */
public final class SnapshotStore {
  private final Path dir;
  /** Opens the snapshot files written (a seam for fault-injection tests). */
  private final JournalFiles files;

  public SnapshotStore(Path dir) throws IOException {
    this(dir, JournalFiles.REAL);
  }

  public SnapshotStore(Path dir, JournalFiles files) throws IOException {
    this.dir = Files.createDirectories(dir);
    this.files = files;
    try (Stream<Path> list = Files.list(dir)) {
      for (Path p : list.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList()) {
        Files.delete(p); // a snapshot that was being written when the server died
      }
    }
  }

  /** A stored snapshot: the index it covers and its file. */
  public record Stored(long index, Path file) {}

  /** The newest snapshot, if any. */
  public Optional<Stored> latest() throws IOException {
    List<Stored> all = list();
    return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
  }

  /** Writes a snapshot covering {@code index} with {@code writer}, then drops older ones. */
  public Stored save(long index, IoConsumer<OutputStream> writer) throws IOException {
    Path target = dir.resolve(name(index));
    Path tmp = dir.resolve(name(index) + ".tmp");
    try (FileChannel ch = files.open(tmp, StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
        OutputStream out = new java.io.BufferedOutputStream(
            java.nio.channels.Channels.newOutputStream(ch), 1 << 20)) {
      writer.accept(out);
      out.flush();
      ch.force(true);
    }
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    FileCommandLog.fsyncDirectory(dir);
    for (Stored old : list()) {
      if (old.index() < index) {
        Files.deleteIfExists(old.file());
      }
    }
    return new Stored(index, target);
  }

  private List<Stored> list() throws IOException {
    try (Stream<Path> list = Files.list(dir)) {
      return list.map(Path::getFileName)
          .map(Path::toString)
          .filter(n -> n.matches("snapshot-\\d{20}\\.pb"))
          .sorted()
          .map(n -> new Stored(Long.parseLong(n.substring(9, 29)), dir.resolve(n)))
          .toList();
    }
  }

  private static String name(long index) {
    return String.format("snapshot-%020d.pb", index);
  }

  /** A consumer that may throw IOException. */
  @FunctionalInterface
  public interface IoConsumer<T> {
    void accept(T value) throws IOException;
  }
}
