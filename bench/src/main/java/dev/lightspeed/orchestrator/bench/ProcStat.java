package dev.lightspeed.orchestrator.bench;

import java.io.IOException;
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

  static long self() {
    return cpuMillis(ProcessHandle.current().pid());
  }
}
