// Batching producer and acker: each enqueue (ack) gets its own promise, but they travel in
// EnqueueBatches (AckBatches) calls of up to maxItems items / maxBytes bytes, or maxDelayMs after
// the first item (defaults 100 / 1 MiB / 5 ms, as Pub/Sub's publisher; `batching: false` sends
// each item alone). One call in flight per stage, so a stage's sequences keep their order.
import * as grpc from "@grpc/grpc-js";

import type { Batch, ProcessOutcome } from "./gen/lightspeed/orchestrator/v1/batch";
import {
  AckBatchesRequest,
  AckBatchesResponse,
  AckItem,
  EnqueueBatchesRequest,
  EnqueueBatchesResponse,
  OrchestratorServiceService,
} from "./gen/lightspeed/orchestrator/v1/orchestrator_service";
import { Batch as BatchCodec } from "./gen/lightspeed/orchestrator/v1/batch";
import type { Client } from "./client";
import { OrchestratorError } from "./errors";
import { decoder, encodeItem, withRepeated } from "./wire";

export interface BatchingOptions {
  /** Items per call, 1..1000; default 100. */
  maxItems?: number;
  /** How long the first item waits for more; default 5 ms. */
  maxDelayMs?: number;
  /** Serialized bytes per call; default 1 MiB. */
  maxBytes?: number;
  /** false: every item is its own call, sent at once (still in order per stage). Default true. */
  batching?: boolean;
}

interface Item<I, R> {
  item: I;
  bytes: number;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

interface Lane<I, R> {
  queue: Item<I, R>[];
  bytes: number;
  inFlight: boolean;
  timer?: NodeJS.Timeout;
  /**
   * How many items the lane's last call returned to their callers plus those that waited for it
   * (0 once a call has left): a caller that keeps a bounded number outstanding sends the returned
   * ones again right away, so a call holding that many leaves without waiting for the timer.
   */
  refill: number;
  /** When the oldest waiting item arrived (performance.now()): its maxDelayMs runs from then. */
  first: number;
}

/**
 * Groups items per lane; one call in flight per lane; each item's result to its own promise.
 * Exported for the client's own checks (examples/batcher-waited.ts), not from the package.
 */
export class Batcher<I, R> {
  private readonly lanes = new Map<string, Lane<I, R>>();
  private readonly calls = new Set<Promise<void>>();
  private readonly maxItems: number;
  private readonly maxDelayMs: number;
  private readonly maxBytes: number;

  constructor(
    options: BatchingOptions,
    private readonly send: (items: I[]) => Promise<(R | OrchestratorError)[]>,
    private readonly size: (item: I) => number,
  ) {
    const batching = options.batching ?? true;
    this.maxItems = batching ? (options.maxItems ?? 100) : 1;
    this.maxDelayMs = batching ? (options.maxDelayMs ?? 5) : 0;
    this.maxBytes = batching ? (options.maxBytes ?? 1 << 20) : Number.MAX_SAFE_INTEGER;
    if (!Number.isInteger(this.maxItems) || this.maxItems < 1 || this.maxItems > 1000) {
      throw new RangeError(`maxItems must be 1..1000 (got ${this.maxItems})`);
    }
  }

  add(laneKey: string, item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let lane = this.lanes.get(laneKey);
      if (!lane) {
        lane = { queue: [], bytes: 0, inFlight: false, refill: 0, first: 0 };
        this.lanes.set(laneKey, lane);
      }
      if (lane.queue.length === 0) lane.first = performance.now();
      const bytes = this.size(item);
      lane.queue.push({ item, bytes, resolve, reject });
      lane.bytes += bytes;
      if (lane.inFlight) return;
      if (
        lane.queue.length >= this.maxItems ||
        lane.bytes >= this.maxBytes ||
        this.maxDelayMs === 0 ||
        (lane.refill > 0 && lane.queue.length >= lane.refill)
      ) {
        this.sendLane(lane);
      } else if (!lane.timer) {
        this.startTimer(lane, this.maxDelayMs);
      }
    });
  }

  /** Sends what the lane holds after delayMs, unless a call is in flight then. */
  private startTimer(lane: Lane<I, R>, delayMs: number): void {
    lane.timer = setTimeout(() => {
      lane.timer = undefined;
      if (!lane.inFlight && lane.queue.length > 0) this.sendLane(lane);
    }, delayMs);
  }

  /** Sends what waits now; resolves when every call so far has completed. */
  async flush(): Promise<void> {
    // Again after each call: what waited for it may wait for a refill (or its timer).
    for (;;) {
      for (const lane of this.lanes.values()) {
        if (!lane.inFlight && lane.queue.length > 0) this.sendLane(lane);
      }
      if (this.calls.size === 0) return;
      await Promise.allSettled([...this.calls]);
    }
  }

  private sendLane(lane: Lane<I, R>): void {
    clearTimeout(lane.timer);
    lane.timer = undefined;
    const taken: Item<I, R>[] = [];
    let bytes = 0;
    while (lane.queue.length > 0 && taken.length < this.maxItems) {
      const next = lane.queue[0];
      if (taken.length > 0 && bytes + next.bytes > this.maxBytes) break;
      lane.queue.shift();
      lane.bytes -= next.bytes;
      bytes += next.bytes;
      taken.push(next);
    }
    lane.inFlight = true;
    lane.refill = 0;
    lane.first = performance.now(); // what stays has waited at least this long already
    // What waited for this call, counted before its callers are answered: they may send again
    // (into the lane) before the lane is looked at below, and must not be counted twice.
    let waited = 0;
    const call: Promise<void> = this.send(taken.map((t) => t.item)).then(
      (results) => {
        waited = lane.queue.length;
        taken.forEach((t, i) => {
          const r = results[i];
          if (r === undefined) t.reject(new Error("the server sent no result for this item"));
          else if (r instanceof OrchestratorError) t.reject(r);
          else t.resolve(r);
        });
      },
      (err) => {
        waited = lane.queue.length;
        const e = OrchestratorError.fromServiceError(err);
        taken.forEach((t) => t.reject(e));
      },
    ).finally(() => {
      this.calls.delete(call);
      lane.inFlight = false;
      // The callers just answered are about to send again: the next call waits for them (or
      // maxDelayMs after its first item), so that a producer with W outstanding sends calls of
      // W, not two alternating calls of about W/2 (what sending the waiting items at once
      // converges to when a caller sends again more than a microtask after its answer: twice
      // the calls, each paying the server's fsync).
      lane.refill = taken.length + waited;
      if (lane.queue.length === 0) return;
      const wait = this.maxDelayMs - (performance.now() - lane.first);
      if (
        lane.queue.length >= lane.refill ||
        lane.queue.length >= this.maxItems ||
        lane.bytes >= this.maxBytes ||
        wait <= 0
      ) {
        this.sendLane(lane);
      } else if (!lane.timer) {
        this.startTimer(lane, wait);
      }
    });
    this.calls.add(call);
  }
}

