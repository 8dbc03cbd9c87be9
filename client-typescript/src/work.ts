// A continuous worker on the Work stream (SPEC 4.2): the server pushes a started batch whenever
// one of `concurrency` slots is free, and takes acks, failures and heartbeats on the same stream,
// answering each by request id. N handlers run whenever N batches are available; nothing polls.
// The options and defaults are the same in every client of this project. With concurrency ≥ 32
// the slots are split over several streams (`streams`, as the Python worker): on one stream
// grpc-js writes one ack per event-loop turn (docs/work-stream.md, bench/findings.md round 18).
import * as grpc from "@grpc/grpc-js";

import type { ProcessOutcome, StartedBatch } from "./gen/lightspeed/orchestrator/v1/batch";
import {
  OrchestratorServiceService,
  WorkRequest,
  WorkResponse,
  type WorkResult as WireResult,
} from "./gen/lightspeed/orchestrator/v1/orchestrator_service";
import type { Client } from "./client";
import { OrchestratorError, Reason } from "./errors";
import { PermanentFailure, failureReason, type Handler, type WorkResult } from "./worker";
import { decoder, encoder } from "./wire";

// The stream's messages through wire.ts (int64 without a BigInt, no extra copy): one started
// batch and one answer come in, one ack goes out per batch, so their encoding is per item.
const serializeRequest = encoder(WorkRequest);
const deserializeResponse = decoder(WorkResponse);

export interface StreamWorkerOptions {
  pipeline: string;
  handler: Handler;
  /** Handlers running at once = the streams' capacities added up (1..1000); default 1. */
  concurrency?: number;
  /**
   * Work streams to open, 1..concurrency; default one per 16 of `concurrency`, 1 to 4 (as the
   * Python worker): grpc-js hands a stream's next message to HTTP/2 only once the previous one
   * was written out, one per event-loop turn, so one stream sends at most one ack per turn.
   */
  streams?: number;
  /** Only these stages (default: all). */
  stages?: string[];
  /** A heartbeat every lease × this (0 < f < 1); default 1/3. */
  heartbeatFraction?: number;
  /** stop() lets running handlers finish for this long; default 30000 ms. */
  shutdownGraceMs?: number;
  /** Reconnect backoff after the stream breaks: from min doubling (with jitter) to max; 100 / 5000 ms. */
  minReconnectBackoffMs?: number;
  maxReconnectBackoffMs?: number;
  /** Called with every finished batch, once its ack or fail is answered. */
  onResult?: (result: WorkResult) => void;
}

/** Counters since start(), as the Java WorkerStats. */
export interface StreamWorkerStats {
  started: number;
  acked: number;
  retriesScheduled: number;
  deadLettered: number;
  reportsDropped: number;
  leasesLost: number;
  reportErrors: number;
}

const LEASE_LOST: string[] = [Reason.STALE_ATTEMPT, Reason.NOT_IN_FLIGHT, Reason.BATCH_NOT_FOUND];
let nextRequestId = 0;

type Pending = { resolve: (r: WireResult) => void; reject: (e: unknown) => void };

/** One open Work stream. */
class Session {
  readonly call: grpc.ClientDuplexStream<WorkRequest, WorkResponse>;
  readonly pending = new Map<number, Pending>();
  sendsClosed = false;
  readonly ended: Promise<void>;

