// Load generator for the TypeScript client: BatchingProducer and StreamWorker (Work stream)
// against a running server. Usage: node loadgen.js HOST:PORT [N] [workloads]
// Workloads: enqueue, lifecycle, retry, dlq (N batches each) and retry-start, lease-start (the
// time-driven start latency; TIMING_BATCHES batches, TIMING_WAIT_MS retry delay, TIMING_LEASE_MS).
// Prints one JSON line per workload (see ../README.md).
"use strict";
const path = require("node:path");
const { BatchingProducer, Client, PermanentFailure, StreamWorker, pb } = require(
  path.join(__dirname, "../../../client-typescript/dist/src"),
);

const [target, nArg, workloadsArg] = process.argv.slice(2);
if (!target) {
  console.error("usage: node loadgen.js HOST:PORT [N] [enqueue,lifecycle,retry,dlq,retry-start,lease-start]");
  process.exit(2);
}
const N = Number(nArg || 20000);
const workloads = (workloadsArg || "enqueue,lifecycle,retry,dlq").split(",");
const OUTSTANDING = 64;

async function createPipeline(client, name, retry, leaseMs) {
  await client.createPipeline({
    spec: {
      name,
      stages: ["work"],
      connectors: [{ name: "src", kind: pb.ConnectorKind.CONNECTOR_KIND_SOURCE, stage: "work" }],
      boundary: { maxInFlight: 100000, maxQueued: 10000000, ...(leaseMs ? { leaseMs } : {}) },
      retry,
    },
  });
}

/** p50/p99/max of take→ack in ms. */
function percentiles(ms, prefix) {
  const s = Float64Array.from(ms).sort();
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { [`${prefix}_p50_ms`]: at(0.5), [`${prefix}_p99_ms`]: at(0.99), [`${prefix}_max_ms`]: s[s.length - 1] };
}

function batch(i) {
  return { key: `k${i}`, stage: "work", records: 1, sequence: i + 1, lagMs: 0, idempotencyKey: `k${i}` };
}

/** Enqueues N batches with at most OUTSTANDING unresolved; resolves when all are accepted. */
async function produce(producer, n) {
  let next = 0;
  async function lane() {
    while (next < n) {
      const i = next++;
      await producer.enqueue(batch(i));
    }
  }
  await Promise.all(Array.from({ length: OUTSTANDING }, lane));
}