// Each item is encoded once, when it is added (its size is that encoding's length), and a call's
// request is framed from those bytes (wire.ts): no second encoding of every item per call, no
// fromPartial copy of the whole request. The field numbers are those of EnqueueBatchesRequest.batches
// and AckBatchesRequest.acks (examples/wire-check.ts checks the bytes against the generated encoder).
const ENQUEUE_BATCHES_FIELD = 2;
const ACK_BATCHES_FIELD = 2;

/** Sends an already encoded request; resolves with the decoded response. */
function call<Res>(client: Client, path: string, decode: (b: Buffer) => Res, request: Buffer): Promise<Res> {
  return new Promise((resolve, reject) => {
    client.raw.makeUnaryRequest(path, (b: Buffer) => b, decode, request, new grpc.Metadata(), {},
      (err: grpc.ServiceError | null, response?: Res) => (err ? reject(err) : resolve(response as Res)));
  });
}

/** The item's encoding, or a rejected promise if it cannot be encoded. */
function encoded<T>(encode: () => Uint8Array, add: (bytes: Uint8Array) => Promise<T>): Promise<T> {
  let bytes: Uint8Array;
  try {
    bytes = encode();
  } catch (err) {
    return Promise.reject(err);
  }
  return add(bytes);
}

/** enqueue(batch) resolves with `deduplicated`, or rejects with the item's own OrchestratorError. */
export class BatchingProducer {
  private readonly batcher: Batcher<Uint8Array, boolean>;

  constructor(client: Client, pipeline: string, options: BatchingOptions = {}) {
    const head = EnqueueBatchesRequest.encode(EnqueueBatchesRequest.fromPartial({ pipeline })).finish();
    const decode = decoder(EnqueueBatchesResponse);
    const path = OrchestratorServiceService.enqueueBatches.path;
    this.batcher = new Batcher<Uint8Array, boolean>(
      options,
      async (batches) => (await call(client, path, decode, withRepeated(head, ENQUEUE_BATCHES_FIELD, batches)))
        .results.map((r) => (r.error ? OrchestratorError.fromStatus(r.error) : r.deduplicated)),
      (b) => b.length,
    );
  }

  enqueue(batch: Batch): Promise<boolean> {
    return encoded(() => encodeItem(BatchCodec, BatchCodec.fromPartial(batch)), (b) => this.batcher.add(batch.stage, b));
  }

  flush(): Promise<void> {
    return this.batcher.flush();
  }
}

/** ack(key, attempt) resolves with the outcome, or rejects with the item's own error. */
export class BatchingAcker {
  private readonly batcher: Batcher<Uint8Array, ProcessOutcome>;

  constructor(client: Client, pipeline: string, options: BatchingOptions = {}) {
    const head = AckBatchesRequest.encode(AckBatchesRequest.fromPartial({ pipeline })).finish();
    const decode = decoder(AckBatchesResponse);
    const path = OrchestratorServiceService.ackBatches.path;
    this.batcher = new Batcher<Uint8Array, ProcessOutcome>(
      options,
      async (acks) => (await call(client, path, decode, withRepeated(head, ACK_BATCHES_FIELD, acks)))
        .results.map((r) => (r.error ? OrchestratorError.fromStatus(r.error) : r.outcome!)),
      (a) => a.length,
    );
  }

  ack(key: string, attempt: number): Promise<ProcessOutcome> {
    // acks have no order to keep: four lanes, so up to four calls at once
    let h = 0;
    for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) | 0;
    return encoded(() => encodeItem(AckItem, AckItem.fromPartial({ key, attempt })),
      (a) => this.batcher.add(String(Math.abs(h) % 4), a));
  }

  flush(): Promise<void> {
    return this.batcher.flush();
  }
}