  constructor(client: Client, options: StreamWorkerOptions, capacity: number,
    onStarted: (s: StartedBatch, from: Session) => void, onEnded: (s: Session, err?: unknown) => void) {
    this.call = client.raw.makeBidiStreamRequest(OrchestratorServiceService.work.path, serializeRequest,
      deserializeResponse, new grpc.Metadata(), {});
    this.ended = new Promise((resolve) => {
      let done = false;
      const end = (err?: unknown) => {
        if (done) return;
        done = true;
        this.sendsClosed = true;
        for (const [id, p] of this.pending) {
          this.pending.delete(id);
          p.reject(new Error("the Work stream ended before answering"));
        }
        resolve();
        onEnded(this, err);
      };
      this.call.on("data", (m: WorkResponse) => {
        if (m.response?.$case === "started") {
          onStarted(m.response.started, this);
        } else if (m.response?.$case === "result") {
          const p = this.pending.get(m.response.result.requestId);
          if (p) {
            this.pending.delete(m.response.result.requestId);
            p.resolve(m.response.result);
          }
        }
      });
      this.call.on("error", (err) => end(err));
      this.call.on("end", () => end());
    });
    this.call.write(WorkRequest.fromPartial({
      request: { $case: "open", open: {
        pipeline: options.pipeline, stages: options.stages ?? [], capacity } },
    }));
  }

  /**
   * Sends an ack, fail or extend with a fresh request id; resolves with its result. `request` has
   * every field of its message set (it is encoded as it is, not through fromPartial).
   */
  request(request: WorkRequest["request"]): Promise<WireResult> {
    if (this.sendsClosed || !request) {
      return Promise.reject(new Error("the Work stream is closed"));
    }
    const id = ++nextRequestId;
    (request as any)[request.$case].requestId = id;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.call.write({ request });
    });
  }

  halfClose(): void {
    if (!this.sendsClosed) {
      this.sendsClosed = true;
      this.call.end(); // requests already sent are still answered
    }
  }

  cancel(): void {
    this.sendsClosed = true;
    this.call.cancel();
  }
}

export class StreamWorker {
  /** The open stream of each slot of `capacities` (undefined while it reconnects). */
  private readonly sessions: (Session | undefined)[];
  /** The capacity of each stream: `concurrency` split as evenly as it goes. */
  private readonly capacities: number[];
  private closing = false;
  private aborted = false;
  private readonly backoffMs: number[];
  private readonly reconnectTimers: (NodeJS.Timeout | undefined)[];
  /** Handlers running (each holds one of `concurrency` slots until its handler returns). */
  private readonly running = new Set<Promise<void>>();
  /** Reports sent and not answered yet: stop() waits for them. */
  private readonly reports = new Set<Promise<void>>();
  /** The heartbeat timers and abort signals of running handlers: abort() ends them all. */
  private readonly leases = new Set<{ timer?: NodeJS.Timeout; controller: AbortController }>();
  private readonly queue: { started: StartedBatch; from: Session }[] = [];
  private readonly counters: StreamWorkerStats = {
    started: 0, acked: 0, retriesScheduled: 0, deadLettered: 0, reportsDropped: 0, leasesLost: 0, reportErrors: 0,
  };

  constructor(readonly client: Client, readonly options: StreamWorkerOptions) {
    const c = options.concurrency ?? 1;
    if (!Number.isInteger(c) || c < 1 || c > 1000) {
      throw new RangeError(`concurrency must be 1..1000 (got ${c})`);
    }
    const n = options.streams ?? Math.min(4, Math.max(1, Math.floor(c / 16)));
    if (!Number.isInteger(n) || n < 1 || n > c) {
      throw new RangeError(`streams must be 1..concurrency (got ${n})`);
    }
    this.capacities = Array.from({ length: n }, (_, i) => Math.floor(c / n) + (i < c % n ? 1 : 0));
    this.sessions = this.capacities.map(() => undefined);
    this.backoffMs = this.capacities.map(() => options.minReconnectBackoffMs ?? 100);
    this.reconnectTimers = this.capacities.map(() => undefined);
  }

  /** Opens the streams; the worker runs until stop() or abort(). */
  start(): this {
    this.capacities.forEach((_, i) => this.connect(i));
    return this;
  }

  stats(): StreamWorkerStats {
    return { ...this.counters };
  }

