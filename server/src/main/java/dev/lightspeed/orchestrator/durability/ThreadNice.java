package dev.lightspeed.orchestrator.durability;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lowers the calling thread's CPU priority on Linux, so that background work (the snapshotter)
 * uses idle CPU but yields the moment calls need it. Java cannot set a thread's nice value
 * itself (without {@code -XX:ThreadPriorityPolicy=1} on the command line), so this runs
 * util-linux's {@code renice} on the thread's own id. Best effort: elsewhere, or without {@code
 * renice}, the thread keeps its priority and the server works as before.
 */
final class ThreadNice {
  private static final Logger log = LoggerFactory.getLogger(ThreadNice.class);

  private ThreadNice() {}

  /** Sets the calling thread's nice value to {@code nice} (0-19); true if it took. */
  static boolean lowerCurrentThread(int nice) {
    Path self = Path.of("/proc/thread-self");
    if (!Files.isSymbolicLink(self)) {
      return false;
    }
    try {
      // "/proc/thread-self" -> "<pid>/task/<tid>"
      String tid = Files.readSymbolicLink(self).getFileName().toString();
      Process renice = new ProcessBuilder("renice", "-n", Integer.toString(nice), "-p", tid)
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .start();
      if (!renice.waitFor(5, TimeUnit.SECONDS)) {
        renice.destroyForcibly();
        return false;
      }
      boolean ok = renice.exitValue() == 0 && currentNice() == nice;
      log.info("thread '{}' runs at nice {}{}", Thread.currentThread().getName(), currentNice(),
          ok ? "" : " (renice failed; it keeps the server's priority)");
      return ok;
    } catch (IOException | RuntimeException e) {
      log.debug("cannot renice thread '{}': {}", Thread.currentThread().getName(), e.toString());
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** The calling thread's nice value, from field 19 of /proc/thread-self/stat. */
  static int currentNice() throws IOException {
    String stat = Files.readString(Path.of("/proc/thread-self/stat"));
    // Fields after the command name, which is in parentheses and may hold spaces.
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Integer.parseInt(fields[16]);
  }
}
