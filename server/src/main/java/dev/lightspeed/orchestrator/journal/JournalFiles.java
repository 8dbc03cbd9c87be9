package dev.lightspeed.orchestrator.journal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;

/**
 * How the journal and the snapshot store open the files they write (the active segment, a
 * snapshot being written): the real file system in production. It is a seam for tests, which put
 * a layer here that fails or delays a write or an fsync, fills the disk, or drops every byte not
 * yet fsynced at a simulated crash, and check that no acknowledged change is lost.
 */
@FunctionalInterface
public interface JournalFiles {
  /** The real file system. */
  JournalFiles REAL = FileChannel::open;

  /** Opens {@code file} as {@link FileChannel#open(Path, OpenOption...)} does. */
  FileChannel open(Path file, OpenOption... options) throws IOException;
}
