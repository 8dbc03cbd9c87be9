package dev.lightspeed.orchestrator.host;

/**
 * Something that follows every change of one pipeline, as the Work streams' dispatcher does: told
 * after each change (it may let a batch start), and ended when the pipeline goes. The gRPC side
 * implements it, so the hosting of pipelines never names a stream or a status.
 */
public interface ChangeListener {
  /** The pipeline changed; never blocks (it is called under the pipeline's lock). */
  void changed();

  /** Ends what follows the pipeline with {@code why}: a refusal (deleted) or a status. */
  void end(RuntimeException why);
}
