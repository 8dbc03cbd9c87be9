// Fail-over between two servers; run by scripts/clients-failover-test.sh.
//
//     node dist/examples/failover.js A_ADDRESS B_ADDRESS A_PID
//
// A and B are two independent servers (IP:PORT); A_PID is A's process, which this example kills
// halfway. A `new Client([A, B])` and a StreamWorker on it must use A first, then B once A is
// gone; a Client of two dead addresses must fail UNAVAILABLE; a list with a host name is refused.
// With $LIGHTSPEED_TOKEN set, every call carries it. Exits non-zero on the first mismatch.
import { randomBytes } from "node:crypto";
import { createConnection, createServer } from "node:net";
import { status } from "@grpc/grpc-js";

import { Client, OrchestratorError, StreamWorker, pb } from "../src";

function check(ok: boolean, what: string): void {
  if (!ok) {
    console.log(`  MISMATCH - ${what}`);
    process.exit(1);
  }
  console.log(`  ok - ${what}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await cond())) {
    if (Date.now() > deadline) check(false, `timed out waiting for: ${what}`);
    await sleep(20);
  }
}

function refuses(address: string): Promise<boolean> {
  const colon = address.lastIndexOf(":");
  return new Promise((resolve) => {
    const socket = createConnection({ host: address.slice(0, colon), port: Number(address.slice(colon + 1)) });
    socket.once("connect", () => { socket.destroy(); resolve(false); });
    socket.once("error", () => resolve(true));
  });
}

function deadAddress(): Promise<string> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(`127.0.0.1:${port}`));
    });
  });
}

async function main(a: string, b: string, aPid: number): Promise<void> {
  const token = process.env.LIGHTSPEED_TOKEN || undefined;
  const options = token ? { bearerToken: token } : {};
  const name = `ts-failover-${randomBytes(4).toString("hex")}`;
  const spec = {
    name, stages: ["work"],
    connectors: [{ name: "src", kind: pb.ConnectorKind.CONNECTOR_KIND_SOURCE, stage: "work" }],
  };
  const onlyA = new Client(a, undefined, options);
  const onlyB = new Client(b, undefined, options);
  for (const c of [onlyA, onlyB]) await c.createPipeline({ spec });
  const enqueue = async (c: Client, key: string) =>
    (await c.enqueueBatch({ pipeline: name, batch: { key, stage: "work", records: 1, sequence: 1, idempotencyKey: key } },
      { deadline: 20_000 })).deduplicated;

  const client = new Client([a, b], undefined, options);
  const handled = new Set<string>();
  const worker = new StreamWorker(client, {
    pipeline: name, stages: ["work"], minReconnectBackoffMs: 20, maxReconnectBackoffMs: 500,
    handler: async (started) => { handled.add(started.batch?.key ?? ""); },
  });
  worker.start();
  try {
    check((await enqueue(client, "on-a")) === false, "new Client([A, B]) enqueues");
    check((await enqueue(onlyA, "on-a")) === true, "pick_first: the batch went to A (A deduplicates it)");
    await waitFor("the worker handles on-a", () => handled.has("on-a"));
    check(true, "the StreamWorker handled on-a from A");

    process.kill(aPid, "SIGKILL");
    await waitFor("A's port to refuse connections", () => refuses(a));
    console.log(`  .. killed A (pid ${aPid})`);

    check((await enqueue(client, "on-b")) === false, "after A died, new Client([A, B]) enqueues");
    check((await enqueue(onlyB, "on-b")) === true, "the batch went to B (B deduplicates it)");
    await waitFor("the worker handles on-b", () => handled.has("on-b"));
    check(true, "the StreamWorker reconnected to B and handled on-b");
  } finally {
    worker.abort();
    client.close();
    onlyA.close();
    onlyB.close();
  }

  const dead = new Client([await deadAddress(), await deadAddress()], undefined, options);
  try {
    await dead.getStatus({ pipeline: name }, { deadline: 20_000 });
    check(false, "a list of dead addresses fails");
  } catch (e) {
    check(e instanceof OrchestratorError && e.code === status.UNAVAILABLE,
      `a list of dead addresses fails UNAVAILABLE (${(e as Error).message})`);
  } finally {
    dead.close();
  }
  try {
    new Client(["localhost:1", "127.0.0.1:2"]);
    check(false, "a list with a host name is refused");
  } catch (e) {
    check((e as Error).message.includes("IP:PORT"), `a list with a host name is refused: ${(e as Error).message}`);
  }
}

if (process.argv.length !== 5) {
  console.log("usage: node dist/examples/failover.js A_ADDRESS B_ADDRESS A_PID");
  process.exit(2);
}
main(process.argv[2], process.argv[3], Number(process.argv[4])).then(
  () => process.exit(0),
  (e) => { console.log(`  MISMATCH - ${e instanceof Error ? e.stack : e}`); process.exit(1); },
);
