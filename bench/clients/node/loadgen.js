// Load generator for the TypeScript client: BatchingProducer and StreamWorker (Work stream)
// against a running server. Usage: node loadgen.js HOST:PORT [N] [workloads]
// Prints one JSON line per workload (see ../README.md).
"use strict";
const path = require("node:path");
const { BatchingProducer, Client, PermanentFailure, StreamWorker, pb } = require(
  path.join(__dirname, "../../../client-typescript/dist/src"),
);

const [target, nArg, workloadsArg] = process.argv.slice(2);
if (!target) {
  console.error("usage: node loadgen.js HOST:PORT [N] [enqueue,lifecycle,retry,dlq]");
  process.exit(2);
}
const N = Number(nArg || 20000);
const workloads = (workloadsArg || "enqueue,lifecycle,retry,dlq").split(",");
const OUTSTANDING = 64;

async function createPipeline(client, name, retry) {
  await client.createPipeline({
    spec: {
      name,
      stages: ["work"],
      connectors: [{ name: "src", kind: pb.ConnectorKind.CONNECTOR_KIND_SOURCE, stage: "work" }],
      boundary: { maxInFlight: 100000, maxQueued: 10000000 },
      retry,
    },
  });
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
  const t0 = process.hrtime.bigint();
  let done = 0;
  let worker;
  if (workload !== "enqueue") {
    let finished;
    const allDone = new Promise((r) => (finished = r));
    worker = new StreamWorker(client, {
      pipeline: name,
      concurrency: OUTSTANDING,
      handler: (started) => {
        if (workload === "retry" && started.attempt <= 2) throw new Error("fail twice");
        if (workload === "dlq") throw new Error("always");
      },
      onResult: (r) => {
        const c = r.outcome?.outcome?.$case;
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
  console.log(JSON.stringify({ client: "node", workload, items: done, seconds, rate: done / seconds }));
  await client.deletePipeline({ name, force: true });
}

(async () => {
  const client = new Client(target);
  await client.waitReady(30_000);
  for (const w of workloads) await run(client, w);
  client.close();
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