  /**
   * Graceful stop: the server starts nothing more for this worker; batches already started for it
   * and running handlers finish and report (up to shutdownGraceMs). Resolves when done.
   */
  async stop(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.reconnectTimers.forEach((t) => clearTimeout(t));
    const deadline = Date.now() + (this.options.shutdownGraceMs ?? 30_000);
    const open = this.sessions.filter((s): s is Session => s !== undefined);
    for (const s of open) s.halfClose();
    await Promise.race([Promise.all(open.map((s) => s.ended)), delay(Math.max(0, deadline - Date.now()))]);
    for (const s of open) s.cancel(); // what it had not delivered comes back by lease expiry
    while ((this.running.size > 0 || this.queue.length > 0 || this.reports.size > 0) && Date.now() < deadline) {
      await Promise.race([...this.running, ...this.reports, delay(50)]);
    }
  }

  /**
   * Stops at once, as a crash would: nothing more is reported, heartbeats stop (their timers are
   * cleared, so they no longer keep the process alive), running handlers' signals abort; leases
   * expire on the server.
   */
  abort(): void {
    this.closing = true;
    this.aborted = true;
    this.reconnectTimers.forEach((t) => clearTimeout(t));
    for (const s of this.sessions) s?.cancel();
    this.queue.length = 0;
    for (const lease of this.leases) {
      clearInterval(lease.timer);
      lease.controller.abort(new Error("the worker was aborted"));
    }
    this.leases.clear();
  }

  /** Opens stream i (of `capacities`). */
  private connect(i: number): void {
    if (this.closing) return;
    this.sessions[i] = new Session(this.client, this.options, this.capacities[i],
      (started, from) => this.onStarted(started, from, i), (s, err) => this.onEnded(s, err, i));
  }

  private onEnded(s: Session, err: unknown, i: number): void {
    if (this.sessions[i] === s) this.sessions[i] = undefined;
    if (this.closing) return;
    const max = this.options.maxReconnectBackoffMs ?? 5000;
    const backoff = this.backoffMs[i];
    const wait = backoff / 2 + Math.random() * (backoff / 2);
    this.backoffMs[i] = Math.min(backoff * 2, max);
    const why = err instanceof Error ? err.message : "ended by the server";
    console.warn(`lightspeed worker: Work stream of pipeline '${this.options.pipeline}' ended (${why}); reconnecting in ${Math.round(wait)} ms`);
    this.reconnectTimers[i] = setTimeout(() => this.connect(i), wait);
  }

  private onStarted(started: StartedBatch, from: Session, i: number): void {
    this.backoffMs[i] = this.options.minReconnectBackoffMs ?? 100;
    if (this.aborted) return;
    this.counters.started++;
    this.queue.push({ started, from });
    this.pump();
  }

  /** Where a batch's reports go: the stream that started it while it is open, else another one. */
  private sessionFor(from: Session): Session | undefined {
    if (!from.sendsClosed) return from;
    return this.sessions.find((s) => s !== undefined && !s.sendsClosed);
  }

  /** Runs queued batches while fewer than `concurrency` handlers run (a reconnect may overlap). */
  private pump(): void {
    while (this.running.size < (this.options.concurrency ?? 1) && this.queue.length > 0) {
      const { started, from } = this.queue.shift()!;
      const task: Promise<void> = this.process(started, from).then(() => {
        this.running.delete(task);
        this.pump();
      });
      this.running.add(task);
    }
  }

