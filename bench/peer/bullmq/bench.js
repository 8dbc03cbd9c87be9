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
const fs = require("node:fs");

/** CPU seconds (user + system) of a process so far, from /proc (run.sh passes Redis's pid). */
function cpuSeconds(pid) {
  if (!pid) return NaN;
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

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

/** p50/p99/max of take→ack in ms. */
function percentiles(ms) {
  const s = Float64Array.from(ms).sort();
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { take_ack_p50_ms: at(0.5), take_ack_p99_ms: at(0.99), take_ack_max_ms: s[s.length - 1] };
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
  const redisCpu0 = cpuSeconds(process.env.REDIS_PID);
  const t0 = process.hrtime.bigint();
  let done = 0;
  let worker;
  // take→ack: from the processor being called to the "completed" event (after BullMQ's
  // moveToCompleted script has run), per job; as the clients measure handler → ack confirmed.
  const taken = new Map();
  const latencies = [];
  if (workload !== "enqueue") {
    let finish;
    const allDone = new Promise((r) => (finish = r));
    worker = new Worker(name, async (job) => {
      taken.set(job.id, process.hrtime.bigint());
      if (workload === "retry" && job.attemptsMade < 2) throw new Error("fail twice");
      if (workload === "dlq") throw new Error("always");
    }, { connection, concurrency: OUTSTANDING });
    worker.on("completed", (job) => {
      const t = taken.get(job.id);
      if (t !== undefined) latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
      if (++done === N) finish();
    });
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
  const line = { client: "bullmq", workload, items: done, seconds, rate: done / seconds,
    server_cpu_us_per_item: ((cpuSeconds(process.env.REDIS_PID) - redisCpu0) * 1e6) / done,
    redis_appendfsync: process.env.REDIS_APPENDFSYNC || "no" };
  if (workload === "lifecycle") Object.assign(line, percentiles(latencies));
  console.log(JSON.stringify(line));
  await queue.obliterate({ force: true });
  await queue.close();
}

(async () => {
  for (const w of workloads) await run(w);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
