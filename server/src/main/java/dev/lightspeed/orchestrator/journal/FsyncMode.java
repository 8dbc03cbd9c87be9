package dev.lightspeed.orchestrator.journal;

/** How the file journal makes records durable. */
public enum FsyncMode {
  /** fsync before any reply: a record acknowledged to a client survives a power loss. */
  ALWAYS,
  /**
   * Write to the OS, never fsync: survives a crash of the server process (kill -9) but not of the
   * machine. Unsafe; for benchmarks and throwaway environments.
   */
  NEVER
}
