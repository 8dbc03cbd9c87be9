"""A continuous worker on the Work stream (SPEC 4.2).

The server pushes a started batch whenever one of ``concurrency`` slots is free, and takes
acks, failures and heartbeats on the same stream, answering each by request id: N handlers run
whenever N batches are available, and nothing polls. The options and defaults are the same in
every client of this project.
"""

from __future__ import annotations

import itertools
import logging
import queue
import random
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Dict, Optional, Sequence

import grpc

from lightspeed.orchestrator.v1 import batch_pb2, orchestrator_service_pb2 as service_pb2

from .client import Client
from .errors import OrchestratorError, Reason
from .worker import Handler, PermanentFailure

_log = logging.getLogger(__name__)
# How long abort() (and stop() past its grace) waits for a cancelled stream's reader to end.
_ABORT_WAIT_S = 5.0
_LEASE_LOST = (Reason.STALE_ATTEMPT, Reason.NOT_IN_FLIGHT, Reason.BATCH_NOT_FOUND)
_request_ids = itertools.count(1)
_REPORT_TIMEOUT_S = 30.0


@dataclass
class StreamWorkerStats:
    """Counters since start(), as the Java WorkerStats."""

    started: int = 0
    acked: int = 0
    retries_scheduled: int = 0
    dead_lettered: int = 0
    reports_dropped: int = 0
    leases_lost: int = 0
    report_errors: int = 0


class _Session:
    """One open Work stream: a request queue feeding the call, a reader thread for responses."""

    def __init__(self, worker: "StreamWorker"):
        self._worker = worker
        self._requests: "queue.Queue[Optional[service_pb2.WorkRequest]]" = queue.Queue()
        self._pending: Dict[int, Future] = {}
        self._lock = threading.Lock()
        self.sends_closed = False
        self.ended = threading.Event()
        opts = worker.options
        self._requests.put(service_pb2.WorkRequest(open=service_pb2.WorkOpen(
            pipeline=opts.pipeline, stages=list(opts.stages), capacity=opts.concurrency)))
        self._call = worker.client.stub.Work(self._iterate())
        threading.Thread(target=self._read, name="lightspeed-work-reader", daemon=True).start()

    def _iterate(self):
        while True:
            request = self._requests.get()
            if request is None:
                return  # half-close: requests already sent are still answered
            yield request

    def _read(self) -> None:
        error: Optional[BaseException] = None
        try:
            for response in self._call:
                which = response.WhichOneof("response")
                if which == "started":
                    self._worker._on_started(response.started)
                elif which == "result":
                    with self._lock:
                        future = self._pending.pop(response.result.request_id, None)
                    if future is not None:
                        future.set_result(response.result)
        except grpc.RpcError as e:
            error = e
        finally:
            with self._lock:
                self.sends_closed = True
                pending, self._pending = self._pending, {}
            for future in pending.values():
                future.set_exception(ConnectionError("the Work stream ended before answering"))
            self.ended.set()
            self._worker._on_ended(self, error)

    def request(self, request: service_pb2.WorkRequest) -> Future:
        """Sends an ack, fail or extend with a fresh request id; the future has its WorkResult."""
        future: Future = Future()
        request_id = next(_request_ids)
        getattr(request, request.WhichOneof("request")).request_id = request_id
        with self._lock:
            if self.sends_closed:
                future.set_exception(ConnectionError("the Work stream is closed"))
                return future
            self._pending[request_id] = future
            self._requests.put(request)
        return future

    def half_close(self) -> None:
        with self._lock:
            if not self.sends_closed:
                self.sends_closed = True
                self._requests.put(None)

    def cancel(self) -> None:
        with self._lock:
            if not self.sends_closed:
                self.sends_closed = True
                # Ends the request iterator too: grpcio's thread that consumes it would otherwise
                # stay blocked on the queue after the call is cancelled, and a channel closed (or
                # an interpreter shutting down) under that thread can crash the process.
                self._requests.put(None)
        self._call.cancel()


@dataclass
class StreamWorkerOptions:
    pipeline: str
    concurrency: int = 1
    stages: Sequence[str] = ()
    heartbeat_fraction: float = 1 / 3
    shutdown_grace: float = 30.0
    min_reconnect_backoff: float = 0.1
    max_reconnect_backoff: float = 5.0


