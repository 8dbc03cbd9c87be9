// The whole story against a running server; exits non-zero on the first mismatch.
//
//   cd client-typescript && npm ci && npm run build && node dist/examples/story.js 127.0.0.1:50051
//
// Creates its own uniquely named pipelines (and deletes them at the end): enqueue with an
// idempotency key, a deduplicated re-enqueue and a conflicting one; a Worker round
// (StartAvailable stream) where batch "a" is acked after a heartbeat and batch "b" fails, is
// retried (initialBackoffMs 0) and dead-lettered on its 2nd attempt (maxAttempts 2);
// WatchStarted sees every start; QUEUE_FULL (maxQueued 1) read from ErrorInfo and RetryInfo,
// on enqueueBatch and inside an enqueueBatches result; Worker.run (the README's loop); then
// the continuous StreamWorker (concurrency 8, a retry pushed at its retry time, a dead letter)
// fed by a BatchingProducer, and a BatchingAcker.
//
// With $LIGHTSPEED_TOKEN set (a server started with --token-file; the token needs every role),
// every call carries it (new Client(address, undefined, { bearerToken })), and a call without
// it must be refused with UNAUTHENTICATED MISSING_CREDENTIALS.
import { randomBytes } from "node:crypto";
import { status } from "@grpc/grpc-js";

import {
  BatchingAcker,
  BatchingProducer,
  Client,
  DOMAIN,
  OrchestratorError,
  PermanentFailure,
  Reason,
  StreamWorker,
  Worker,
  itemError,
  pb,
} from "../src";
import type { WorkResult } from "../src";

class Mismatch extends Error {}

function check(condition: boolean, what: string): void {
  if (!condition) {
    throw new Mismatch(what);
  }
  console.log(`  ok - ${what}`);
}