  /**
   * Runs the handler, then sends its ack or fail without waiting for the answer: the slot frees
   * as soon as the handler returns, so the next batch runs at once (as the Go and Java workers do);
   * the answer is counted, and onResult called, when it arrives.
   */
  private async process(started: StartedBatch, from: Session): Promise<void> {
    const key = started.batch?.key ?? "";
    const attempt = started.attempt;
    const result: WorkResult = { started, heartbeats: 0, leaseLost: false };
    const lease: { timer?: NodeJS.Timeout; controller: AbortController } = { controller: new AbortController() };
    const signal = lease.controller.signal;
    const leaseMs = started.leaseDeadlineMs - started.startedAtMs;
    if (started.leaseDeadlineMs > 0 && leaseMs > 0) {
      let busy = false;
      lease.timer = setInterval(() => {
        if (busy || signal.aborted || this.aborted) return;
        busy = true;
        this.extend(from, key, attempt, leaseMs)
          .then(() => { result.heartbeats++; })
          .catch((err: unknown) => {
            if (err instanceof OrchestratorError && LEASE_LOST.includes(err.reason)) {
              if (!result.leaseLost) this.counters.leasesLost++;
              result.leaseLost = true;
              lease.controller.abort(err);
            }
          })
          .finally(() => { busy = false; });
      }, Math.max(1, leaseMs * (this.options.heartbeatFraction ?? 1 / 3)));
    }
    this.leases.add(lease);
    try {
      await this.options.handler(started, signal);
    } catch (err) {
      result.error = err ?? new Error("handler failed");
    } finally {
      clearInterval(lease.timer);
      this.leases.delete(lease);
    }
    if (this.aborted) return;
    const report = this.sendReport(from, result, key, attempt).then(() => {
      this.reports.delete(report);
      this.options.onResult?.(result);
    });
    this.reports.add(report);
  }

  /** The ack or fail of one finished handler; fills in result.outcome or result.reportError. */
  private async sendReport(from: Session, result: WorkResult, key: string, attempt: number): Promise<void> {
    try {
      if (result.error === undefined) {
        result.outcome = await this.report(from, { $case: "ack", ack: { requestId: 0, key, attempt } },
          async () => (await this.client.ackBatch({ pipeline: this.options.pipeline, key, attempt })).outcome!);
        this.counters.acked++;
      } else {
        const reason = failureReason(result.error);
        const nonRetryable = result.error instanceof PermanentFailure;
        result.outcome = await this.report(from, { $case: "fail", fail: { requestId: 0, key, attempt, reason, nonRetryable } },
          async () => (await this.client.failBatch({ pipeline: this.options.pipeline, key, attempt, reason, nonRetryable })).outcome!);
        const c = result.outcome.outcome?.$case;
        if (c === "retryScheduled") this.counters.retriesScheduled++;
        else if (c === "deadLettered") this.counters.deadLettered++;
        else if (c === "failureRejected") this.counters.reportsDropped++;
      }
    } catch (err) {
      result.reportError = OrchestratorError.fromServiceError(err);
      if (LEASE_LOST.includes(result.reportError.reason)) this.counters.reportsDropped++;
      else this.counters.reportErrors++;
    }
  }

  /** On the stream when one is up (falling back to the unary call if it breaks first). */
  private async report(from: Session, request: WorkRequest["request"],
    unary: () => Promise<ProcessOutcome>): Promise<ProcessOutcome> {
    const s = this.sessionFor(from);
    if (s) {
      let r: WireResult | undefined;
      try {
        r = await s.request(request);
      } catch {
        r = undefined; // no answer: the unary call decides (acks are idempotent)
      }
      if (r) {
        if (r.result?.$case === "error") throw OrchestratorError.fromStatus(r.result.error);
        if (r.result?.$case === "outcome") return r.result.outcome;
      }
    }
    return unary();
  }

  private async extend(from: Session, key: string, attempt: number, leaseMs: number): Promise<void> {
    const s = this.sessionFor(from);
    if (s) {
      const r = await withTimeout(s.request({ $case: "extend", extend: { requestId: 0, key, attempt } }), leaseMs);
      if (r.result?.$case === "error") throw OrchestratorError.fromStatus(r.result.error);
      return;
    }
    await this.client.extendLease({ pipeline: this.options.pipeline, key, attempt }, { deadline: leaseMs });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("heartbeat not answered within the lease")), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e) => { clearTimeout(t); reject(e); });
  });
}
