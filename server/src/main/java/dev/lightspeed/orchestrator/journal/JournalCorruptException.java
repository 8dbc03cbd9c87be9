package dev.lightspeed.orchestrator.journal;

import java.io.IOException;
import java.nio.file.Path;

/** A bad record that is not a torn tail: start-up stops unless repair was asked for. */
public final class JournalCorruptException extends IOException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;
  private final long offset;

  public JournalCorruptException(Path file, long offset, String detail) {
    super(
        "journal record at " + file + " offset " + offset + " is corrupt (" + detail + "); restart"
            + " with --repair to truncate the journal there, dropping it and every later record");
    this.file = file;
    this.offset = offset;
  }

  public Path file() {
    return file;
  }

  public long offset() {
    return offset;
  }
}
