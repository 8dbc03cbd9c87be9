package dev.lightspeed.orchestrator.client;

import dev.lightspeed.orchestrator.client.errors.OrchestratorException;
import dev.lightspeed.orchestrator.v1.ProcessOutcome;
import dev.lightspeed.orchestrator.v1.StartedBatch;

/**
 * What happened to one started batch of a {@link Worker}, given to {@link
 * WorkerOptions.Builder#onResult} once its ack or failure report is answered (as Go's {@code
 * OnResult}, TypeScript's {@code onResult}, Python's {@code on_result}).
 *
 * @param started the batch as it was started (key, attempt, lease)
 * @param outcome the server's answer to the ack or failure report (processed, retry scheduled,
 *     dead-lettered, failure rejected); null when the report itself was refused
 * @param handlerFailure what the handler threw; null when it returned (the batch was acked)
 * @param reportError the refusal of the report (e.g. STALE_ATTEMPT after a lost lease), or null
 */
public record WorkerResult(StartedBatch started, ProcessOutcome outcome, Throwable handlerFailure,
    OrchestratorException reportError) {}
