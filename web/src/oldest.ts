// The oldest ready batch's ready time, computed in the page: GetStatus does not carry it and
// the SPEC has no such field. Ready batches are the QUEUED ones and the RETRY_WAIT ones whose
// retry time has passed (SPEC 3.2); BatchView.ready_at_ms is when each became ready.
// ListBatches lists in enqueue order, so this reads the first page of each of the two states
// and takes the smallest ready time. That is exact whenever the first QUEUED page holds a
// batch that was neither retried nor redriven (its ready time is its enqueue time, which no
// later-enqueued batch can precede); a retried or redriven batch further down can only be
// younger than such a one. It costs at most two calls, none for a pipeline with nothing ready.
import { api } from "./api";
import { BatchState } from "./gen/lightspeed/orchestrator/v1/batch_pb";

const FIRST_PAGE = 20;

/** Ready time in ms since the epoch of the oldest ready batch, or null when none is ready. */
export async function oldestReadyAt(pipeline: string, queued: bigint,
                                    retryWait: bigint): Promise<number | null> {
  const now = Date.now();
  const reads: Promise<number[]>[] = [];
  const page = (state: BatchState) => api.listBatches({ pipeline, pageSize: FIRST_PAGE, state })
    .then((r) => r.batches.map((b) => Number(b.readyAtMs)));
  if (queued > 0n) reads.push(page(BatchState.QUEUED));
  if (retryWait > 0n) {
    reads.push(page(BatchState.RETRY_WAIT).then((ts) => ts.filter((t) => t <= now)));
  }
  const all = (await Promise.all(reads)).flat().filter((t) => t > 0);
  return all.length ? Math.min(...all) : null;
}
