// A StreamWorker splits its concurrency over several Work streams (one per 16 of concurrency, 1
// to 4, or `streams`): grpc-js writes one message per stream per event-loop turn, so one stream
// caps the acks a turn can carry. Checks that concurrency 64 opens 4 streams, that every one of
// them is dealt batches, that each batch is handled once and acked, and that `streams: 1` opens
// one. Run by scripts/clients-test.sh against a real server:
//   node dist/examples/worker-streams.js HOST:PORT    (exit 0 = ok; $LIGHTSPEED_TOKEN if needed)
import * as grpc from "@grpc/grpc-js";

import { BatchingProducer, Client, StreamWorker, pb } from "../src";

const WORK_PATH = "/lightspeed.orchestrator.v1.OrchestratorService/Work";
const BATCHES = 400;

let failures = 0;
function check(ok: boolean, what: string): void {
  console.log(`${ok ? "ok" : "FAILED"}: ${what}`);
  if (!ok) failures++;
}

/** Started batches received per Work call this client opened, in opening order. */
const startedPerStream: number[] = [];
const countStreams: grpc.Interceptor = (options, nextCall) => {
  if (options.method_definition.path !== WORK_PATH) return new grpc.InterceptingCall(nextCall(options));
  const index = startedPerStream.push(0) - 1;
  return new grpc.InterceptingCall(nextCall(options), {
    start(metadata, _listener, next) {
      next(metadata, new grpc.ListenerBuilder().withOnReceiveMessage((message: pb.WorkResponse, nextMessage) => {
        if (message.response?.$case === "started") startedPerStream[index]++;
        nextMessage(message);
      }).build());
    },
  });
};

async function run(client: Client, concurrency: number, streams?: number): Promise<void> {
  startedPerStream.length = 0;
  const name = `worker-streams-${concurrency}-${streams ?? "default"}-${Date.now()}`;
  await client.createPipeline({ spec: {
    name, stages: ["work"],
    connectors: [{ name: "src", kind: pb.ConnectorKind.CONNECTOR_KIND_SOURCE, stage: "work" }],
    boundary: { maxInFlight: 100000, maxQueued: 1000000 },
  } });
  const handled = new Map<string, number>();
  let processed = 0;
  let finished!: () => void;
  const allDone = new Promise<void>((r) => (finished = r));
  const worker = new StreamWorker(client, {
    pipeline: name, concurrency, ...(streams ? { streams } : {}),
    handler: async (started) => {
      handled.set(started.batch!.key, (handled.get(started.batch!.key) ?? 0) + 1);
      await new Promise((r) => setImmediate(r)); // let the streams' batches interleave
    },
    onResult: (r) => {
      if (r.outcome?.outcome?.$case === "processed") processed++;
      if (processed === BATCHES) finished();
    },
  }).start();
  const producer = new BatchingProducer(client, name);
  await Promise.all(Array.from({ length: BATCHES }, (_, i) =>
    producer.enqueue({ key: `k${i}`, stage: "work", records: 1, sequence: i + 1, lagMs: 0, idempotencyKey: `k${i}` })));
  await Promise.race([allDone, new Promise((r) => setTimeout(r, 30_000))]);
  await worker.stop();
  const want = streams ?? Math.min(4, Math.max(1, Math.floor(concurrency / 16)));
  const label = `concurrency ${concurrency}${streams ? `, streams ${streams}` : ""}`;
  check(startedPerStream.length === want, `${label}: ${startedPerStream.length} Work streams opened (want ${want})`);
  check(startedPerStream.every((n) => n > 0), `${label}: every stream was dealt batches (${startedPerStream.join(", ")})`);
  check(processed === BATCHES && worker.stats().acked === BATCHES, `${label}: ${processed} of ${BATCHES} acked`);
  check(handled.size === BATCHES && [...handled.values()].every((n) => n === 1), `${label}: each batch handled once`);
  await client.deletePipeline({ name, force: true });
}

(async () => {
  const target = process.argv[2];
  if (!target) {
    console.error("usage: node worker-streams.js HOST:PORT");
    process.exit(2);
  }
  const token = process.env.LIGHTSPEED_TOKEN;
  const client = new Client(target, undefined, { interceptors: [countStreams], ...(token ? { bearerToken: token } : {}) });
  await client.waitReady(30_000);
  await run(client, 64);
  await run(client, 64, 1);
  await run(client, 40);
  let refused = false;
  try {
    new StreamWorker(client, { pipeline: "p", handler: () => {}, concurrency: 2, streams: 3 });
  } catch (e) {
    refused = e instanceof RangeError;
  }
  check(refused, "streams above concurrency is refused (RangeError)");
  client.close();
  process.exit(failures > 0 ? 1 : 0);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
