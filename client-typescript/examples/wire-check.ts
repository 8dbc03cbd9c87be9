// The client's own encoding and decoding (src/wire.ts) give the generated code's bytes and
// messages: the producer's requests framed from items encoded once, int64 values written without
// a BigInt and read as numbers, and the library's path for the values outside the fast ones
// (negative, ≥ 2^32 on write, ≥ 2^53 on read). No server needed. Run by scripts/clients-test.sh:
//   node dist/examples/wire-check.js    (exit 0 = ok)
import { isDeepStrictEqual } from "node:util";

import { Batch, StartedBatch } from "../src/gen/lightspeed/orchestrator/v1/batch";
import {
  AckBatchesRequest,
  AckItem,
  EnqueueBatchesRequest,
  WorkRequest,
  WorkResponse,
} from "../src/gen/lightspeed/orchestrator/v1/orchestrator_service";
import { decoder, encode, encodeItem, withRepeated } from "../src/wire";

let failures = 0;
function check(ok: boolean, what: string): void {
  if (!ok) {
    failures++;
    console.error(`wire-check: FAILED: ${what}`);
  }
}
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

// Values around every boundary of the fast paths.
const ints = [0, 1, 127, 128, 16383, 16384, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 35 + 7,
  1_796_694_537_418, 2 ** 49 - 1, 2 ** 49, 2 ** 53 - 1, -1, -2, -(2 ** 31), -(2 ** 32) - 5, -(2 ** 53) + 1];

// EnqueueBatchesRequest: items encoded once and framed == the generated encoding of the request.
const batches: Batch[] = ints.map((v, i) => Batch.fromPartial({
  key: `k${i}-é☃`, stage: i % 2 ? "work" : "", records: v, lagMs: -v, sequence: Math.abs(v),
  idempotencyKey: i % 3 ? `idem-${i}` : "",
}));
for (const pipeline of ["p", "", "x".repeat(300)]) {
  const head = EnqueueBatchesRequest.encode(EnqueueBatchesRequest.fromPartial({ pipeline })).finish();
  const framed = withRepeated(head, 2, batches.map((b) => encodeItem(Batch, b)));
  check(same(framed, EnqueueBatchesRequest.encode({ pipeline, batches }).finish()),
    `EnqueueBatchesRequest framed from items (pipeline of ${pipeline.length} chars)`);
}
// An item longer than 127 bytes (a two-byte length prefix).
const big = [Batch.fromPartial({ key: "k".repeat(200), stage: "work" })];
check(same(withRepeated(EnqueueBatchesRequest.encode({ pipeline: "p", batches: [] }).finish(), 2,
  big.map((b) => encodeItem(Batch, b))), EnqueueBatchesRequest.encode({ pipeline: "p", batches: big }).finish()),
"EnqueueBatchesRequest with a 200-byte item");
const acks = [AckItem.fromPartial({ key: "a", attempt: 1 }), AckItem.fromPartial({ key: "b", attempt: 7 })];
check(same(withRepeated(AckBatchesRequest.encode({ pipeline: "p", acks: [] }).finish(), 2,
  acks.map((a) => encodeItem(AckItem, a))), AckBatchesRequest.encode({ pipeline: "p", acks }).finish()),
"AckBatchesRequest framed from items");

// int64 write and read: the same bytes as the generated encoder, the same message back.
const readStarted = decoder(WorkResponse);
for (const v of ints) {
  const request = WorkRequest.fromPartial({ request: { $case: "ack", ack: { requestId: v, key: "k", attempt: 3 } } });
  check(same(encode(WorkRequest, request), WorkRequest.encode(request).finish()), `WorkRequest int64 ${v}`);
  const response = WorkResponse.fromPartial({ response: { $case: "started", started: StartedBatch.fromPartial({
    batch: { key: "k", stage: "s", records: v, sequence: v, lagMs: v }, attempt: 2, startedAtMs: v,
    leaseDeadlineMs: v, runId: v }) } });
  const bytes = Buffer.from(WorkResponse.encode(response).finish());
  check(isDeepStrictEqual(readStarted(bytes), WorkResponse.decode(bytes)), `WorkResponse int64 ${v}`);
}
// Beyond 2^53 both refuse the value alike (the generated longToNumber throws).
const tooBig = Buffer.from(WorkResponse.encode(WorkResponse.fromPartial({ response: { $case: "started",
  started: StartedBatch.fromPartial({ startedAtMs: 2 ** 53 + 2 }) } })).finish());
const thrown = (f: () => unknown) => { try { f(); return "none"; } catch (e) { return (e as Error).message; } };
check(thrown(() => readStarted(tooBig)) === thrown(() => WorkResponse.decode(tooBig)) &&
  thrown(() => readStarted(tooBig)) !== "none", "int64 beyond 2^53 is refused as by the generated decoder");

if (failures > 0) process.exit(1);
console.log("wire-check: ok");