class StreamWorker:
    """Runs ``handler(started)`` over a pipeline's batches, ``concurrency`` at a time.

    Returning acks the batch, raising fails it (``PermanentFailure``: dead-letter at once). While
    a handler runs, its lease is extended on the stream every ``lease × heartbeat_fraction``; a
    heartbeat refused STALE_ATTEMPT / NOT_IN_FLIGHT / BATCH_NOT_FOUND means the lease was lost.
    Reports go on the stream, or as unary calls when no stream is up. A broken stream is reopened
    after ``min_reconnect_backoff`` doubling (with jitter) to ``max_reconnect_backoff`` seconds.
    ``stop()`` half-closes the stream (the server starts nothing more for it), lets handlers finish
    for up to ``shutdown_grace`` seconds, then returns. ``abort()`` stops at once: leases expire.
    """

    def __init__(self, client: Client, handler: Handler, options: StreamWorkerOptions):
        if not 1 <= options.concurrency <= 1000:
            raise ValueError(f"concurrency must be 1..1000 (got {options.concurrency})")
        self.client = client
        self.handler = handler
        self.options = options
        self._handlers = ThreadPoolExecutor(options.concurrency, thread_name_prefix="lightspeed-handler")
        self._session: Optional[_Session] = None
        self._closing = False
        self._aborted = False
        self._backoff = options.min_reconnect_backoff
        self._stats = StreamWorkerStats()
        self._stats_lock = threading.Lock()

    def start(self) -> "StreamWorker":
        self._connect()
        return self

    def stats(self) -> StreamWorkerStats:
        with self._stats_lock:
            return StreamWorkerStats(**vars(self._stats))

    def stop(self) -> None:
        """Graceful stop (see the class); idempotent."""
        if self._closing:
            return
        self._closing = True
        deadline = time.monotonic() + self.options.shutdown_grace
        session = self._session
        if session is not None:
            session.half_close()
            if not session.ended.wait(max(0.0, deadline - time.monotonic())):
                session.cancel()
                session.ended.wait(_ABORT_WAIT_S)
        self._handlers.shutdown(wait=True)

    def abort(self) -> None:
        """Cancels the stream at once (running handlers' reports are dropped; their leases
        expire) and returns once the stream's reader has ended, so the client can be closed."""
        self._closing = True
        self._aborted = True
        session = self._session
        if session is not None:
            session.cancel()
            session.ended.wait(_ABORT_WAIT_S)
        self._handlers.shutdown(wait=False, cancel_futures=True)

    def _count(self, field: str) -> None:
        with self._stats_lock:
            setattr(self._stats, field, getattr(self._stats, field) + 1)

    def _connect(self) -> None:
        if not self._closing:
            self._session = _Session(self)

    def _on_ended(self, session: _Session, error: Optional[BaseException]) -> None:
        if self._session is session:
            self._session = None
        if self._closing:
            return
        wait = self._backoff / 2 + random.random() * self._backoff / 2
        self._backoff = min(self._backoff * 2, self.options.max_reconnect_backoff)
        why = "ended by the server" if error is None else str(OrchestratorError.from_rpc_error(error))
        _log.warning("Work stream of pipeline %r ended (%s); reconnecting in %.0f ms",
                     self.options.pipeline, why, wait * 1000)
        timer = threading.Timer(wait, self._connect)
        timer.daemon = True
        timer.start()

    def _on_started(self, started: batch_pb2.StartedBatch) -> None:
        self._backoff = self.options.min_reconnect_backoff
        if self._aborted:
            return
        self._count("started")
        try:
            self._handlers.submit(self._process, started)
        except RuntimeError:
            pass  # shut down: its lease expires

    def _process(self, started: batch_pb2.StartedBatch) -> None:
        key, attempt = started.batch.key, started.attempt
        stop_beating = threading.Event()
        lease_s = (started.lease_deadline_ms - started.started_at_ms) / 1000.0
        if started.lease_deadline_ms > 0 and lease_s > 0:
            threading.Thread(target=self._heartbeats, args=(key, attempt, lease_s, stop_beating),
                             daemon=True).start()
        error: Optional[BaseException] = None
        try:
            self.handler(started)
        except Exception as e:  # noqa: BLE001 - any handler failure fails the attempt
            error = e
        finally:
            stop_beating.set()
        if self._aborted:
            return
        try:
            if error is None:
                self._report(service_pb2.WorkRequest(ack=service_pb2.WorkAck(key=key, attempt=attempt)),
                             lambda: self.client.AckBatch(service_pb2.AckBatchRequest(
                                 pipeline=self.options.pipeline, key=key, attempt=attempt)).outcome)
                self._count("acked")
            else:
                reason = (str(error).strip() or type(error).__name__)[:1024]
                non_retryable = isinstance(error, PermanentFailure)
                outcome = self._report(
                    service_pb2.WorkRequest(fail=service_pb2.WorkFail(
                        key=key, attempt=attempt, reason=reason, non_retryable=non_retryable)),
                    lambda: self.client.FailBatch(service_pb2.FailBatchRequest(
                        pipeline=self.options.pipeline, key=key, attempt=attempt, reason=reason,
                        non_retryable=non_retryable)).outcome)
                which = outcome.WhichOneof("outcome")
                self._count({"retry_scheduled": "retries_scheduled", "dead_lettered": "dead_lettered"}
                            .get(which, "reports_dropped"))
        except OrchestratorError as e:
            self._count("reports_dropped" if e.reason in _LEASE_LOST else "report_errors")
            _log.warning("report of batch %r attempt %d refused: %s", key, attempt, e)

    def _report(self, request: service_pb2.WorkRequest, unary) -> batch_pb2.ProcessOutcome:
        session = self._session
        if session is not None and not session.sends_closed:
            try:
                result = session.request(request).result(timeout=_REPORT_TIMEOUT_S)
            except Exception:  # noqa: BLE001 - no answer: the unary call decides
                result = None
            if result is not None:
                if result.HasField("error"):
                    raise OrchestratorError.from_status(result.error)
                return result.outcome
        return unary()

    def _heartbeats(self, key: str, attempt: int, lease_s: float, stop: threading.Event) -> None:
        every = max(0.001, lease_s * self.options.heartbeat_fraction)
        while not stop.wait(every) and not self._aborted:
            try:
                session = self._session
                if session is not None and not session.sends_closed:
                    result = session.request(service_pb2.WorkRequest(
                        extend=service_pb2.WorkExtend(key=key, attempt=attempt))).result(timeout=lease_s)
                    if result.HasField("error"):
                        raise OrchestratorError.from_status(result.error)
                else:
                    self.client.ExtendLease(service_pb2.ExtendLeaseRequest(
                        pipeline=self.options.pipeline, key=key, attempt=attempt), timeout=lease_s)
            except OrchestratorError as e:
                if e.reason in _LEASE_LOST:
                    self._count("leases_lost")
                    _log.warning("lease of batch %r attempt %d lost (%s)", key, attempt, e)
                    return
            except Exception:  # noqa: BLE001 - transient (timeout, stream broke): next tick
                pass
