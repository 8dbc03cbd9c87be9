package dev.lightspeed.orchestrator.host;

import dev.lightspeed.orchestrator.journal.InMemoryCommandLog;
import java.io.IOException;

/**
 * Where a server's pipelines are kept: what {@link OrchestratorServer} needs of the durability
 * package (its {@code Durability} implements this over a data directory) without depending on
 * it, so the arrow runs from durability to the server only.
 */
public interface PipelineStore extends AutoCloseable {
  /** The pipelines, recovered (or empty) and attached to their journal. */
  PipelineRegistry registry();

  /** Takes a snapshot now, if the store keeps any; else does nothing. */
  void snapshot() throws IOException;

  /** Called once, when the server has stopped. */
  @Override
  void close() throws IOException;

  /** Pipelines kept in memory only: a restart starts empty; no snapshot, nothing to close. */
  static PipelineStore inMemory() {
    PipelineRegistry registry = new PipelineRegistry(new InMemoryCommandLog());
    return new PipelineStore() {
      @Override
      public PipelineRegistry registry() {
        return registry;
      }

      @Override
      public void snapshot() {}

      @Override
      public void close() {}
    };
  }
}
