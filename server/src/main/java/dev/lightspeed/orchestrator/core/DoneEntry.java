package dev.lightspeed.orchestrator.core;

/** An acked batch, remembered for the dedup window so that acks stay idempotent. */
record DoneEntry(ProcessResult result, long doneAtMs) {
  String key() {
    return result.batchKey();
  }

  int attempt() {
    return result.attempt();
  }
}