async function expectError(call: () => Promise<unknown>, reason: string, code: status): Promise<OrchestratorError> {
  try {
    await call();
  } catch (err) {
    if (!(err instanceof OrchestratorError)) {
      throw err;
    }
    check(
      err.reason === reason && err.code === code && err.domain === DOMAIN,
      `refused with ${status[code]} ${reason} (got ${err.message})`,
    );
    return err;
  }
  throw new Mismatch(`expected ${reason}, but the call succeeded`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function batch(key: string, stage: string, records: number, sequence: number): pb.Batch {
  return { key, stage, records, sequence, lagMs: 0, idempotencyKey: `idem-${key}` };
}

async function story(target: string): Promise<void> {
  const suffix = randomBytes(4).toString("hex");
  const story = `ts-story-${suffix}`;
  const full = `ts-full-${suffix}`;
  const token = process.env.LIGHTSPEED_TOKEN || undefined;
  const client = new Client(target, undefined, { bearerToken: token });
  await client.waitReady(30_000);
  console.log(`typescript: connected to ${target}${token ? " with a bearer token" : ""}; pipelines ${story}, ${full}`);
  if (token) {
    let refused: unknown;
    try {
      new Client(target, undefined, { bearerToken: " " }).close();
    } catch (err) {
      refused = err;
    }
    check(/empty/.test(String(refused)), `an empty bearer token is refused (${refused})`);
    const anonymous = new Client(target);
    try {
      await expectError(() => anonymous.listPipelines({}), Reason.MISSING_CREDENTIALS, status.UNAUTHENTICATED);
    } finally {
      anonymous.close();
    }
  }

  // 1. Pipelines: "story" retries once with no backoff, then dead-letters; "full" queues one.
  const created = (
    await client.createPipeline({
      spec: {
        name: story,
        stages: ["probe", "work"],
        connectors: [
          { name: "probe-src", kind: pb.ConnectorKind.CONNECTOR_KIND_SOURCE, stage: "probe" },
          { name: "work-src", kind: pb.ConnectorKind.CONNECTOR_KIND_SOURCE, stage: "work" },
        ],
        boundary: { leaseMs: 900 },
        retry: { maxAttempts: 2, initialBackoffMs: 0 },
      },
    })
  ).pipeline!;
  check(
    created.retry?.maxAttempts === 2 && created.retry?.initialBackoffMs === 0,
    "CreatePipeline returns the effective retry policy",
  );
  check(created.boundary?.maxQueued === 10000, "unset boundary fields come back with their defaults");
  const fullSpec = {
    name: full,
    stages: ["work"],
    connectors: [{ name: "src", kind: pb.ConnectorKind.CONNECTOR_KIND_SOURCE, stage: "work" }],
    boundary: { maxQueued: 1 },
  };
  await client.createPipeline({ spec: fullSpec });
  await expectError(() => client.createPipeline({ spec: fullSpec }), Reason.PIPELINE_EXISTS, status.ALREADY_EXISTS);

  // 2. WatchStarted, in the background; probe batches (stage "probe") until it is live.
  const watch = client.watchStarted({ pipeline: story });
  const seen: pb.StartedBatch[] = [];
  const pump = (async () => {
    for await (const started of watch) {
      seen.push(started);
    }
  })();
  let live = false;
  for (let i = 1; i <= 20 && !live; i++) {
    await client.enqueueBatch({ pipeline: story, batch: batch(`probe-${i}`, "probe", 1, i) });
    for await (const started of client.startAvailable({ pipeline: story, maxBatches: 1, stages: ["probe"] })) {
      await client.ackBatch({ pipeline: story, key: started.batch!.key, attempt: started.attempt });
    }
    for (let waited = 0; waited < 500 && !live; waited += 20) {
      live = seen.some((s) => s.batch?.key === `probe-${i}`);
      if (!live) {
        await sleep(20);
      }
    }
  }
  check(live, "WatchStarted stream is live (it delivered a probe batch)");

  // 3. Enqueue with idempotency keys.
  const a = batch("a", "work", 10, 1);
  check(!(await client.enqueueBatch({ pipeline: story, batch: a })).deduplicated, "enqueue a: accepted");
  check(
    (await client.enqueueBatch({ pipeline: story, batch: a })).deduplicated,
    "re-enqueue a with the same idempotency key: deduplicated",
  );
  await expectError(
    () => client.enqueueBatch({ pipeline: story, batch: { ...a, records: 11 } }),
    Reason.IDEMPOTENCY_CONFLICT,
    status.ALREADY_EXISTS,
  );
  check(
    !(await client.enqueueBatch({ pipeline: story, batch: batch("b", "work", 5, 2) })).deduplicated,
    "enqueue b: accepted",
  );

  // 4. Worker rounds: a is acked (after at least one heartbeat), b fails until dead-lettered.
  const worker = new Worker(client, {
    pipeline: story,
    stages: ["work"],
    maxBatches: 4,
    handler: async (started) => {
      if (started.batch?.key === "a") {
        await sleep(700); // longer than the heartbeat interval (lease 900 ms / 3)
        return;
      }
      throw new Error(`boom on attempt ${started.attempt}`);
    },
  });
  const round1 = new Map((await worker.runOnce()).map((r) => [r.started.batch!.key, r] as const));
  check([...round1.keys()].sort().join(",") === "a,b", `round 1 started a and b (got ${[...round1.keys()]})`);
  const ra = round1.get("a")!;
  const rb = round1.get("b")!;
  check(
    ra.error === undefined &&
      ra.outcome?.outcome?.$case === "processed" &&
      ra.outcome.outcome.processed.records === 10 &&
      ra.outcome.outcome.processed.attempt === 1,
    "a acked: Processed, 10 records, attempt 1",
  );
  check(ra.heartbeats >= 1, `a's lease was extended while it ran (${ra.heartbeats} heartbeats)`);
  check(
    rb.outcome?.outcome?.$case === "retryScheduled" &&
      rb.outcome.outcome.retryScheduled.nextAttempt === 2 &&
      rb.outcome.outcome.retryScheduled.reason === "boom on attempt 1",
    "b failed: RetryScheduled, next attempt 2",
  );
  const round2 = await worker.runOnce();
  check(
    round2.length === 1 && round2[0].started.batch?.key === "b" && round2[0].started.attempt === 2,
    "round 2 restarted b (attempt 2)",
  );
  const dead = round2[0].outcome?.outcome;
  check(
    dead?.$case === "deadLettered" &&
      dead.deadLettered.destination === `${story}.work.dlq` &&
      dead.deadLettered.reason === "boom on attempt 2",
    "b failed again: DeadLettered to <pipeline>.work.dlq",
  );
  check((await worker.runOnce()).length === 0, "round 3 starts nothing");
  const again = await client.ackBatch({ pipeline: story, key: "a", attempt: 1 });
  check(again.outcome?.outcome?.$case === "processed", "a repeated ack of a is idempotent");
  await expectError(
    () => client.ackBatch({ pipeline: story, key: "b", attempt: 2 }),
    Reason.NOT_IN_FLIGHT,
    status.FAILED_PRECONDITION,
  );

  const st = await client.getStatus({ pipeline: story });
  check(
    st.deadLetterCount === 1 && st.queuedCount === 0 && st.inFlightCount === 0 && st.valid,
    "GetStatus: 1 dead letter, nothing queued or in flight, valid",
  );
  const letters = (await client.listDeadLetters({ pipeline: story })).deadLetters;
  check(letters.map((d) => d.batchKey).join(",") === "b", "ListDeadLetters: b");

  // 5. WatchStarted saw a@1, b@1, b@2.
  const starts = () =>
    seen
      .filter((s) => s.batch?.stage === "work")
      .map((s) => `${s.batch?.key}@${s.attempt}`)
      .sort();
  for (let waited = 0; waited < 10_000 && starts().length < 3; waited += 20) {
    await sleep(20);
  }
  check(starts().join(",") === "a@1,b@1,b@2", `WatchStarted delivered every start (${starts()})`);
  watch.cancel();
  await pump;

  // 6. Backpressure: QUEUE_FULL with ErrorInfo and RetryInfo, also per item in EnqueueBatches.
  await client.enqueueBatch({ pipeline: full, batch: batch("q1", "work", 1, 1) });
  const err = await expectError(
    () => client.enqueueBatch({ pipeline: full, batch: batch("q2", "work", 1, 2) }),
    Reason.QUEUE_FULL,
    status.RESOURCE_EXHAUSTED,
  );
  check(err.retryDelayMs !== undefined && err.retryDelayMs > 0, `QUEUE_FULL carries RetryInfo (${err.retryDelayMs} ms)`);
  check(err.metadata.pipeline === full, "ErrorInfo metadata names the pipeline");
  const results = (await client.enqueueBatches({ pipeline: full, batches: [batch("q3", "work", 1, 3)] })).results;
  const item = itemError(results[0]);
  check(
    item?.reason === Reason.QUEUE_FULL && item.code === status.RESOURCE_EXHAUSTED,
    "EnqueueBatches item refused with QUEUE_FULL",
  );
  await expectError(
    () => client.getPipeline({ name: `ts-missing-${suffix}` }),
    Reason.PIPELINE_NOT_FOUND,
    status.NOT_FOUND,
  );

  // 7. The worker loop of the README: Worker.run until its signal aborts.
  await client.enqueueBatch({ pipeline: story, batch: batch("c", "work", 3, 3) });
  const stop = new AbortController();
  const outcomes: WorkResult[] = [];
  const timeout = setTimeout(() => stop.abort(), 20_000);
  await new Worker(client, {
    pipeline: story,
    stages: ["work"],
    pollIntervalMs: 100,
    handler: async () => {},
    onResult: (r) => {
      outcomes.push(r);
      stop.abort();
    },
  }).run(stop.signal);
  clearTimeout(timeout);
  check(
    outcomes.length === 1 && outcomes[0].started.batch?.key === "c" && outcomes[0].outcome?.outcome?.$case === "processed",
    "Worker.run processed c, then stopped",
  );

  // 8. The event log: a resumable stream from the first event, in id order.
  const events = client.events(story, 0);
  const ids: number[] = [];
  for await (const event of events) {
    ids.push(event.eventId);
    if (ids.length === 3) {
      break;
    }
  }
  events.cancel();
  check(ids.join(",") === "1,2,3" && events.lastEventId === 3, `WatchEvents from 0 delivers 1, 2, 3 (got ${ids})`);

  // 9. UpdatePipeline: one setting of the live pipeline, named by a field mask.
  const updated = await client.updatePipeline({
    pipeline: { name: story, boundary: { maxQueued: 50000 } },
    updateMask: ["boundary.max_queued"], // the proto field names, as the server reads them
  });
  check(updated.pipeline?.boundary?.maxQueued === 50000, "UpdatePipeline changed boundary.max_queued");

  await expectError(
    () => client.deletePipeline({ name: story }),
    Reason.PIPELINE_NOT_EMPTY,
    status.FAILED_PRECONDITION,
  );
  await streamStory(client, `ts-stream-${suffix}`);

  for (const name of [story, full]) {
    await client.deletePipeline({ name, force: true });
  }
  check(true, "pipelines deleted");
  client.close();
}

// 8. The continuous worker (Work stream) and the batching producer and acker.
async function streamStory(client: Client, name: string): Promise<void> {
  await client.createPipeline({
    spec: {
      name,
      stages: ["work", "manual"],
      connectors: [
        { name: "work-src", kind: pb.ConnectorKind.CONNECTOR_KIND_SOURCE, stage: "work" },
        { name: "manual-src", kind: pb.ConnectorKind.CONNECTOR_KIND_SOURCE, stage: "manual" },
      ],
      retry: { maxAttempts: 3, initialBackoffMs: 300 },
    },
  });
  const producer = new BatchingProducer(client, name);
  const enqueued: Promise<boolean>[] = [];
  for (let i = 0; i < 200; i++) {
    enqueued.push(producer.enqueue(batch(`s${i}`, "work", 1, i + 1)));
  }
  enqueued.push(producer.enqueue(batch("retry-me", "work", 1, 201)));
  enqueued.push(producer.enqueue(batch("poison", "work", 1, 202)));
  const conflict = producer.enqueue({ ...batch("s0", "work", 1, 203), idempotencyKey: "other" });
  await expectError(() => conflict, Reason.BATCH_KEY_EXISTS, status.ALREADY_EXISTS);
  const dedups = await Promise.all(enqueued);
  check(dedups.length === 202 && dedups.every((d) => d === false), "BatchingProducer: 202 enqueues, each with its own result; a refused item fails alone");

  let active = 0;
  let maxActive = 0;
  const retryStarts: number[] = [];
  const worker = new StreamWorker(client, {
    pipeline: name,
    stages: ["work"],
    concurrency: 8,
    handler: async (started) => {
      active++;
      maxActive = Math.max(maxActive, active);
      try {
        await sleep(10);
        const key = started.batch?.key;
        if (key === "retry-me") {
          retryStarts.push(Date.now());
          if (started.attempt === 1) throw new Error("flaky sink");
        }
        if (key === "poison") throw new PermanentFailure("bad record");
      } finally {
        active--;
      }
    },
  }).start();
  const deadline = Date.now() + 30_000;
  while ((worker.stats().acked < 201 || worker.stats().deadLettered < 1) && Date.now() < deadline) {
    await sleep(20);
  }
  await worker.stop();
  const stats = worker.stats();
  check(stats.acked === 201 && stats.deadLettered === 1 && stats.retriesScheduled === 1,
    `StreamWorker: 201 acked, 1 dead-lettered, 1 retry (${JSON.stringify(stats)})`);
  check(maxActive === 8, `StreamWorker: 8 handlers ran at once, never more (max ${maxActive})`);
  check(retryStarts.length === 2 && retryStarts[1] - retryStarts[0] >= 250,
    `the retry started at its retry time, pushed by the server (${retryStarts[1] - retryStarts[0]} ms after the failure)`);

  const acker = new BatchingAcker(client, name);
  await client.enqueueBatches({ pipeline: name, batches: [batch("m1", "manual", 1, 1), batch("m2", "manual", 1, 2)] });
  const started: pb.StartedBatch[] = [];
  for await (const s of client.startAvailable({ pipeline: name, stages: ["manual"] })) started.push(s);
  const acks = await Promise.all(started.map((s) => acker.ack(s.batch!.key, s.attempt)));
  check(acks.length === 2 && acks.every((o) => o.outcome?.$case === "processed"), "BatchingAcker acked both");
  await expectError(() => acker.ack("nope", 0), Reason.BATCH_NOT_FOUND, status.NOT_FOUND);
  const st = await client.getStatus({ pipeline: name });
  check(st.inFlightCount === 0 && st.queuedCount === 0, "nothing left in flight or queued");
  await client.deletePipeline({ name, force: true });
}

const target = process.argv[2];
if (!target) {
  console.error("usage: node dist/examples/story.js HOST:PORT");
  process.exit(2);
}
story(target).then(
  () => console.log("typescript: story passed"),
  (err: unknown) => {
    console.error(`typescript: FAILED: ${err instanceof Mismatch ? err.message : (err as Error)?.stack ?? err}`);
    process.exit(1);
  },
);
