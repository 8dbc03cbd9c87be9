"""Batching producer and acker: each enqueue (ack) gets its own future, but they travel in
EnqueueBatches (AckBatches) calls of up to ``max_items`` items / ``max_bytes`` bytes, or
``max_delay`` seconds after the first item (defaults 100 / 1 MiB / 5 ms, as Pub/Sub's publisher;
``batching=False`` sends each item alone). One call in flight per stage, so a stage's sequences
keep their order. Futures are ``concurrent.futures.Future``: ``.result()`` returns the item's
result or raises its own :class:`OrchestratorError`."""

from __future__ import annotations

import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

import grpc

from lightspeed.orchestrator.v1 import batch_pb2, orchestrator_service_pb2 as service_pb2

from ._timers import TIMERS as _TIMERS
from .client import Client
from .errors import OrchestratorError


@dataclass
class BatchingOptions:
    max_items: int = 100
    max_delay: float = 0.005
    max_bytes: int = 1 << 20
    batching: bool = True



class _Lane:
    def __init__(self) -> None:
        self.queue: deque = deque()
        self.bytes = 0
        self.in_flight = False
        self.timer: Optional[list] = None
        # How many items the lane's last call returned to their callers plus those that waited
        # for it (0 once a call has left): a caller that keeps a bounded number outstanding sends
        # the returned ones again right away, so a call holding that many leaves without waiting
        # for the timer.
        self.refill = 0
        # When the oldest waiting item arrived (time.monotonic()): its max_delay runs from then.
        self.first = 0.0


