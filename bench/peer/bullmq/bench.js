// BullMQ peer benchmark: the workloads of bench/clients (enqueue; enqueue→start→ack; fail twice
// then succeed; always fail to the failed set) on BullMQ and a local Redis, 64 outstanding.
// Usage: node bench.js REDIS_PORT [N] [workloads]. Prints one JSON line per workload, in the
// format of bench/clients. run.sh starts Redis and installs bullmq first.
"use strict";
const { Queue, Worker } = require("bullmq");

const [portArg, nArg, workloadsArg] = process.argv.slice(2);
const connection = { host: "127.0.0.1", port: Number(portArg || 6379) };
const N = Number(nArg || 20000);
const workloads = (workloadsArg || "enqueue,lifecycle,retry,dlq").split(",");
const OUTSTANDING = 64;

/** queue.add with at most OUTSTANDING unresolved, as the clients' producers are driven. */
async function produce(queue, n, opts) {
  let next = 0;
  async function lane() {
    while (next < n) {
      const i = next++;
      await queue.add("batch", { key: `k${i}`, records: 1, sequence: i + 1 }, { jobId: `k${i}`, ...opts });
    }
  }
  await Promise.all(Array.from({ length: OUTSTANDING }, lane));
}

async function run(workload) {
  const name = `peer-${workload}-${Date.now()}`;
  const queue = new Queue(name, { connection });
  // Like the orchestrator's retry policy in bench/clients: no backoff; 5 attempts, 3 for dlq.
  const opts = {
    attempts: workload === "dlq" ? 3 : 5,
    removeOnComplete: true,
    removeOnFail: workload !== "dlq",
  };
  const t0 = process.hrtime.bigint();
  let done = 0;
  let worker;
  if (workload !== "enqueue") {
    let finish;
    const allDone = new Promise((r) => (finish = r));
    worker = new Worker(name, async (job) => {
      if (workload === "retry" && job.attemptsMade < 2) throw new Error("fail twice");
      if (workload === "dlq") throw new Error("always");
    }, { connection, concurrency: OUTSTANDING });
    worker.on("completed", () => { if (++done === N) finish(); });
    worker.on("failed", (job) => {
      if (job && job.attemptsMade >= job.opts.attempts && ++done === N) finish();
    });
    await produce(queue, N, opts);
    await allDone;
    await worker.close();
  } else {
    await produce(queue, N, opts);
    done = N;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({ client: "bullmq", workload, items: done, seconds, rate: done / seconds }));
  await queue.obliterate({ force: true });
  await queue.close();
}

(async () => {
  for (const w of workloads) await run(w);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
