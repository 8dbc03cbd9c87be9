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
from typing import Callable, Dict, Optional, Sequence

import grpc

from lightspeed.orchestrator.v1 import batch_pb2, orchestrator_service_pb2 as service_pb2

from ._timers import TIMERS
from .client import Client
from .errors import OrchestratorError, Reason
from .producer import _unary_future
from .worker import Handler, PermanentFailure, WorkResult, failure_reason

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
        # request id -> (future, deadline on time.monotonic(), or None: no timeout)
        self._pending: Dict[int, tuple] = {}
        self._lock = threading.Lock()
        self.sends_closed = False
        self.ended = threading.Event()
        opts = worker.options
        self._requests.put(service_pb2.WorkRequest(open=service_pb2.WorkOpen(
            pipeline=opts.pipeline, stages=list(opts.stages), capacity=opts.concurrency)))
        self._call = worker.client.stub.Work(self._iterate())
        threading.Thread(target=self._read, name="lightspeed-work-reader", daemon=True).start()
        TIMERS.schedule(1.0, self._expire)

    def _expire(self) -> None:
        """Fails the requests that waited past their deadline (once a second, not a timer each)."""
        now = time.monotonic()
        with self._lock:
            if self.ended.is_set():
                return
            late = [i for i, (_, deadline) in self._pending.items() if deadline is not None and deadline < now]
            futures = [self._pending.pop(i)[0] for i in late]
        for future in futures:
            future.set_exception(TimeoutError("no answer on the Work stream in time"))
        TIMERS.schedule(1.0, self._expire)

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
                        waiting = self._pending.pop(response.result.request_id, None)
                    if waiting is not None:
                        waiting[0].set_result(response.result)
        except grpc.RpcError as e:
            error = e
        finally:
            with self._lock:
                self.sends_closed = True
                pending, self._pending = self._pending, {}
            for future, _ in pending.values():
                future.set_exception(ConnectionError("the Work stream ended before answering"))
            self.ended.set()
            self._worker._on_ended(self, error)

    def request(self, request: service_pb2.WorkRequest, timeout: Optional[float] = None) -> Future:
        """Sends an ack, fail or extend with a fresh request id; the future has its WorkResult,
        or fails when the stream ends (or ``timeout`` seconds pass) before its answer."""
        future: Future = Future()
        request_id = next(_request_ids)
        getattr(request, request.WhichOneof("request")).request_id = request_id
        with self._lock:
            if self.sends_closed:
                future.set_exception(ConnectionError("the Work stream is closed"))
                return future
            self._pending[request_id] = (future, None if timeout is None else time.monotonic() + timeout)
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
    # Called with each batch's WorkResult once its ack or fail is answered (on the stream's reader
    # or a gRPC thread: keep it short), as the Go and TypeScript workers' OnResult / onResult.
    on_result: Optional[Callable[[WorkResult], None]] = None


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
        # Reports sent and not answered yet: stop() waits for them.
        self._reports = 0
        self._reports_done = threading.Condition()

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
        # Reports are sent without waiting in the handler's thread: wait for their answers.
        with self._reports_done:
            self._reports_done.wait_for(lambda: self._reports == 0, max(0.0, deadline - time.monotonic()))

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
        lease = _Lease(started)
        lease_s = (started.lease_deadline_ms - started.started_at_ms) / 1000.0
        if started.lease_deadline_ms > 0 and lease_s > 0:
            # On the shared timer thread, not a thread per batch (starting one cost more than
            # the rest of the batch's life cycle in the client).
            every = max(0.001, lease_s * self.options.heartbeat_fraction)
            lease.timer = TIMERS.schedule(every, lambda: self._beat(lease, every, lease_s))
        error: Optional[BaseException] = None
        try:
            self.handler(started)
        except Exception as e:  # noqa: BLE001 - any handler failure fails the attempt
            error = e
        finally:
            lease.stop()
        if self._aborted:
            return
        self._report(lease, error)

    def _report(self, lease: "_Lease", error: Optional[BaseException]) -> None:
        """Sends the ack or fail on the stream without waiting for the answer in the handler's
        thread (it takes the next batch at once); the answer is counted when it arrives. Without
        a stream, or when it breaks (or stays silent for 30 s) before answering, the report goes
        as a unary call (acks are idempotent; a repeated fail of the same attempt is answered
        FailureRejected)."""
        key, attempt = lease.started.batch.key, lease.started.attempt
        pipeline = self.options.pipeline
        if error is None:
            request = service_pb2.WorkRequest(ack=service_pb2.WorkAck(key=key, attempt=attempt))

            def unary() -> None:
                _unary_future(self.client.stub.AckBatch, service_pb2.AckBatchRequest(
                    pipeline=pipeline, key=key, attempt=attempt), lambda r: r.outcome, answered)
        else:
            reason = failure_reason(error)
            non_retryable = isinstance(error, PermanentFailure)
            request = service_pb2.WorkRequest(fail=service_pb2.WorkFail(
                key=key, attempt=attempt, reason=reason, non_retryable=non_retryable))

            def unary() -> None:
                _unary_future(self.client.stub.FailBatch, service_pb2.FailBatchRequest(
                    pipeline=pipeline, key=key, attempt=attempt, reason=reason,
                    non_retryable=non_retryable), lambda r: r.outcome, answered)

        def answered(outcome: Optional[batch_pb2.ProcessOutcome], refused: Optional[OrchestratorError]) -> None:
            try:
                self._answered(lease, error, outcome, refused)
            finally:
                with self._reports_done:
                    self._reports -= 1
                    if self._reports == 0:
                        self._reports_done.notify_all()

        def on_stream(future: Future) -> None:
            if future.exception() is not None:
                unary()  # no answer on the stream: the unary call decides
                return
            result = future.result()
            if result.HasField("error"):
                answered(None, OrchestratorError.from_status(result.error))
            else:
                answered(result.outcome, None)

        with self._reports_done:
            self._reports += 1
        session = self._session
        if session is not None and not session.sends_closed:
            session.request(request, _REPORT_TIMEOUT_S).add_done_callback(on_stream)
        else:
            unary()

    def _answered(self, lease: "_Lease", error: Optional[BaseException],
                  outcome: Optional[batch_pb2.ProcessOutcome], refused: Optional[OrchestratorError]) -> None:
        key, attempt = lease.started.batch.key, lease.started.attempt
        if refused is not None:
            self._count("reports_dropped" if refused.reason in _LEASE_LOST else "report_errors")
            _log.warning("report of batch %r attempt %d refused: %s", key, attempt, refused)
        elif error is None:
            self._count("acked")
        else:
            which = outcome.WhichOneof("outcome")
            self._count({"retry_scheduled": "retries_scheduled", "dead_lettered": "dead_lettered"}
                        .get(which, "reports_dropped"))
        if self.options.on_result is not None:
            self.options.on_result(WorkResult(lease.started, outcome, error, lease.heartbeats, refused, lease.lost))

    def _beat(self, lease: "_Lease", every: float, lease_s: float) -> None:
        """One heartbeat, on the timer thread: sent without waiting (the previous one still on
        its way is not repeated); the next is scheduled at once."""
        if lease.stopped or self._aborted:
            return
        lease.timer = TIMERS.schedule(every, lambda: self._beat(lease, every, lease_s))
        if lease.beating:
            return
        lease.beating = True
        key, attempt = lease.started.batch.key, lease.started.attempt

        def done(refused: Optional[OrchestratorError]) -> None:
            lease.beating = False
            if refused is None:
                lease.heartbeats += 1
            elif refused.reason in _LEASE_LOST and not lease.stopped:
                lease.lost = True
                lease.stop()
                self._count("leases_lost")
                _log.warning("lease of batch %r attempt %d lost (%s)", key, attempt, refused)
            # anything else (a timeout, the stream broke) is transient: next tick

        def on_stream(future: Future) -> None:
            if future.exception() is not None:
                lease.beating = False  # no answer (timeout, the stream broke): next tick
                return
            result = future.result()
            done(OrchestratorError.from_status(result.error) if result.HasField("error") else None)

        session = self._session
        if session is not None and not session.sends_closed:
            session.request(service_pb2.WorkRequest(extend=service_pb2.WorkExtend(key=key, attempt=attempt)),
                            lease_s).add_done_callback(on_stream)
        else:
            _unary_future(self.client.stub.ExtendLease, service_pb2.ExtendLeaseRequest(
                pipeline=self.options.pipeline, key=key, attempt=attempt), lambda r: r,
                lambda _, refused: done(refused), timeout=lease_s)


class _Lease:
    """One started attempt while its handler runs (and its heartbeats)."""

    __slots__ = ("started", "timer", "stopped", "beating", "heartbeats", "lost")

    def __init__(self, started: batch_pb2.StartedBatch):
        self.started = started
        self.timer: Optional[list] = None
        self.stopped = False
        self.beating = False
        self.heartbeats = 0
        self.lost = False

    def stop(self) -> None:
        self.stopped = True
        if self.timer is not None:
            TIMERS.cancel(self.timer)