async function run(client, workload) {
  const name = `loadgen-node-${workload}-${Date.now()}`;
  const retry = workload === "dlq" ? { maxAttempts: 3, initialBackoffMs: 0 } : { maxAttempts: 5, initialBackoffMs: 0 };
  await createPipeline(client, name, retry);
  const producer = new BatchingProducer(client, name);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let done = 0;
  let worker;
  // take→ack: from the handler being called to the server's answer to the ack (onResult).
  const taken = new Map();
  const latencies = [];
  if (workload !== "enqueue") {
    let finished;
    const allDone = new Promise((r) => (finished = r));
    worker = new StreamWorker(client, {
      pipeline: name,
      concurrency: OUTSTANDING,
      handler: (started) => {
        taken.set(started.batch.key, process.hrtime.bigint());
        if (workload === "retry" && started.attempt <= 2) throw new Error("fail twice");
        if (workload === "dlq") throw new Error("always");
      },
      onResult: (r) => {
        const c = r.outcome?.outcome?.$case;
        if (c === "processed") {
          latencies.push(Number(process.hrtime.bigint() - taken.get(r.started.batch.key)) / 1e6);
        }
        if (c === "processed" || c === "deadLettered") {
          if (++done === N) finished();
        }
      },
    }).start();
    await produce(producer, N);
    await allDone;
    await worker.stop();
  } else {
    await produce(producer, N);
    done = N;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  // This process's CPU (user + system) per item: the client's own cost, which on a shared
  // machine the rate alone hides (bench/findings.md, round 17).
  const line = { client: "node", workload, items: done, seconds, rate: done / seconds,
    client_cpu_us_per_item: (cpu.user + cpu.system) / done };
  if (workload === "lifecycle") Object.assign(line, percentiles(latencies, "take_ack"));
  console.log(JSON.stringify(line));
  await client.deletePipeline({ name, force: true });
}

// ---- time-driven starts: a batch that becomes ready by its retry time or by lease expiry -------
// The worker only holds its Work stream open; nothing polls. Each batch's due time comes from the
// server (the fail's RetryRecord.retry_at_ms; the first start's lease_deadline_ms); the observed
// start is the wall clock when the handler is called (same machine, same clock). The batches are
// enqueued in waves so that their due times spread over ~100 ms instead of falling on one ms.
const TIMING_WAIT_MS = Number(process.env.TIMING_WAIT_MS || 200);
const TIMING_BATCHES = Number(process.env.TIMING_BATCHES || 200);
// The lease of lease-start: longer than the enqueue waves and the first worker's abort take, so
// that its first heartbeat (at 0.99 of the lease) never comes and moves the deadline measured.
const TIMING_LEASE_MS = Number(process.env.TIMING_LEASE_MS || 500);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function enqueueInWaves(producer) {
  for (let i = 0; i < TIMING_BATCHES; i++) {
    producer.enqueue(batch(i));
    if (i % 20 === 19) await sleep(10);
  }
  await producer.flush();
}

async function untilCount(get, n, what) {
  const deadline = Date.now() + 60_000;
  while (get() < n) {
    if (Date.now() > deadline) throw new Error(`${what}: ${get()} of ${n} after 60 s`);
    await sleep(5);
  }
}

function timingLine(workload, lateMs, serverLateMs, t0, waitMs) {
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { client: "node", workload, items: lateMs.length, seconds, wait_ms: waitMs,
    ...percentiles(lateMs, "late"), ...percentiles(serverLateMs, "server_late") };
}

/** Each batch fails its first attempt; the retry is due TIMING_WAIT_MS later. */
async function retryStart(client) {
  const name = `loadgen-node-retry-start-${Date.now()}`;
  await createPipeline(client, name,
    { maxAttempts: 2, initialBackoffMs: TIMING_WAIT_MS, maxBackoffMs: TIMING_WAIT_MS });
  const retryAt = new Map();
  const lateMs = [];
  const serverLateMs = [];
  const t0 = process.hrtime.bigint();
  const worker = new StreamWorker(client, {
    pipeline: name,
    concurrency: TIMING_BATCHES,
    handler: (started) => {
      if (started.attempt === 1) throw new Error("retry later");
      const due = retryAt.get(started.batch.key);
      lateMs.push(Date.now() - due);
      serverLateMs.push(started.startedAtMs - due);
    },
    onResult: (r) => {
      if (r.outcome?.outcome?.$case === "retryScheduled") {
        retryAt.set(r.started.batch.key, r.outcome.outcome.retryScheduled.retryAtMs);
      }
    },
  }).start();
  await enqueueInWaves(new BatchingProducer(client, name));
  await untilCount(() => lateMs.length, TIMING_BATCHES, "retry-start");
  await worker.stop();
  console.log(JSON.stringify(timingLine("retry-start", lateMs, serverLateMs, t0, TIMING_WAIT_MS)));
  await client.deletePipeline({ name, force: true });
}

/** A worker takes every batch and crashes; a second worker gets them again at lease expiry. */
async function leaseStart(client) {
  const name = `loadgen-node-lease-start-${Date.now()}`;
  await createPipeline(client, name, { maxAttempts: 3, initialBackoffMs: 0 }, TIMING_LEASE_MS);
  const deadline = new Map();
  const lateMs = [];
  const serverLateMs = [];
  const t0 = process.hrtime.bigint();
  const crashing = new StreamWorker(client, {
    pipeline: name,
    concurrency: TIMING_BATCHES,
    heartbeatFraction: 0.99, // aborted well before its first heartbeat would keep the lease
    handler: (started) => {
      deadline.set(started.batch.key, started.leaseDeadlineMs);
      return new Promise(() => {}); // never finishes: the worker is aborted with it running
    },
  }).start();
  await enqueueInWaves(new BatchingProducer(client, name));
  await untilCount(() => deadline.size, TIMING_BATCHES, "lease-start first starts");
  crashing.abort();
  const worker = new StreamWorker(client, {
    pipeline: name,
    concurrency: TIMING_BATCHES,
    handler: (started) => {
      const due = deadline.get(started.batch.key);
      lateMs.push(Date.now() - due);
      serverLateMs.push(started.startedAtMs - due);
    },
  }).start();
  await untilCount(() => lateMs.length, TIMING_BATCHES, "lease-start restarts");
  await worker.stop();
  console.log(JSON.stringify(timingLine("lease-start", lateMs, serverLateMs, t0, TIMING_LEASE_MS)));
  await client.deletePipeline({ name, force: true });
}

(async () => {
  const client = new Client(target);
  await client.waitReady(30_000);
  for (const w of workloads) {
    if (w === "retry-start") await retryStart(client);
    else if (w === "lease-start") await leaseStart(client);
    else await run(client, w);
  }
  client.close();
  process.exit(0); // lease-start's aborted worker leaves its heartbeat timers behind
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
