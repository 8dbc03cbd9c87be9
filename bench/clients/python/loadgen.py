"""Load generator for the Python client: BatchingProducer and StreamWorker (Work stream)
against a running server. Usage: loadgen.py HOST:PORT [N] [workloads]
Prints one JSON line per workload (see ../README.md)."""

from __future__ import annotations

import json
import os
import sys
import threading
import time

from lightspeed_orchestrator import (
    BatchingProducer, Client, StreamWorker, StreamWorkerOptions, pb)

OUTSTANDING = 64
# LOADGEN_ASYNC_HANDLER=1: the same handler as an ``async def`` (run on the worker's event loop).
ASYNC_HANDLER = os.environ.get("LOADGEN_ASYNC_HANDLER") == "1"


def percentiles(ms: list[float]) -> dict:
    s = sorted(ms)
    at = lambda q: s[min(len(s) - 1, int(q * len(s)))]  # noqa: E731
    return {"take_ack_p50_ms": at(0.5), "take_ack_p99_ms": at(0.99), "take_ack_max_ms": s[-1]}


def run(client: Client, workload: str, n: int) -> None:
    name = f"loadgen-py-{workload}-{time.time_ns()}"
    retry = pb.RetryPolicy(max_attempts=3 if workload == "dlq" else 5, initial_backoff_ms=0)
    client.CreatePipeline(pb.CreatePipelineRequest(spec=pb.PipelineSpec(
        name=name, stages=["work"],
        connectors=[pb.Connector(name="src", kind=pb.CONNECTOR_KIND_SOURCE, stage="work")],
        boundary=pb.Boundary(max_in_flight=100000, max_queued=10000000), retry=retry)))
    producer = BatchingProducer(client, name)
    finished = threading.Event()
    lock = threading.Lock()
    done = [0]
    worker = None

    # take→ack: from the handler being called to the server's answer to its ack (on_result).
    taken: dict = {}
    latencies_ms: list = []

    def on_result(r) -> None:
        if r.outcome is not None and r.outcome.WhichOneof("outcome") == "processed":
            latencies_ms.append((time.perf_counter() - taken[r.started.batch.key]) * 1000)

    def handle(started) -> None:
        taken[started.batch.key] = time.perf_counter()
        if workload == "retry" and started.attempt <= 2:
            raise RuntimeError("fail twice")
        if workload == "dlq":
            raise RuntimeError("always")

    async def handle_async(started) -> None:
        handle(started)

    t0, cpu0 = time.monotonic(), time.process_time()
    if workload != "enqueue":
        worker = StreamWorker(client, handle_async if ASYNC_HANDLER else handle, StreamWorkerOptions(
            pipeline=name, concurrency=OUTSTANDING, on_result=on_result)).start()
    window = threading.Semaphore(OUTSTANDING)
    for i in range(n):
        window.acquire()
        f = producer.enqueue(pb.Batch(key=f"k{i}", stage="work", records=1, sequence=i + 1, idempotency_key=f"k{i}"))
        f.add_done_callback(lambda _f: window.release())
    producer.flush()
    if worker is not None:
        goal = (lambda s: s.acked) if workload != "dlq" else (lambda s: s.dead_lettered)
        while goal(worker.stats()) < n:
            time.sleep(0.005)
        worker.stop()
    seconds = time.monotonic() - t0
    # The whole process's CPU (every thread: producer, worker loop, handlers, grpcio's own).
    cpu_us = (time.process_time() - cpu0) * 1e6 / n
    line = {"client": "python", "workload": workload, "items": n, "seconds": seconds, "rate": n / seconds,
            "client_cpu_us_per_item": cpu_us}
    if workload == "lifecycle":
        line.update(percentiles(latencies_ms))
    print(json.dumps(line), flush=True)
    client.DeletePipeline(pb.DeletePipelineRequest(name=name, force=True))


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit("usage: loadgen.py HOST:PORT [N] [enqueue,lifecycle,retry,dlq]")
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    workloads = (sys.argv[3] if len(sys.argv) > 3 else "enqueue,lifecycle,retry,dlq").split(",")
    with Client(sys.argv[1]) as client:
        client.wait_ready(30)
        for w in workloads:
            run(client, w, n)


if __name__ == "__main__":
    main()
