// Started and acked batches per second of one pipeline over the last minutes, counted from
// WatchEvents' started and acked events. Events are bucketed by their own at_ms (the server's
// time of the change), not by when they reached the page, so a sample that arrives late (a
// reconnect, the overview's round-robin catch-up) still lands in the right seconds.
export const BUCKET_MS = 5_000;
export const WINDOW_MS = 5 * 60_000;

export class Throughput {
  private readonly buckets = new Map<number, { started: number; acked: number }>();

  note(atMs: number, kind: "started" | "acked"): void {
    const key = Math.floor(atMs / BUCKET_MS);
    let b = this.buckets.get(key);
    if (!b) {
      b = { started: 0, acked: 0 };
      this.buckets.set(key, b);
    }
    b[kind]++;
  }

  /** Per-second rates of each bucket in the window ending at nowMs, oldest first. */
  series(nowMs: number): { started: number[]; acked: number[] } {
    const last = Math.floor(nowMs / BUCKET_MS);
    const first = last - WINDOW_MS / BUCKET_MS + 1;
    for (const k of this.buckets.keys()) if (k < first) this.buckets.delete(k);
    const started: number[] = [];
    const acked: number[] = [];
    for (let k = first; k <= last; k++) {
      const b = this.buckets.get(k);
      // The current bucket is still filling: its rate is over the part that has passed.
      const span = k === last ? Math.max(1000, nowMs - k * BUCKET_MS) : BUCKET_MS;
      started.push(((b?.started ?? 0) * 1000) / span);
      acked.push(((b?.acked ?? 0) * 1000) / span);
    }
    return { started, acked };
  }

  /** Batches started and acked in the window (what the chart's line areas add up to). */
  totals(nowMs: number): { started: number; acked: number } {
    const first = Math.floor(nowMs / BUCKET_MS) - WINDOW_MS / BUCKET_MS + 1;
    let started = 0;
    let acked = 0;
    for (const [k, b] of this.buckets) {
      if (k >= first) {
        started += b.started;
        acked += b.acked;
      }
    }
    return { started, acked };
  }

  /** The rates over the last minute up to now (the current bucket included). */
  lastMinute(nowMs: number): { started: number; acked: number } {
    const first = Math.floor(nowMs / BUCKET_MS) - 60_000 / BUCKET_MS + 1;
    const span = (nowMs - first * BUCKET_MS) / 1000;
    let started = 0;
    let acked = 0;
    for (const [k, b] of this.buckets) {
      if (k >= first) {
        started += b.started;
        acked += b.acked;
      }
    }
    return { started: started / span, acked: acked / span };
  }
}
