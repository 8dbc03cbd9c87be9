package dev.lightspeed.orchestrator.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** CPU time of a process from {@code /proc/<pid>/stat} (Linux), -1 where unavailable. */
final class ProcStat {
  /** USER_HZ; 100 on every Linux this runs on (sysconf(_SC_CLK_TCK)). */
  private static final long TICKS_PER_SECOND = 100;

  private ProcStat() {}

  static long cpuMillis(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      // Fields after the command name (which is in parentheses and may hold spaces).
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long utime = Long.parseLong(f[11]);
      long stime = Long.parseLong(f[12]);
      return (utime + stime) * 1000 / TICKS_PER_SECOND;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /**
   * CPU time of the process's JIT compiler threads (HotSpot names them "C1 CompilerThread0",
   * "C2 CompilerThread1", ...; the kernel keeps the first 15 characters). A compiler thread that
   * HotSpot has already retired takes its time with it, so this is a lower bound.
   */
  static long jitMillis(long pid) {
    long ticks = 0;
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "task"))) {
      for (Path task : tasks) {
        try {
          String comm = Files.readString(task.resolve("comm")).strip();
          if (!comm.startsWith("C1 CompilerThre") && !comm.startsWith("C2 CompilerThre")) {
            continue;
          }
          String stat = Files.readString(task.resolve("stat"));
          String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (IOException | RuntimeException threadGone) {
          // the thread ended between the listing and the read
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return ticks * 1000 / TICKS_PER_SECOND;
  }

  static long self() {
    return cpuMillis(ProcessHandle.current().pid());
  }
}
