// A producer that keeps W outstanding sends calls of W: when a call returns, the items that waited
// for it leave together with those its answered callers send again, not in a call of their own
// (which made the Go, Java and Python producers with 64 outstanding alternate two calls of about
// 32 each: twice the round trips, each paying the server's fsync). No server needed. Run by
// scripts/clients-test.sh:
//   node dist/examples/batcher-waited.js    (exit 0 = ok)
import { Batcher } from "../src/producer";

type Resend = "await" | "then" | "async wrapper";

/**
 * 4 items in a call that returned (flush), 4 in the call held in flight, 4 waiting for it; then
 * each of the 4 answered callers sends again at once (how depends on `resend`). Returns the
 * calls' sizes.
 */
async function run(resend: Resend): Promise<number[]> {
  const calls: number[] = [];
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let inFlight!: () => void;
  const heldInFlight = new Promise<void>((r) => (inFlight = r));
  // A timer that never fires within the check: only flush() or the refill rule sends.
  const batcher = new Batcher<number, boolean>(
    { maxItems: 100, maxDelayMs: 3_600_000 },
    async (items) => {
      calls.push(items.length);
      if (calls.length === 2) {
        inFlight();
        await released;
      }
      return items.map(() => true);
    },
    () => 1,
  );
  const add = () => batcher.add("stage", 0);
  for (let i = 0; i < 4; i++) add();
  await batcher.flush(); // a call of 4 returned
  const second = Array.from({ length: 4 }, add); // the refill: a call of 4 leaves, held in flight
  await heldInFlight;
  for (let i = 0; i < 4; i++) add(); // 4 more wait for it: 8 outstanding
  const again: Promise<boolean>[] = [];
  // Each answered caller sends again at once, as a window does.
  const callers = second.map(async (p) => {
    if (resend === "await") {
      await p;
    } else if (resend === "then") {
      await p.then(() => again.push(add()));
      return;
    } else {
      await (async () => await p)(); // the enqueue awaited inside a helper of the caller's
    }
    again.push(add());
  });
  release();
  await Promise.all(callers);
  const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 10_000).unref());
  if ((await Promise.race([Promise.all(again), timeout])) === "timeout") {
    throw new Error(`the refilled call did not leave without the timer (calls ${JSON.stringify(calls)})`);
  }
  return calls;
}

async function main(): Promise<void> {
  for (const resend of ["await", "then", "async wrapper"] as Resend[]) {
    const calls = await run(resend);
    if (JSON.stringify(calls) !== "[4,4,8]") {
      console.error(`FAIL: calls ${JSON.stringify(calls)}, expected [4,4,8] (callers send again: ${resend})`);
      process.exit(1);
    }
  }
  console.log("ok: what waited for a call leaves with the items its callers send again");
  process.exit(0); // the never-firing timers of the lanes must not keep the check alive
}

main().catch((e) => {
  console.error("FAIL:", e instanceof Error ? e.message : e);
  process.exit(1);
});
