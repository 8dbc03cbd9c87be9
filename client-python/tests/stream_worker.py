"""The StreamWorker's asyncio engine against a real server (scripts/clients-test.sh):

- an ``async def`` handler runs on the worker's event loop (no handler thread), ``concurrency``
  at a time and never more, and its batches are acked; one that raises is failed;
- ``concurrency`` 64 opens 4 Work streams (capacities 16 each) and every batch is handled once;
- heartbeats keep a short lease alive while a plain handler blocks longer than the lease;
- a graceful ``stop()`` waits for a running handler and its ack; ``abort()`` does not.

Run: .venv/bin/python client-python/tests/stream_worker.py HOST:PORT  (exit 0 = ok; with
$LIGHTSPEED_TOKEN set every call carries it).
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
import uuid

from lightspeed_orchestrator import Client, StreamWorker, StreamWorkerOptions, pb

errors: list = []


def check(ok: bool, what: str) -> None:
    print(f"  {'ok' if ok else 'FAILED'} - {what}", flush=True)
    if not ok:
        errors.append(what)


def wait_for(condition, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def pipeline(client: Client, lease_ms: int = 30000) -> str:
    name = f"py-stream-worker-{uuid.uuid4().hex[:8]}"
    client.CreatePipeline(pb.CreatePipelineRequest(spec=pb.PipelineSpec(
        name=name, stages=["work"],
        connectors=[pb.Connector(name="src", kind=pb.CONNECTOR_KIND_SOURCE, stage="work")],
        boundary=pb.Boundary(max_in_flight=1000, lease_ms=lease_ms),
        retry=pb.RetryPolicy(max_attempts=1, initial_backoff_ms=0))))
    return name


def enqueue(client: Client, name: str, keys, first: int = 0) -> None:
    response = client.EnqueueBatches(pb.EnqueueBatchesRequest(pipeline=name, batches=[
        pb.Batch(key=k, stage="work", records=1, sequence=first + i + 1, idempotency_key=k)
        for i, k in enumerate(keys)]))
    refused = [r for r in response.results if r.HasField("error")]
    assert not refused, refused[0]


def async_handlers(client: Client) -> None:
    name = pipeline(client)
    keys = [f"a{i}" for i in range(60)] + ["boom"]
    enqueue(client, name, keys)
    state = {"now": 0, "max": 0, "threads": set(), "done": set()}

    async def handle(started: pb.StartedBatch) -> None:
        state["threads"].add(threading.current_thread().name)
        state["now"] += 1
        state["max"] = max(state["max"], state["now"])
        try:
            await asyncio.sleep(0.01)
            if started.batch.key == "boom":
                raise RuntimeError("async boom")
            state["done"].add(started.batch.key)
        finally:
            state["now"] -= 1

    results = []
    worker = StreamWorker(client, handle, StreamWorkerOptions(
        pipeline=name, concurrency=8, on_result=results.append)).start()
    try:
        wait_for(lambda: worker.stats().acked + worker.stats().dead_lettered >= len(keys))
    finally:
        worker.stop()
    stats = worker.stats()
    check(stats.acked == 60 and stats.dead_lettered == 1,
          f"async handler: 60 acked, the one that raised failed (dead-lettered) ({stats})")
    check(state["done"] == set(keys[:-1]), "async handler: every batch's handler ran to its end")
    check(state["threads"] == {"lightspeed-work-loop"},
          f"async handler: ran on the worker's loop thread only ({state['threads']})")
    check(state["max"] == 8, f"async handler: 8 ran at once, never more (max {state['max']})")
    failed = [r for r in results if r.error is not None]
    check(len(failed) == 1 and str(failed[0].error) == "async boom",
          "async handler: on_result has the exception of the one that raised")
    client.DeletePipeline(pb.DeletePipelineRequest(name=name, force=True))


def several_streams(client: Client) -> None:
    name = pipeline(client)
    keys = [f"s{i}" for i in range(2000)]
    for i in range(0, len(keys), 500):
        enqueue(client, name, keys[i:i + 500], i)
    lock = threading.Lock()
    seen: dict = {}
    active = [0, 0]

    def handle(started: pb.StartedBatch) -> None:
        with lock:
            seen[started.batch.key] = seen.get(started.batch.key, 0) + 1
            active[0] += 1
            active[1] = max(active[1], active[0])
        time.sleep(0.001)
        with lock:
            active[0] -= 1

    worker = StreamWorker(client, handle, StreamWorkerOptions(pipeline=name, concurrency=64)).start()
    try:
        check(len(worker._sessions) == 4 and all(s is not None for s in worker._sessions),
              "concurrency 64: 4 Work streams open")
        wait_for(lambda: worker.stats().acked >= len(keys))
    finally:
        worker.stop()
    stats = worker.stats()
    check(stats.acked == len(keys) and stats.started == len(keys) and set(seen) == set(keys)
          and max(seen.values()) == 1, f"4 streams: every batch handled once and acked ({stats})")
    check(active[1] <= 64, f"4 streams: never more than 64 handlers at once (max {active[1]})")
    client.DeletePipeline(pb.DeletePipelineRequest(name=name, force=True))


def heartbeats_and_stop(client: Client) -> None:
    name = pipeline(client, lease_ms=300)
    enqueue(client, name, ["slow"])
    started = threading.Event()
    results = []

    def handle(batch: pb.StartedBatch) -> None:
        started.set()
        time.sleep(1.0)  # more than three leases: only heartbeats keep it

    worker = StreamWorker(client, handle, StreamWorkerOptions(
        pipeline=name, on_result=results.append)).start()
    check(started.wait(10), "a plain handler started")
    t0 = time.monotonic()
    worker.stop()
    waited = time.monotonic() - t0
    check(len(results) == 1 and results[0].report_error is None and results[0].heartbeats >= 3
          and not results[0].lease_lost and worker.stats().acked == 1,
          f"heartbeats kept a 300 ms lease for 1 s; stop() waited for the handler and its ack "
          f"({worker.stats()}, {results[0].heartbeats if results else '-'} heartbeats, {waited:.2f} s)")
    client.DeletePipeline(pb.DeletePipelineRequest(name=name, force=True))

    name = pipeline(client)
    enqueue(client, name, ["stuck"])
    started.clear()
    release = threading.Event()

    def stuck(batch: pb.StartedBatch) -> None:
        started.set()
        release.wait(30)

    worker = StreamWorker(client, stuck, StreamWorkerOptions(pipeline=name)).start()
    check(started.wait(10), "a blocking handler started")
    t0 = time.monotonic()
    worker.abort()
    took = time.monotonic() - t0
    release.set()
    check(took < 10 and worker.stats().acked == 0,
          f"abort() returned at once ({took:.2f} s) without waiting for the handler, nothing acked")
    status = client.GetStatus(pb.GetStatusRequest(pipeline=name))
    check(status.in_flight_count == 1, "after abort() the batch stays in flight (its lease expires)")
    worker.stop()  # after abort: returns at once
    client.DeletePipeline(pb.DeletePipelineRequest(name=name, force=True))


def main(target: str) -> int:
    with Client(target, bearer_token=os.environ.get("LIGHTSPEED_TOKEN") or None) as client:
        client.wait_ready(30)
        async_handlers(client)
        several_streams(client)
        heartbeats_and_stop(client)
    print(f"python stream worker: {'FAILED: ' + '; '.join(errors) if errors else 'passed'}", flush=True)
    return 1 if errors else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
