"""A continuous worker on the Work stream (SPEC 4.2).

The server pushes a started batch whenever one of ``concurrency`` slots is free, and takes
acks, failures and heartbeats on the same stream, answering each by request id: N handlers run
whenever N batches are available, and nothing polls. The options and defaults are the same in
every client of this project.

The engine is one asyncio event loop, in a thread the worker owns, on a ``grpc.aio`` channel of
its own (same target, credentials, options and bearer token as the client's): the stream's reader
and writer, the heartbeats, the request timeouts, the reconnects and the unary fallbacks all run
on it, without locks and without a thread hand-off per message. A plain handler runs on one of up
to ``concurrency`` handler threads (it may block); it is handed its batch through a
``queue.SimpleQueue`` and hands it back through a deque that the loop drains, woken once for all
the handlers that finished meanwhile. An ``async def`` handler runs on the loop itself: no thread
at all, but it must not block. The public API stays synchronous (docs/work-stream.md).
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
import queue
import random
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, Optional, Sequence, Union

import grpc

from lightspeed.orchestrator.v1 import (
    batch_pb2, orchestrator_service_pb2 as service_pb2, orchestrator_service_pb2_grpc as service_grpc)

from .client import Client
from .errors import OrchestratorError, Reason
from .worker import PermanentFailure, WorkResult, failure_reason

_log = logging.getLogger(__name__)
# How long abort() (and stop() past its grace) waits for a cancelled stream's reader to end.
_ABORT_WAIT_S = 5.0
_LEASE_LOST = (Reason.STALE_ATTEMPT, Reason.NOT_IN_FLIGHT, Reason.BATCH_NOT_FOUND)
_request_ids = itertools.count(1)
_REPORT_TIMEOUT_S = 30.0
# A handler that ended with a BaseException that is not an Exception (SystemExit, ...): its
# attempt is not reported (its lease expires), as when the worker is aborted.
_NO_REPORT = object()

StreamHandler = Union[Callable[[batch_pb2.StartedBatch], None],
                      Callable[[batch_pb2.StartedBatch], Awaitable[None]]]


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


@dataclass
class StreamWorkerOptions:
    pipeline: str
    concurrency: int = 1
    stages: Sequence[str] = ()
    heartbeat_fraction: float = 1 / 3
    shutdown_grace: float = 30.0
    min_reconnect_backoff: float = 0.1
    max_reconnect_backoff: float = 5.0
    # Called with each batch's WorkResult once its ack or fail is answered, on the worker's event
    # loop thread (keep it short, never block in it), as the Go and TypeScript workers'
    # OnResult / onResult.
    on_result: Optional[Callable[[WorkResult], None]] = None
    # Work streams opened side by side (Python only), their capacities adding up to
    # `concurrency`; None: one per 16 of concurrency, at most 4. See _auto_streams.
    streams: Optional[int] = None


def _auto_streams(concurrency: int) -> int:
    """grpcio completes one read (and one write) per stream at a time, each a round trip through
    its completion-queue thread, so one stream tops out at a few thousand messages a second;
    streams side by side overlap them."""
    return max(1, min(4, concurrency // 16))


class _Session:
    """One open Work stream, on the worker's loop: the call, a writer task that sends the outbox
    in order, a reader task, and the requests waiting for their answer."""

    def __init__(self, worker: "StreamWorker", slot: int, capacity: int):
        self._worker = worker
        self.slot = slot
        self._loop = worker._loop
        # request id -> (callback(result | None, error | None), deadline on time.monotonic() or None)
        self._pending: Dict[int, tuple] = {}
        self._outbox: deque = deque()
        self._wake: Optional[asyncio.Future] = None
        self.sends_closed = False
        self.ended = False
        self.done = self._loop.create_future()
        opts = worker.options
        self._call = worker._stub.Work(metadata=worker._metadata)
        self._outbox.append(service_pb2.WorkRequest(open=service_pb2.WorkOpen(
            pipeline=opts.pipeline, stages=list(opts.stages), capacity=capacity)))
        self._writer = self._loop.create_task(self._write())
        self._reader = self._loop.create_task(self._read())
        self._sweep = self._loop.call_later(1.0, self._expire)

    def _expire(self) -> None:
        """Fails the requests that waited past their deadline (once a second, not a timer each)."""
        if self.ended:
            return
        now = time.monotonic()
        late = [i for i, (_, deadline) in self._pending.items() if deadline is not None and deadline < now]
        for i in late:
            self._pending.pop(i)[0](None, TimeoutError("no answer on the Work stream in time"))
        self._sweep = self._loop.call_later(1.0, self._expire)

    async def _write(self) -> None:
        call, outbox = self._call, self._outbox
        try:
            while True:
                while outbox:
                    request = outbox.popleft()
                    if request is None:
                        await call.done_writing()  # half-close: requests already sent are answered
                        return
                    await call.write(request)
                self._wake = self._loop.create_future()
                await self._wake
        except asyncio.CancelledError:
            return
        except Exception as e:  # noqa: BLE001 - the call ended: the reader says why
            _log.debug("Work stream writer ended: %r", e)

    def _push(self, item: Optional[service_pb2.WorkRequest]) -> None:
        self._outbox.append(item)
        wake = self._wake
        if wake is not None:
            self._wake = None
            if not wake.done():
                wake.set_result(None)

    async def _read(self) -> None:
        error: Optional[BaseException] = None
        worker, call, pending = self._worker, self._call, self._pending
        try:
            while True:
                response = await call.read()
                if response is grpc.aio.EOF:
                    break
                which = response.WhichOneof("response")
                if which == "started":
                    worker._on_started(response.started, self)
                elif which == "result":
                    waiting = pending.pop(response.result.request_id, None)
                    if waiting is not None:
                        waiting[0](response.result, None)
        except grpc.RpcError as e:
            error = e
        except asyncio.CancelledError:
            pass  # cancelled by us (abort, or stop past its grace)
        except Exception as e:  # noqa: BLE001 - anything else ends this stream; the worker reconnects
            error = e
            _log.exception("Work stream reader failed")
        finally:
            self.sends_closed = True
            self.ended = True
            self._sweep.cancel()
            self._push(None)  # ends the writer if it waits
            waiting_ones, self._pending = list(self._pending.values()), {}
            for callback, _ in waiting_ones:
                callback(None, ConnectionError("the Work stream ended before answering"))
            if not self.done.done():
                self.done.set_result(None)
            worker._on_ended(self, error)

    def request(self, request: service_pb2.WorkRequest, timeout: Optional[float],
                callback: Callable[[Optional[service_pb2.WorkResult], Optional[BaseException]], None]) -> None:
        """Sends an ack, fail or extend with a fresh request id; ``callback(result, None)`` runs
        on the loop with its WorkResult, or ``callback(None, error)`` when the stream ends (or
        ``timeout`` seconds pass) before its answer."""
        if self.sends_closed:
            callback(None, ConnectionError("the Work stream is closed"))
            return
        request_id = next(_request_ids)
        getattr(request, request.WhichOneof("request")).request_id = request_id
        self._pending[request_id] = (callback, None if timeout is None else time.monotonic() + timeout)
        self._push(request)

    def half_close(self) -> None:
        if not self.sends_closed:
            self.sends_closed = True
            self._push(None)

    def cancel(self) -> None:
        self.sends_closed = True
        self._call.cancel()


class StreamWorker:
    """Runs ``handler(started)`` over a pipeline's batches, ``concurrency`` at a time.

    Returning acks the batch, raising fails it (``PermanentFailure``: dead-letter at once). While
    a handler runs, its lease is extended on the stream every ``lease × heartbeat_fraction``; a
    heartbeat refused STALE_ATTEMPT / NOT_IN_FLIGHT / BATCH_NOT_FOUND means the lease was lost.
    Reports go on the stream, or as unary calls when no stream is up. A broken stream is reopened
    after ``min_reconnect_backoff`` doubling (with jitter) to ``max_reconnect_backoff`` seconds.
    ``stop()`` half-closes the stream (the server starts nothing more for it), lets handlers finish
    for up to ``shutdown_grace`` seconds, then returns. ``abort()`` stops at once: leases expire.

    ``handler`` is a plain function (run on a handler thread: it may block) or an ``async def``
    coroutine function (run on the worker's event loop: it must not block).

    The worker opens ``streams`` Work streams (default one per 16 of ``concurrency``, at most 4)
    whose capacities add up to ``concurrency``: grpcio moves one message per call at a time each
    way, so streams side by side carry more (docs/work-stream.md, "The Python worker's engine").
    ``stop()`` and ``abort()`` act on all of them.
    """

    def __init__(self, client: Client, handler: StreamHandler, options: StreamWorkerOptions):
        if not 1 <= options.concurrency <= 1000:
            raise ValueError(f"concurrency must be 1..1000 (got {options.concurrency})")
        if options.streams is not None and options.streams < 1:
            raise ValueError(f"streams must be >= 1 (got {options.streams})")
        self.client = client
        self.handler = handler
        self.options = options
        self._async_handler = inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
            getattr(handler, "__call__", None))
        self._metadata = getattr(client, "_metadata", None)
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._channel: Any = None
        self._stub: Any = None
        # The open streams: `streams` of them, their capacities adding up to `concurrency`.
        self._streams = min(options.streams or _auto_streams(options.concurrency), options.concurrency)
        self._sessions: list = [None] * self._streams
        self._closing = False
        self._aborted = False
        self._finishing = False
        self._backoff = options.min_reconnect_backoff
        self._stats = StreamWorkerStats()
        # Handlers: at most `concurrency` run; batches received beyond that (right after a
        # reconnect, while the old stream's handlers still run) wait, their leases kept alive.
        self._running = 0
        self._waiting: deque = deque()
        self._tasks: set = set()
        # Handler threads (plain handlers): fed through _jobs, they hand batches back in _finished.
        self._jobs: "queue.SimpleQueue[Optional[_Lease]]" = queue.SimpleQueue()
        self._threads = 0
        self._finished: deque = deque()
        self._drain_scheduled = False
        # Reports sent and not answered yet: a graceful stop waits for them.
        self._reports = 0
        self._idle: Optional[asyncio.Event] = None

    # ---- public, synchronous API -------------------------------------------------------------

    def start(self) -> "StreamWorker":
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                loop.run_until_complete(self._setup())
            except BaseException as e:  # noqa: BLE001 - raised again by start()
                failure.append(e)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                try:
                    loop.run_until_complete(loop.shutdown_asyncgens())
                finally:
                    loop.close()

        self._thread = threading.Thread(target=run, name="lightspeed-work-loop", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread = None
            raise failure[0]
        return self

    def stats(self) -> StreamWorkerStats:
        return StreamWorkerStats(**vars(self._stats))

    def stop(self) -> None:
        """Graceful stop (see the class); idempotent. Not from a handler or ``on_result``: it
        waits for them (RuntimeError from the loop's own thread)."""
        self._shut_down(graceful=True)

    def abort(self) -> None:
        """Cancels the stream at once (running handlers' reports are dropped; their leases
        expire) and returns once the stream's reader has ended, so the client can be closed."""
        self._shut_down(graceful=False)

    def _shut_down(self, graceful: bool) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            self._closing = True
            self._aborted = self._aborted or not graceful
            return
        if threading.current_thread() is thread:
            raise RuntimeError("stop()/abort() waits for the worker's own loop: call it from another thread")
        coroutine = self._stop_async(graceful)
        try:
            asyncio.run_coroutine_threadsafe(coroutine, loop)
        except RuntimeError:
            coroutine.close()  # the loop is closed: stopped already
        # The loop's thread ends once the worker has stopped (a graceful stop within its grace
        # plus _ABORT_WAIT_S; an abort within _ABORT_WAIT_S), whichever call stopped it.
        thread.join()

    # ---- on the loop --------------------------------------------------------------------------

    async def _setup(self) -> None:
        c = self.client
        target = getattr(c, "_target", None)
        if target is None:
            raise TypeError("StreamWorker needs a lightspeed_orchestrator.Client")
        if c._credentials is None:
            self._channel = grpc.aio.insecure_channel(target, options=c._options)
        else:
            self._channel = grpc.aio.secure_channel(target, c._credentials, options=c._options)
        self._stub = service_grpc.OrchestratorServiceStub(self._channel)
        self._idle = asyncio.Event()
        self._connect()

    async def _stop_async(self, graceful: bool) -> None:
        loop = self._loop
        assert loop is not None and self._idle is not None
        if graceful:
            if self._closing:
                return  # a stop is under way already
            self._closing = True
            deadline = loop.time() + self.options.shutdown_grace
            for session in self._sessions:
                if session is not None:
                    session.half_close()
            while not self._aborted and not self._quiet():
                self._idle.clear()
                try:
                    await asyncio.wait_for(self._idle.wait(), max(0.0, deadline - loop.time()))
                except asyncio.TimeoutError:
                    break
        self._closing = True
        if self._finishing:
            return
        self._finishing = True
        # Past the grace, or abort: nothing more is reported.
        self._aborted = True
        self._idle.set()
        self._waiting.clear()
        for task in list(self._tasks):
            task.cancel()
        open_ones = [session for session in self._sessions if session is not None and not session.ended]
        for session in open_ones:
            session.cancel()
        if open_ones:
            try:
                await asyncio.wait_for(asyncio.gather(*(asyncio.shield(s.done) for s in open_ones)), _ABORT_WAIT_S)
            except asyncio.TimeoutError:
                pass
        for _ in range(self._threads):
            self._jobs.put(None)  # each handler thread ends after its current handler
        try:
            await self._channel.close()
        finally:
            loop.stop()

    def _quiet(self) -> bool:
        return (all(s is None or s.ended for s in self._sessions) and self._running == 0 and not self._waiting
                and self._reports == 0)

    def _changed(self) -> None:
        if self._closing and self._idle is not None:
            self._idle.set()

    def _connect(self, slot: Optional[int] = None) -> None:
        if self._closing:
            return
        c, k = self.options.concurrency, self._streams
        for i in range(k) if slot is None else (slot,):
            self._sessions[i] = _Session(self, i, c // k + (1 if i < c % k else 0))

    def _session_for(self, lease: "_Lease") -> Optional[_Session]:
        """The stream that started the batch if it is still open, else any open one."""
        session = lease.session
        if session is not None and not session.sends_closed:
            return session
        for session in self._sessions:
            if session is not None and not session.sends_closed:
                return session
        return None

    def _on_ended(self, session: _Session, error: Optional[BaseException]) -> None:
        if self._sessions[session.slot] is session:
            self._sessions[session.slot] = None
        if self._closing:
            self._changed()
            return
        wait = self._backoff / 2 + random.random() * self._backoff / 2
        self._backoff = min(self._backoff * 2, self.options.max_reconnect_backoff)
        why = "ended by the server" if error is None else (
            str(OrchestratorError.from_rpc_error(error)) if isinstance(error, grpc.RpcError) else repr(error))
        _log.warning("Work stream of pipeline %r ended (%s); reconnecting in %.0f ms",
                     self.options.pipeline, why, wait * 1000)
        self._loop.call_later(wait, self._connect, session.slot)

    def _on_started(self, started: batch_pb2.StartedBatch, session: _Session) -> None:
        self._backoff = self.options.min_reconnect_backoff
        if self._aborted:
            return
        self._stats.started += 1
        lease = _Lease(started, session)
        lease_s = (started.lease_deadline_ms - started.started_at_ms) / 1000.0
        if started.lease_deadline_ms > 0 and lease_s > 0:
            every = max(0.001, lease_s * self.options.heartbeat_fraction)
            lease.timer = self._loop.call_later(every, self._beat, lease, every, lease_s)
        if self._running < self.options.concurrency:
            self._launch(lease)
        else:
            self._waiting.append(lease)

    def _launch(self, lease: "_Lease") -> None:
        self._running += 1
        if self._async_handler:
            task = self._loop.create_task(self._run_async(lease))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        if self._threads < self._running:
            self._threads += 1
            threading.Thread(target=self._handler_thread, name="lightspeed-handler", daemon=True).start()
        self._jobs.put(lease)

    def _handler_thread(self) -> None:
        """Runs plain handlers; a finished batch goes back to the loop through _finished, with one
        wake-up of the loop for all that finish before it drains them."""
        jobs, finished, handler = self._jobs, self._finished, self.handler
        while True:
            lease = jobs.get()
            if lease is None:
                return
            try:
                handler(lease.started)
            except Exception as e:  # noqa: BLE001 - any handler failure fails the attempt
                lease.error = e
            except BaseException:  # noqa: BLE001 - SystemExit and the like: not reported
                lease.error = _NO_REPORT
            finished.append(lease)
            if not self._drain_scheduled:
                self._drain_scheduled = True
                try:
                    self._loop.call_soon_threadsafe(self._drain)
                except RuntimeError:
                    return  # the loop is closed (the worker was stopped past its grace)

    def _drain(self) -> None:
        # Cleared before draining: a handler that appends after this still schedules a drain.
        self._drain_scheduled = False
        finished = self._finished
        while finished:
            self._done(finished.popleft())

    async def _run_async(self, lease: "_Lease") -> None:
        try:
            await self.handler(lease.started)
        except asyncio.CancelledError:
            lease.error = _NO_REPORT  # cancelled by abort()
        except Exception as e:  # noqa: BLE001 - any handler failure fails the attempt
            lease.error = e
        self._done(lease)

    def _done(self, lease: "_Lease") -> None:
        """A handler returned: its slot frees at once (the next waiting batch runs), its report
        leaves without waiting for the answer."""
        self._running -= 1
        lease.stop()
        if self._waiting and not self._aborted:
            self._launch(self._waiting.popleft())
        if not self._aborted and lease.error is not _NO_REPORT:
            self._report(lease)
        self._changed()

    def _report(self, lease: "_Lease") -> None:
        """Sends the ack or fail on the stream; the answer is counted when it arrives. Without a
        stream, or when it breaks (or stays silent for 30 s) before answering, the report goes as
        a unary call (acks are idempotent; a repeated fail of the same attempt is answered
        FailureRejected)."""
        error = lease.error
        key, attempt = lease.started.batch.key, lease.started.attempt
        if error is None:
            request = service_pb2.WorkRequest(ack=service_pb2.WorkAck(key=key, attempt=attempt))
        else:
            reason = failure_reason(error)
            non_retryable = isinstance(error, PermanentFailure)
            request = service_pb2.WorkRequest(fail=service_pb2.WorkFail(
                key=key, attempt=attempt, reason=reason, non_retryable=non_retryable))

        def on_stream(result: Optional[service_pb2.WorkResult], failed: Optional[BaseException]) -> None:
            if failed is not None:
                self._unary_report(lease)  # no answer on the stream: the unary call decides
            elif result.HasField("error"):
                self._answered(lease, None, OrchestratorError.from_status(result.error))
            else:
                self._answered(lease, result.outcome, None)

        self._reports += 1
        session = self._session_for(lease)
        if session is not None:
            session.request(request, _REPORT_TIMEOUT_S, on_stream)
        else:
            self._unary_report(lease)

    def _unary_report(self, lease: "_Lease") -> None:
        self._spawn(self._unary_report_async(lease))

    async def _unary_report_async(self, lease: "_Lease") -> None:
        error = lease.error
        key, attempt = lease.started.batch.key, lease.started.attempt
        pipeline = self.options.pipeline
        try:
            if error is None:
                response = await self._stub.AckBatch(service_pb2.AckBatchRequest(
                    pipeline=pipeline, key=key, attempt=attempt), metadata=self._metadata)
            else:
                response = await self._stub.FailBatch(service_pb2.FailBatchRequest(
                    pipeline=pipeline, key=key, attempt=attempt, reason=failure_reason(error),
                    non_retryable=isinstance(error, PermanentFailure)), metadata=self._metadata)
        except grpc.RpcError as e:
            self._answered(lease, None, OrchestratorError.from_rpc_error(e))
            return
        except asyncio.CancelledError:
            self._reports -= 1
            self._changed()
            raise
        self._answered(lease, response.outcome, None)

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = self._loop.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _answered(self, lease: "_Lease", outcome: Optional[batch_pb2.ProcessOutcome],
                  refused: Optional[OrchestratorError]) -> None:
        try:
            error = lease.error
            stats = self._stats
            if refused is not None:
                if refused.reason in _LEASE_LOST:
                    stats.reports_dropped += 1
                else:
                    stats.report_errors += 1
                _log.warning("report of batch %r attempt %d refused: %s",
                             lease.started.batch.key, lease.started.attempt, refused)
            elif error is None:
                stats.acked += 1
            else:
                which = outcome.WhichOneof("outcome")
                if which == "retry_scheduled":
                    stats.retries_scheduled += 1
                elif which == "dead_lettered":
                    stats.dead_lettered += 1
                else:
                    stats.reports_dropped += 1
            if self.options.on_result is not None:
                try:
                    self.options.on_result(WorkResult(lease.started, outcome, error, lease.heartbeats,
                                                      refused, lease.lost))
                except Exception:  # noqa: BLE001 - the caller's callback must not stop the worker
                    _log.exception("on_result failed")
        finally:
            self._reports -= 1
            self._changed()

    def _beat(self, lease: "_Lease", every: float, lease_s: float) -> None:
        """One heartbeat, on the loop: sent without waiting (the previous one still on its way is
        not repeated); the next is scheduled at once."""
        if lease.stopped or self._aborted:
            return
        lease.timer = self._loop.call_later(every, self._beat, lease, every, lease_s)
        if lease.beating:
            return
        lease.beating = True
        key, attempt = lease.started.batch.key, lease.started.attempt
        session = self._session_for(lease)
        if session is not None:
            def on_stream(result: Optional[service_pb2.WorkResult], failed: Optional[BaseException]) -> None:
                if failed is not None:
                    lease.beating = False  # no answer (timeout, the stream broke): next tick
                else:
                    self._beaten(lease, OrchestratorError.from_status(result.error)
                                 if result.HasField("error") else None)

            session.request(service_pb2.WorkRequest(extend=service_pb2.WorkExtend(key=key, attempt=attempt)),
                            lease_s, on_stream)
        else:
            self._spawn(self._unary_beat(lease, lease_s))

    async def _unary_beat(self, lease: "_Lease", lease_s: float) -> None:
        key, attempt = lease.started.batch.key, lease.started.attempt
        try:
            await self._stub.ExtendLease(service_pb2.ExtendLeaseRequest(
                pipeline=self.options.pipeline, key=key, attempt=attempt),
                timeout=lease_s, metadata=self._metadata)
        except grpc.RpcError as e:
            self._beaten(lease, OrchestratorError.from_rpc_error(e))
            return
        self._beaten(lease, None)

    def _beaten(self, lease: "_Lease", refused: Optional[OrchestratorError]) -> None:
        lease.beating = False
        if refused is None:
            lease.heartbeats += 1
        elif refused.reason in _LEASE_LOST and not lease.stopped:
            lease.lost = True
            lease.stop()
            self._stats.leases_lost += 1
            _log.warning("lease of batch %r attempt %d lost (%s)",
                         lease.started.batch.key, lease.started.attempt, refused)
        # anything else (a timeout, the stream broke) is transient: next tick


class _Lease:
    """One started attempt while its handler runs or waits (and its heartbeats)."""

    __slots__ = ("started", "session", "timer", "stopped", "beating", "heartbeats", "lost", "error")

    def __init__(self, started: batch_pb2.StartedBatch, session: Optional[_Session]):
        self.started = started
        self.session = session
        self.timer: Optional[asyncio.TimerHandle] = None
        self.stopped = False
        self.beating = False
        self.heartbeats = 0
        self.lost = False
        self.error: Any = None

    def stop(self) -> None:
        self.stopped = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