class _Batcher:
    def __init__(self, options: BatchingOptions, send: Callable, size: Callable):
        self._max_items = options.max_items if options.batching else 1
        self._max_delay = options.max_delay if options.batching else 0.0
        self._max_bytes = options.max_bytes if options.batching else 1 << 62
        if not 1 <= self._max_items <= 1000:
            raise ValueError(f"max_items must be 1..1000 (got {self._max_items})")
        self._send = send  # (items, callback(results|None, error|None)) -> None
        self._size = size
        self._lanes: Dict[object, _Lane] = {}
        # Reentrant: grpc runs a done-callback at once, on the thread attaching it, when the call
        # has already finished; that thread is in _send_locked, holding this lock.
        self._lock = threading.RLock()
        self._idle = threading.Condition(self._lock)
        self._calls = 0

    def add(self, lane_key: object, item) -> Future:
        future: Future = Future()
        size = self._size(item)
        with self._lock:
            lane = self._lanes.setdefault(lane_key, _Lane())
            if not lane.queue:
                lane.first = time.monotonic()
            lane.queue.append((item, size, future))
            lane.bytes += size
            if lane.in_flight:
                return future
            if (len(lane.queue) >= self._max_items or lane.bytes >= self._max_bytes or self._max_delay == 0
                    or 0 < lane.refill <= len(lane.queue)):
                self._send_locked(lane)
            elif lane.timer is None:
                lane.timer = _TIMERS.schedule(self._max_delay, lambda: self._timer_fired(lane))
        return future

    def flush(self, timeout: Optional[float] = None) -> None:
        """Sends what waits now and blocks until every call so far has completed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while True:
                # Again after each call: what waited for it may wait for a refill (or its timer).
                for lane in self._lanes.values():
                    if not lane.in_flight and lane.queue:
                        self._send_locked(lane)
                if self._calls == 0 and all(not lane.queue for lane in self._lanes.values()):
                    return
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return
                self._idle.wait(remaining)

    def _timer_fired(self, lane: _Lane) -> None:
        with self._lock:
            lane.timer = None
            if not lane.in_flight and lane.queue:
                self._send_locked(lane)

    def _send_locked(self, lane: _Lane) -> None:
        if lane.timer is not None:
            _TIMERS.cancel(lane.timer)
            lane.timer = None
        taken, size = [], 0
        while lane.queue and len(taken) < self._max_items:
            item = lane.queue[0]
            if taken and size + item[1] > self._max_bytes:
                break
            lane.queue.popleft()
            lane.bytes -= item[1]
            size += item[1]
            taken.append(item)
        lane.in_flight = True
        lane.refill = 0
        lane.first = time.monotonic()  # what stays has waited at least this long already
        self._calls += 1

        def done(results, error) -> None:
            # What waited for this call, counted before its callers are answered: they may send
            # again (into the lane, from a future's callback on this thread or from their own)
            # before the lane is looked at below, and must not be counted twice.
            with self._lock:
                waited = len(lane.queue)
            for i, (_, _, future) in enumerate(taken):
                if error is not None:
                    future.set_exception(error)
                elif results is None or i >= len(results):
                    future.set_exception(RuntimeError("the server sent no result for this item"))
                elif isinstance(results[i], BaseException):
                    future.set_exception(results[i])
                else:
                    future.set_result(results[i])
            with self._lock:
                self._calls -= 1
                lane.in_flight = False
                # The callers just answered are about to send again: the next call waits for them
                # (or max_delay after its first item), so that a producer with W outstanding sends
                # calls of W, not two alternating calls of about W/2 (what sending the waiting
                # items at once converged to: twice the calls, each paying the server's fsync).
                lane.refill = len(taken) + waited
                if lane.queue:
                    wait = self._max_delay - (time.monotonic() - lane.first)
                    if (len(lane.queue) >= lane.refill or len(lane.queue) >= self._max_items
                            or lane.bytes >= self._max_bytes or wait <= 0):
                        self._send_locked(lane)
                    elif lane.timer is None:
                        lane.timer = _TIMERS.schedule(wait, lambda: self._timer_fired(lane))
                self._idle.notify_all()

        self._send([t[0] for t in taken], done)


def _unary_future(method, request, convert, done, timeout: Optional[float] = None) -> None:
    """Starts a unary call; ``done(convert(response), None)`` or ``done(None, error)`` runs on a
    gRPC thread when it completes."""

    def on_done(call) -> None:
        try:
            response = call.result()
        except grpc.RpcError as e:
            done(None, OrchestratorError.from_rpc_error(e))
            return
        done(convert(response), None)

    method.future(request, timeout=timeout).add_done_callback(on_done)


class BatchingProducer:
    """``enqueue(batch)`` returns a Future of ``deduplicated`` (bool), or of the item's error."""

    def __init__(self, client: Client, pipeline: str, options: Optional[BatchingOptions] = None):
        def send(batches, done) -> None:
            _unary_future(
                client.stub.EnqueueBatches,
                service_pb2.EnqueueBatchesRequest(pipeline=pipeline, batches=batches),
                lambda resp: [OrchestratorError.from_status(r.error) if r.HasField("error") else r.deduplicated
                              for r in resp.results],
                done)

        self._batcher = _Batcher(options or BatchingOptions(), send, lambda b: b.ByteSize())

    def enqueue(self, batch: batch_pb2.Batch) -> Future:
        return self._batcher.add(batch.stage, batch)

    def flush(self, timeout: Optional[float] = None) -> None:
        self._batcher.flush(timeout)


class BatchingAcker:
    """``ack(key, attempt)`` returns a Future of the ProcessOutcome, or of the item's error."""

    def __init__(self, client: Client, pipeline: str, options: Optional[BatchingOptions] = None):
        def send(acks, done) -> None:
            _unary_future(
                client.stub.AckBatches,
                service_pb2.AckBatchesRequest(pipeline=pipeline, acks=acks),
                lambda resp: [OrchestratorError.from_status(r.error) if r.HasField("error") else r.outcome
                              for r in resp.results],
                done)

        self._batcher = _Batcher(options or BatchingOptions(), send, lambda a: a.ByteSize())

    def ack(self, key: str, attempt: int) -> Future:
        # acks have no order to keep: four lanes, so up to four calls at once
        return self._batcher.add(hash(key) % 4, service_pb2.AckItem(key=key, attempt=attempt))

    def flush(self, timeout: Optional[float] = None) -> None:
        self._batcher.flush(timeout)
