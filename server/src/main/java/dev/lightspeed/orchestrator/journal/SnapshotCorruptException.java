package dev.lightspeed.orchestrator.journal;

import java.io.IOException;
import java.nio.file.Path;

/** A snapshot file that fails its checks: start-up falls back to an older one, or stops. */
public final class SnapshotCorruptException extends IOException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;
  private final long offset;

  public SnapshotCorruptException(Path file, long offset, String detail) {
    super("snapshot " + file + " is corrupt at offset " + offset + " (" + detail + ")");
    this.file = file;
    this.offset = offset;
  }

  public SnapshotCorruptException(Path file, long offset, String detail, Throwable cause) {
    this(file, offset, detail);
    initCause(cause);
  }

  public Path file() {
    return file;
  }

  public long offset() {
    return offset;
  }
}
