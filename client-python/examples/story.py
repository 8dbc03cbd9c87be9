"""The whole story against a running server; exits non-zero on the first mismatch.

    make clients-tools   # once: .venv with this package installed
    .venv/bin/python client-python/examples/story.py 127.0.0.1:50051

With $LIGHTSPEED_TOKEN set (a server started with --token-file; the token needs every role),
every call carries it (Client(bearer_token=...)), and a call without it must be refused with
UNAUTHENTICATED MISSING_CREDENTIALS.

Creates its own uniquely named pipelines (and deletes them at the end):
- enqueue with an idempotency key, re-enqueue (deduplicated), conflicting re-use (IDEMPOTENCY_CONFLICT);
- a Worker round (StartAvailable stream): batch "a" is acked after a heartbeat, batch "b" fails,
  is retried (initial_backoff_ms 0) and dead-lettered on its 2nd attempt (max_attempts 2);
- WatchStarted sees every start; QUEUE_FULL (max_queued 1) read from ErrorInfo + RetryInfo,
  on EnqueueBatch and inside an EnqueueBatches result;
- Worker.run (the README's loop) processes a batch until stopped;
- the continuous StreamWorker (concurrency 8, a retry pushed at its retry time, a dead letter)
  fed by a BatchingProducer, and a BatchingAcker.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
import uuid

import grpc

from lightspeed_orchestrator import (
    DOMAIN, BatchingAcker, BatchingProducer, Client, OrchestratorError, PermanentFailure, Reason,
    StreamWorker, StreamWorkerOptions, Worker, item_error, pb)


class Mismatch(Exception):
    pass


def check(condition: bool, what: str) -> None:
    if not condition:
        raise Mismatch(what)
    print(f"  ok - {what}", flush=True)


def expect_error(call, reason: str, code: grpc.StatusCode) -> OrchestratorError:
    try:
        call()
    except OrchestratorError as e:
        check(e.reason == reason and e.code == code and e.domain == DOMAIN,
              f"refused with {code.name} {reason} (got {e.code.name} {e.reason} {e.domain}: {e.message})")
        return e
    raise Mismatch(f"expected {reason}, but the call succeeded")


def batch(key: str, stage: str, records: int, sequence: int, idem: str = "") -> pb.Batch:
    return pb.Batch(key=key, stage=stage, records=records, sequence=sequence,
                    idempotency_key=idem or f"idem-{key}")


def main(target: str) -> None:
    suffix = uuid.uuid4().hex[:8]
    story, full = f"py-story-{suffix}", f"py-full-{suffix}"
    token = os.environ.get("LIGHTSPEED_TOKEN") or None
    client = Client(target, bearer_token=token)
    client.wait_ready(timeout=30)
    print(f"python: connected to {target}{' with a bearer token' if token else ''}; "
          f"pipelines {story}, {full}", flush=True)
    if token:
        try:
            Client(target, bearer_token=" ")
            raise Mismatch("Client(bearer_token=' ') was accepted")
        except ValueError as e:
            check("empty" in str(e), f"an empty bearer token is refused ({e})")
        with Client(target) as anonymous:
            expect_error(lambda: anonymous.ListPipelines(pb.ListPipelinesRequest()),
                         Reason.MISSING_CREDENTIALS, grpc.StatusCode.UNAUTHENTICATED)

    # 1. Pipelines: "story" retries once with no backoff, then dead-letters; "full" queues one.
    created = client.CreatePipeline(pb.CreatePipelineRequest(spec=pb.PipelineSpec(
        name=story,
        stages=["probe", "work"],
        connectors=[
            pb.Connector(name="probe-src", kind=pb.CONNECTOR_KIND_SOURCE, stage="probe"),
            pb.Connector(name="work-src", kind=pb.CONNECTOR_KIND_SOURCE, stage="work"),
        ],
        boundary=pb.Boundary(lease_ms=900),
        retry=pb.RetryPolicy(max_attempts=2, initial_backoff_ms=0),
    ))).pipeline
    check(created.retry.max_attempts == 2 and created.retry.HasField("initial_backoff_ms")
          and created.retry.initial_backoff_ms == 0, "CreatePipeline returns the effective retry policy")
    check(created.boundary.max_queued == 10000, "unset boundary fields come back with their defaults")
    client.CreatePipeline(pb.CreatePipelineRequest(spec=pb.PipelineSpec(
        name=full, stages=["work"],
        connectors=[pb.Connector(name="src", kind=pb.CONNECTOR_KIND_SOURCE, stage="work")],
        boundary=pb.Boundary(max_queued=1))))
    expect_error(lambda: client.CreatePipeline(pb.CreatePipelineRequest(spec=pb.PipelineSpec(
        name=full, stages=["work"], connectors=created.connectors[1:]))),
        Reason.PIPELINE_EXISTS, grpc.StatusCode.ALREADY_EXISTS)

    # 2. WatchStarted, in the background; probe batches (stage "probe") until it is live.
    watch = client.WatchStarted(pb.WatchStartedRequest(pipeline=story))
    seen: "queue.Queue[pb.StartedBatch]" = queue.Queue()

    def pump() -> None:
        for msg in watch:
            seen.put(msg.started)

    threading.Thread(target=pump, daemon=True).start()
    live = False
    for i in range(1, 21):
        client.EnqueueBatch(pb.EnqueueBatchRequest(pipeline=story, batch=batch(f"probe-{i}", "probe", 1, i)))
        for msg in client.StartAvailable(pb.StartAvailableRequest(pipeline=story, max_batches=1, stages=["probe"])):
            client.AckBatch(pb.AckBatchRequest(pipeline=story, key=msg.started.batch.key, attempt=msg.started.attempt))
        try:
            while True:
                if seen.get(timeout=0.5).batch.key == f"probe-{i}":
                    live = True
                    break
        except queue.Empty:
            pass
        if live:
            break
    check(live, "WatchStarted stream is live (it delivered a probe batch)")

    # 3. Enqueue with idempotency keys.
    a = batch("a", "work", 10, 1)
    first = client.EnqueueBatch(pb.EnqueueBatchRequest(pipeline=story, batch=a))
    check(not first.deduplicated, "enqueue a: accepted")
    again = client.EnqueueBatch(pb.EnqueueBatchRequest(pipeline=story, batch=a))
    check(again.deduplicated, "re-enqueue a with the same idempotency key: deduplicated")
    conflict = pb.Batch()
    conflict.CopyFrom(a)
    conflict.records = 11
    expect_error(lambda: client.EnqueueBatch(pb.EnqueueBatchRequest(pipeline=story, batch=conflict)),
                 Reason.IDEMPOTENCY_CONFLICT, grpc.StatusCode.ALREADY_EXISTS)
    check(not client.EnqueueBatch(pb.EnqueueBatchRequest(pipeline=story, batch=batch("b", "work", 5, 2))).deduplicated,
          "enqueue b: accepted")

    # 4. Worker rounds: a is acked (after at least one heartbeat), b fails until dead-lettered.
    def handler(started: pb.StartedBatch) -> None:
        if started.batch.key == "a":
            time.sleep(0.7)  # longer than the heartbeat interval (lease 900 ms / 3)
            return
        raise RuntimeError(f"boom on attempt {started.attempt}")

    worker = Worker(client, story, handler, stages=["work"], max_batches=4)
    round1 = {r.started.batch.key: r for r in worker.run_once()}
    check(sorted(round1) == ["a", "b"], f"round 1 started a and b (got {sorted(round1)})")
    ra, rb = round1["a"], round1["b"]
    check(ra.error is None and ra.outcome.WhichOneof("outcome") == "processed"
          and ra.outcome.processed.records == 10 and ra.outcome.processed.attempt == 1,
          "a acked: Processed, 10 records, attempt 1")
    check(ra.heartbeats >= 1, f"a's lease was extended while it ran ({ra.heartbeats} heartbeats)")
    check(rb.outcome.WhichOneof("outcome") == "retry_scheduled"
          and rb.outcome.retry_scheduled.next_attempt == 2
          and rb.outcome.retry_scheduled.reason == "boom on attempt 1",
          "b failed: RetryScheduled, next attempt 2")
    round2 = worker.run_once()
    check([r.started.batch.key for r in round2] == ["b"] and round2[0].started.attempt == 2,
          "round 2 restarted b (attempt 2)")
    dead = round2[0].outcome
    check(dead.WhichOneof("outcome") == "dead_lettered"
          and dead.dead_lettered.destination == f"{story}.work.dlq"
          and dead.dead_lettered.reason == "boom on attempt 2",
          "b failed again: DeadLettered to <pipeline>.work.dlq")
    check(worker.run_once() == [], "round 3 starts nothing")
    stale = client.AckBatch(pb.AckBatchRequest(pipeline=story, key="a", attempt=1)).outcome
    check(stale.WhichOneof("outcome") == "processed", "a repeated ack of a is idempotent")
    expect_error(lambda: client.AckBatch(pb.AckBatchRequest(pipeline=story, key="b", attempt=2)),
                 Reason.NOT_IN_FLIGHT, grpc.StatusCode.FAILED_PRECONDITION)

    status = client.GetStatus(pb.GetStatusRequest(pipeline=story))
    check(status.dead_letter_count == 1 and status.queued_count == 0 and status.in_flight_count == 0
          and status.valid, "GetStatus: 1 dead letter, nothing queued or in flight, valid")
    letters = client.ListDeadLetters(pb.ListDeadLettersRequest(pipeline=story)).dead_letters
    check([d.batch_key for d in letters] == ["b"], "ListDeadLetters: b")

    # 5. WatchStarted saw a@1, b@1, b@2.
    starts = []
    deadline = time.monotonic() + 10
    while len(starts) < 3 and time.monotonic() < deadline:
        try:
            s = seen.get(timeout=0.2)
        except queue.Empty:
            continue
        if s.batch.stage == "work":
            starts.append((s.batch.key, s.attempt))
    check(sorted(starts) == [("a", 1), ("b", 1), ("b", 2)], f"WatchStarted delivered every start ({starts})")
    watch.cancel()

    # 6. Backpressure: QUEUE_FULL with ErrorInfo and RetryInfo, also per item in EnqueueBatches.
    client.EnqueueBatch(pb.EnqueueBatchRequest(pipeline=full, batch=batch("q1", "work", 1, 1)))
    err = expect_error(lambda: client.EnqueueBatch(pb.EnqueueBatchRequest(pipeline=full, batch=batch("q2", "work", 1, 2))),
                       Reason.QUEUE_FULL, grpc.StatusCode.RESOURCE_EXHAUSTED)
    check(err.retry_delay is not None and err.retry_delay > 0, f"QUEUE_FULL carries RetryInfo ({err.retry_delay}s)")
    check(err.metadata.get("pipeline") == full, "ErrorInfo metadata names the pipeline")
    results = client.EnqueueBatches(pb.EnqueueBatchesRequest(
        pipeline=full, batches=[batch("q3", "work", 1, 3)])).results
    item = item_error(results[0])
    check(item is not None and item.reason == Reason.QUEUE_FULL and item.code == grpc.StatusCode.RESOURCE_EXHAUSTED,
          "EnqueueBatches item refused with QUEUE_FULL")
    expect_error(lambda: client.GetPipeline(pb.GetPipelineRequest(name=f"py-missing-{suffix}")),
                 Reason.PIPELINE_NOT_FOUND, grpc.StatusCode.NOT_FOUND)

    # 7. The worker loop of the README: Worker.run until stopped.
    client.EnqueueBatch(pb.EnqueueBatchRequest(pipeline=story, batch=batch("c", "work", 3, 3)))
    stop = threading.Event()
    outcomes = []

    def on_result(result) -> None:
        outcomes.append(result)
        stop.set()

    loop = Worker(client, story, lambda started: None, stages=["work"], poll_interval=0.1)
    runner = threading.Thread(target=loop.run, args=(stop,), kwargs={"on_result": on_result})
    runner.start()
    runner.join(timeout=20)
    stop.set()
    runner.join()
    check(len(outcomes) == 1 and outcomes[0].started.batch.key == "c"
          and outcomes[0].outcome.WhichOneof("outcome") == "processed", "Worker.run processed c, then stopped")

    # 8. The event log: every event from the first, in id order; the ACKED ones only.
    events = client.watch_events(story, after_event_id=0)
    first_three = [next(events) for _ in range(3)]
    check([e.event_id for e in first_three] == [1, 2, 3], "WatchEvents from 0 replays events 1, 2, 3")
    events.cancel()
    acked = client.watch_events(story, after_event_id=0, types=[pb.EVENT_TYPE_ACKED])
    first_acked = next(acked)
    check(first_acked.WhichOneof("payload") == "acked", f"the type filter keeps ACKED ({first_acked.event_id})")
    acked.cancel()
    check(events.last_event_id == 3, "EventStream.last_event_id is the last id returned")

    # 9. UpdatePipeline: change one setting of the live pipeline with a field mask.
    from google.protobuf import field_mask_pb2
    updated = client.UpdatePipeline(pb.UpdatePipelineRequest(
        pipeline=pb.PipelineSpec(name=story, boundary=pb.Boundary(max_queued=50000)),
        update_mask=field_mask_pb2.FieldMask(paths=["boundary.max_queued"])))
    check(updated.pipeline.boundary.max_queued == 50000, "UpdatePipeline changed boundary.max_queued")
    expect_error(lambda: client.UpdatePipeline(pb.UpdatePipelineRequest(
        pipeline=pb.PipelineSpec(name=story), update_mask=field_mask_pb2.FieldMask(paths=["name"]))),
                 Reason.INVALID_UPDATE_MASK, grpc.StatusCode.INVALID_ARGUMENT)

    expect_error(lambda: client.DeletePipeline(pb.DeletePipelineRequest(name=story)),
                 Reason.PIPELINE_NOT_EMPTY, grpc.StatusCode.FAILED_PRECONDITION)
    stream_story(client, f"py-stream-{suffix}")
    for name in (story, full):
        client.DeletePipeline(pb.DeletePipelineRequest(name=name, force=True))
    check(True, "pipelines deleted")
    client.close()


def stream_story(client: Client, name: str) -> None:
    """8. The continuous worker (Work stream) and the batching producer and acker."""
    src = pb.CONNECTOR_KIND_SOURCE
    client.CreatePipeline(pb.CreatePipelineRequest(spec=pb.PipelineSpec(
        name=name, stages=["work", "manual"],
        connectors=[pb.Connector(name="work-src", kind=src, stage="work"),
                    pb.Connector(name="manual-src", kind=src, stage="manual")],
        retry=pb.RetryPolicy(max_attempts=3, initial_backoff_ms=300))))
    producer = BatchingProducer(client, name)
    futures = [producer.enqueue(batch(f"s{i}", "work", 1, i + 1)) for i in range(200)]
    futures.append(producer.enqueue(batch("retry-me", "work", 1, 201)))
    futures.append(producer.enqueue(batch("poison", "work", 1, 202)))
    conflict = producer.enqueue(batch("s0", "work", 1, 203, idem="other"))
    producer.flush(timeout=30)
    expect_error(lambda: conflict.result(), Reason.BATCH_KEY_EXISTS, grpc.StatusCode.ALREADY_EXISTS)
    check(all(f.result() is False for f in futures),
          "BatchingProducer: 202 enqueues, each with its own result; a refused item fails alone")

    lock = threading.Lock()
    active = [0, 0]  # now, max
    retry_starts = []

    def handle(started) -> None:
        with lock:
            active[0] += 1
            active[1] = max(active[1], active[0])
        try:
            time.sleep(0.01)
            if started.batch.key == "retry-me":
                retry_starts.append(time.monotonic())
                if started.attempt == 1:
                    raise IOError("flaky sink")
            if started.batch.key == "poison":
                raise PermanentFailure("bad record")
        finally:
            with lock:
                active[0] -= 1

    worker = StreamWorker(client, handle, StreamWorkerOptions(
        pipeline=name, stages=["work"], concurrency=8)).start()
    deadline = time.monotonic() + 30
    while (worker.stats().acked < 201 or worker.stats().dead_lettered < 1) and time.monotonic() < deadline:
        time.sleep(0.02)
    worker.stop()
    stats = worker.stats()
    check(stats.acked == 201 and stats.dead_lettered == 1 and stats.retries_scheduled == 1,
          f"StreamWorker: 201 acked, 1 dead-lettered, 1 retry ({stats})")
    check(active[1] == 8, f"StreamWorker: 8 handlers ran at once, never more (max {active[1]})")
    check(len(retry_starts) == 2 and retry_starts[1] - retry_starts[0] >= 0.25,
          "the retry started at its retry time, pushed by the server"
          f" ({(retry_starts[1] - retry_starts[0]) * 1000:.0f} ms after the failure)")

    acker = BatchingAcker(client, name)
    client.EnqueueBatches(pb.EnqueueBatchesRequest(
        pipeline=name, batches=[batch("m1", "manual", 1, 1), batch("m2", "manual", 1, 2)]))
    started = [m.started for m in client.StartAvailable(
        pb.StartAvailableRequest(pipeline=name, stages=["manual"]))]
    outcomes = [acker.ack(s.batch.key, s.attempt) for s in started]
    missing = acker.ack("nope", 0)
    acker.flush(timeout=10)
    check(len(outcomes) == 2 and all(o.result().WhichOneof("outcome") == "processed" for o in outcomes),
          "BatchingAcker acked both")
    expect_error(lambda: missing.result(), Reason.BATCH_NOT_FOUND, grpc.StatusCode.NOT_FOUND)
    status = client.GetStatus(pb.GetStatusRequest(pipeline=name))
    check(status.in_flight_count == 0 and status.queued_count == 0, "nothing left in flight or queued")
    client.DeletePipeline(pb.DeletePipelineRequest(name=name, force=True))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: story.py HOST:PORT")
    try:
        main(sys.argv[1])
    except (Mismatch, OrchestratorError) as e:
        print(f"python: FAILED: {e}", file=sys.stderr, flush=True)
        sys.exit(1)
    print("python: story passed", flush=True)
