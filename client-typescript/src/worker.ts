// A worker loop: start available batches (StartAvailable stream), run a handler on each while
// heartbeating its lease (ExtendLease), then ack it (handler resolved) or fail it (handler
// threw), fenced by the batch's attempt.
import { status as GrpcStatus } from "@grpc/grpc-js";

import type { ProcessOutcome, StartedBatch } from "./gen/lightspeed/orchestrator/v1/batch";
import type { Client } from "./client";
import { OrchestratorError, Reason } from "./errors";

/** Throw from a handler to fail the batch as non-retryable: it is dead-lettered at once. */
export class PermanentFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PermanentFailure";
  }
}

/**
 * Does the work of one started batch. Resolving acks it; throwing fails it (retryable, with the
 * error's message as the reason; throw PermanentFailure to dead-letter at once). `signal` aborts
 * when a heartbeat finds the lease lost (another attempt owns the batch now).
 */
export type Handler = (started: StartedBatch, signal: AbortSignal) => Promise<void> | void;

/** What happened to one started batch. */
export interface WorkResult {
  started: StartedBatch;
  /** The server's answer to the ack or fail; undefined if that call was refused (reportError). */
  outcome?: ProcessOutcome;
  /** What the handler threw; undefined when it resolved (and the batch was acked). */
  error?: unknown;
  /** The refusal of the ack/fail call, e.g. STALE_ATTEMPT after a lost lease. */
  reportError?: OrchestratorError;
  /** Successful ExtendLease calls while the handler ran. */
  heartbeats: number;
  /** A heartbeat was refused because the lease was gone. */
  leaseLost: boolean;
}

export interface WorkerOptions {
  pipeline: string;
  handler: Handler;
  /** Only start these stages (default: all). */
  stages?: string[];
  /** Most batches started (and handled concurrently) per round; default 8. */
  maxBatches?: number;
  /** Between ExtendLease calls; default a third of the batch's lease (none when leases never expire). */
  heartbeatIntervalMs?: number;
  /** How long run() waits after a round that started nothing; default 500. */
  pollIntervalMs?: number;
  /** Called by run() with every result. */
  onResult?: (result: WorkResult) => void;
}

const LEASE_LOST: string[] = [Reason.STALE_ATTEMPT, Reason.NOT_IN_FLIGHT, Reason.BATCH_NOT_FOUND];

export class Worker {
  constructor(
    readonly client: Client,
    readonly options: WorkerOptions,
  ) {}

  /** One round; the results in start order ([] when nothing was available). */
  async runOnce(): Promise<WorkResult[]> {
    const pending: Promise<WorkResult>[] = [];
    const stream = this.client.startAvailable({
      pipeline: this.options.pipeline,
      maxBatches: this.options.maxBatches ?? 8,
      stages: this.options.stages ?? [],
    });
    try {
      for await (const started of stream) {
        pending.push(this.process(started));
      }
    } finally {
      // Batches already started are handled and reported even if the stream failed.
      await Promise.allSettled(pending);
    }
    return Promise.all(pending);
  }

  /** Rounds until `signal` aborts; an UNAVAILABLE server is waited out, other refusals thrown. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let results: WorkResult[] = [];
      try {
        results = await this.runOnce();
      } catch (err) {
        if (!(err instanceof OrchestratorError) || err.code !== GrpcStatus.UNAVAILABLE) {
          throw err;
        }
      }
      for (const result of results) {
        this.options.onResult?.(result);
      }
      if (results.length === 0 && !signal.aborted) {
        await sleep(this.options.pollIntervalMs ?? 500, signal);
      }
    }
  }

  private async process(started: StartedBatch): Promise<WorkResult> {
    const { pipeline } = this.options;
    const key = started.batch?.key ?? "";
    const attempt = started.attempt;
    const result: WorkResult = { started, heartbeats: 0, leaseLost: false };
    const lease = new AbortController();

    let timer: NodeJS.Timeout | undefined;
    let beating: Promise<void> = Promise.resolve();
    const interval = this.options.heartbeatIntervalMs ?? (started.leaseDeadlineMs - started.startedAtMs) / 3;
    if (started.leaseDeadlineMs > 0 && interval > 0) {
      let busy = false;
      timer = setInterval(() => {
        if (busy || lease.signal.aborted) {
          return;
        }
        busy = true;
        beating = this.client
          .extendLease({ pipeline, key, attempt })
          .then(() => {
            result.heartbeats++;
          })
          .catch((err: unknown) => {
            if (err instanceof OrchestratorError && LEASE_LOST.includes(err.reason)) {
              result.leaseLost = true;
              lease.abort(err);
            }
            // Anything else (e.g. UNAVAILABLE) is transient: try again next tick.
          })
          .finally(() => {
            busy = false;
          });
      }, interval);
    }

    try {
      await this.options.handler(started, lease.signal);
    } catch (err) {
      result.error = err;
    } finally {
      clearInterval(timer);
      await beating;
    }

    try {
      if (result.error === undefined) {
        result.outcome = (await this.client.ackBatch({ pipeline, key, attempt })).outcome;
      } else {
        result.outcome = (
          await this.client.failBatch({
            pipeline,
            key,
            attempt,
            reason: failureReason(result.error),
            nonRetryable: result.error instanceof PermanentFailure,
          })
        ).outcome;
      }
    } catch (err) {
      result.reportError = OrchestratorError.fromServiceError(err);
    }
    return result;
  }
}

/** The longest failure reason a worker sends (a handler's message can be a whole stack). */
export const MAX_REASON_CHARS = 1024;

/**
 * The reason a worker fails a batch with when its handler threw `err`: the error's message (any
 * other thrown value as a string), trimmed, else "handler failed"; at most 1,024 characters. The
 * same for Worker and StreamWorker (docs/work-stream.md).
 */
export function failureReason(err: unknown): string {
  const message = err == null ? "" : err instanceof Error ? err.message : String(err);
  return (message.trim() || "handler failed").slice(0, MAX_REASON_CHARS);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
