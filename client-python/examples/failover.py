"""Fail-over between two servers; run by scripts/clients-failover-test.sh.

    failover.py A_ADDRESS B_ADDRESS A_PID

A and B are two independent servers (IP:PORT); A_PID is A's process, which this example kills
halfway. A Client([A, B]) and a StreamWorker on it must use A first, then B once A is gone; a
Client of two dead addresses must fail UNAVAILABLE; a list with a host name is refused.
With $LIGHTSPEED_TOKEN set, every call carries it. Exits non-zero on the first mismatch.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
import uuid

import grpc

from lightspeed_orchestrator import Client, OrchestratorError, StreamWorker, StreamWorkerOptions, pb


def check(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"  MISMATCH - {what}")
    print(f"  ok - {what}", flush=True)


def wait_for(what: str, condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"  MISMATCH - timed out after {timeout} s waiting for: {what}")
        time.sleep(0.02)


def refuses(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
        return False
    except OSError:
        return True


def dead_address() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"127.0.0.1:{port}"


def main(a: str, b: str, a_pid: int) -> None:
    token = os.environ.get("LIGHTSPEED_TOKEN") or None
    name = f"py-failover-{uuid.uuid4().hex[:8]}"
    spec = pb.PipelineSpec(
        name=name, stages=["work"],
        connectors=[pb.Connector(name="src", kind=pb.CONNECTOR_KIND_SOURCE, stage="work")])
    only_a, only_b = Client(a, bearer_token=token), Client(b, bearer_token=token)
    for c in (only_a, only_b):
        c.CreatePipeline(pb.CreatePipelineRequest(spec=spec))

    def enqueue(c: Client, key: str) -> bool:
        return c.EnqueueBatch(pb.EnqueueBatchRequest(pipeline=name, batch=pb.Batch(
            key=key, stage="work", records=1, sequence=1, idempotency_key=key)), timeout=20).deduplicated

    client = Client([a, b], bearer_token=token)
    handled = set()
    lock = threading.Lock()

    def handle(started: pb.StartedBatch) -> None:
        with lock:
            handled.add(started.batch.key)

    worker = StreamWorker(client, handle, StreamWorkerOptions(
        pipeline=name, stages=["work"], min_reconnect_backoff=0.02, max_reconnect_backoff=0.5)).start()
    try:
        check(enqueue(client, "on-a") is False, "Client([A, B]) enqueues")
        check(enqueue(only_a, "on-a") is True, "pick_first: the batch went to A (A deduplicates it)")
        wait_for("the worker handles on-a", lambda: "on-a" in handled)
        check(True, "the StreamWorker handled on-a from A")

        os.kill(a_pid, signal.SIGKILL)
        wait_for("A's port to refuse connections", lambda: refuses(a))
        print(f"  .. killed A (pid {a_pid})", flush=True)

        check(enqueue(client, "on-b") is False, "after A died, Client([A, B]) enqueues")
        check(enqueue(only_b, "on-b") is True, "the batch went to B (B deduplicates it)")
        wait_for("the worker handles on-b", lambda: "on-b" in handled)
        check(True, "the StreamWorker reconnected to B and handled on-b")
    finally:
        worker.abort()
        client.close()

    with Client([dead_address(), dead_address()], bearer_token=token) as dead:
        try:
            dead.GetStatus(pb.GetStatusRequest(pipeline=name), timeout=20)
            check(False, "a list of dead addresses fails")
        except OrchestratorError as e:
            check(e.code == grpc.StatusCode.UNAVAILABLE,
                  f"a list of dead addresses fails UNAVAILABLE ({e.message})")
    try:
        Client(["localhost:1", "127.0.0.1:2"])
        check(False, "a list with a host name is refused")
    except ValueError as e:
        check("IP:PORT" in str(e), f"a list with a host name is refused: {e}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
