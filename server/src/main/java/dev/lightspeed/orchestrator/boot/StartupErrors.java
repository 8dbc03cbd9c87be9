package dev.lightspeed.orchestrator.boot;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

/**
 * Start-up failures in plain words: what happened, which flag, how to fix it. Java's file
 * exceptions carry only a path as their message ({@code NoSuchFileException: /nope.txt}), which
 * users read as a non-answer, so each is named here by its type.
 */
final class StartupErrors {
  private StartupErrors() {}

  /** What went wrong with a file, in words: "no such file: /nope.txt", "permission denied...". */
  static String describe(IOException e) {
    if (e instanceof AccessDeniedException) {
      return "permission denied on " + e.getMessage();
    }
    if (e instanceof NoSuchFileException) {
      return "no such file or directory: " + e.getMessage();
    }
    if (e instanceof NotDirectoryException || e instanceof FileAlreadyExistsException) {
      return e.getMessage() + " is not a directory";
    }
    if (e instanceof FileSystemException fs && fs.getReason() != null) {
      return fs.getReason().toLowerCase(java.util.Locale.ROOT) + ": " + fs.getFile();
    }
    return e.getMessage();
  }

  /** The message for a data directory that cannot be opened. */
  static String dataDir(Path dir, IOException e) {
    if (Files.exists(dir) && !Files.isDirectory(dir)) {
      return "cannot open --data-dir " + dir + ": it is a file, not a directory. Pass a"
          + " directory (it is created if missing), or move the file away.";
    }
    if (e instanceof AccessDeniedException || (e instanceof FileSystemException fs
        && "Read-only file system".equals(fs.getReason()))) {
      return "cannot open --data-dir " + dir + ": " + describe(e) + ". The server needs to"
          + " create and write files there: make it writable by this user"
          + " (" + System.getProperty("user.name") + "), or pass another --data-dir.";
    }
    if (e instanceof FileSystemException) {
      return "cannot open --data-dir " + dir + ": " + describe(e) + ".";
    }
    // Durability's own messages (in use by another server, a corrupt journal) say it already.
    return "cannot open --data-dir " + dir + ": " + e.getMessage();
  }

  /** The message for a file named by {@code flag} that cannot be read. */
  static String unreadable(String flag, Path file, IOException e, String hint) {
    if (Files.isDirectory(file)) {
      return "cannot read " + flag + " " + file + ": it is a directory, not a file. " + hint;
    }
    return "cannot read " + flag + " " + file + ": " + describe(e) + ". " + hint;
  }

  /**
   * Checks that {@code bind:port} can be listened on, so that a taken port is reported before the
   * data directory is created or locked. Port 0 always can. Throws with the message to print.
   */
  static void checkPortFree(String bind, int port, String flag) throws IOException {
    if (port == 0) {
      return;
    }
    try (ServerSocket probe = new ServerSocket()) {
      // Netty binds with SO_REUSEADDR too: a port held only by closed connections is usable.
      probe.setReuseAddress(true);
      probe.bind(new InetSocketAddress(bind, port));
    } catch (BindException e) {
      throw new IOException(portTaken(bind, port, flag, e), e);
    }
  }

  /** The message for a port that another program (or server) holds, or that is not allowed. */
  static String portTaken(String bind, int port, String flag, BindException e) {
    String cause = e.getMessage() == null ? "" : e.getMessage();
    if (cause.toLowerCase(java.util.Locale.ROOT).contains("permission denied")) {
      return "cannot listen on " + bind + ":" + port + " (" + flag + " " + port + "): permission"
          + " denied (ports below 1024 need privileges). Pass " + flag + " 1024 or above.";
    }
    if (cause.toLowerCase(java.util.Locale.ROOT).contains("cannot assign")) {
      return "cannot listen on " + bind + ":" + port + ": " + bind + " is not an address of this"
          + " machine. Pass --bind 127.0.0.1, 0.0.0.0, or one of its addresses.";
    }
    return "cannot listen on " + bind + ":" + port + " (" + flag + " " + port + "): address"
        + " already in use, by another program or another lightspeed-orchestrator. Stop it, or"
        + " pass another " + flag + " (0 picks a free one).";
  }

  /** The BindException somewhere in {@code e}'s causes, or null. */
  static BindException bindCause(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof BindException b) {
        return b;
      }
    }
    return null;
  }
}
