// StreamWorker.abort() ends the heartbeats of handlers still running: after abort() and
// client.close(), nothing of the worker keeps the process alive, so it exits by itself.
// (A heartbeat timer left running, the bug this checks, would keep it alive for good; an unref'd
// guard timer then fails the check.) Run by scripts/clients-test.sh:
//   node dist/examples/abort-exits.js HOST:PORT    (exit 0 = ok; $LIGHTSPEED_TOKEN if the server needs one)
import { Client, StreamWorker, pb } from "../src";

async function main(): Promise<void> {
  const target = process.argv[2] ?? "127.0.0.1:50051";
  const token = process.env.LIGHTSPEED_TOKEN;
  const client = new Client(target, undefined, token ? { bearerToken: token } : {});
  const pipeline = `abort-exits-${Date.now()}`;
  await client.createPipeline({
    spec: {
      name: pipeline,
      stages: ["work"],
      connectors: [{ name: "src", kind: pb.ConnectorKind.CONNECTOR_KIND_SOURCE, stage: "work" }],
      boundary: { leaseMs: 30_000 }, // a heartbeat every 10 s while the handler runs
    },
  });
  let handlerStarted!: () => void;
  const started = new Promise<void>((resolve) => (handlerStarted = resolve));
  const worker = new StreamWorker(client, {
    pipeline,
    concurrency: 2,
    handler: () => {
      handlerStarted();
      return new Promise<void>(() => {}); // never finishes: the worker is aborted under it
    },
  }).start();
  await client.enqueueBatch({ pipeline, batch: { key: "b1", stage: "work", records: 1, sequence: 1, idempotencyKey: "b1" } });
  await started;
  worker.abort();
  await client.deletePipeline({ name: pipeline, force: true });
  client.close();
  // Does not keep the process alive itself; fires only if something else does.
  setTimeout(() => {
    console.error("FAIL: the process is still alive 15 s after abort() and close() (a heartbeat timer left running?)");
    process.exit(1);
  }, 15_000).unref();
  process.on("exit", (code) => {
    if (code === 0) console.log("ok: after abort() and close() the process exits by itself");
  });
}

main().catch((err) => {
  console.error("FAIL:", err);
  process.exit(1);
});
