"""A worker loop: start available batches, run a handler on each while heartbeating its lease,
then ack it (handler returned) or fail it (handler raised)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence

import grpc

from lightspeed.orchestrator.v1 import batch_pb2, orchestrator_service_pb2 as service_pb2

from .client import Client
from .errors import OrchestratorError, Reason

# Refusals of ExtendLease that mean the lease is gone for good (another attempt owns the batch,
# or it is no longer in flight): heartbeating stops.
_LEASE_LOST = (Reason.STALE_ATTEMPT, Reason.NOT_IN_FLIGHT, Reason.BATCH_NOT_FOUND)


class PermanentFailure(Exception):
    """Raise from a handler to fail the batch as non-retryable: it is dead-lettered at once."""


@dataclass
class WorkResult:
    """What happened to one started batch."""

    started: batch_pb2.StartedBatch
    # The server's answer to the ack or the fail (ProcessOutcome: processed, retry_scheduled,
    # dead_lettered or failure_rejected); None if the ack/fail call itself was refused.
    outcome: Optional[batch_pb2.ProcessOutcome]
    # What the handler raised; None when it returned (and the batch was acked).
    error: Optional[BaseException]
    # Successful ExtendLease calls made while the handler ran.
    heartbeats: int
    # The refusal of the ack/fail call (e.g. STALE_ATTEMPT after the lease was lost), if any.
    report_error: Optional[OrchestratorError] = None
    # True when a heartbeat was refused because the lease was gone.
    lease_lost: bool = False


Handler = Callable[[batch_pb2.StartedBatch], None]

# The longest failure reason a worker sends (a handler's message can be a whole traceback).
MAX_REASON_CHARS = 1024


def failure_reason(error: BaseException) -> str:
    """The reason a worker fails a batch with when its handler raised ``error``: ``str(error)``
    stripped, else the exception's class name (never empty), cut to 1,024 characters. The same
    for :class:`Worker` and :class:`StreamWorker` (docs/work-stream.md)."""
    return (str(error).strip() or type(error).__name__)[:MAX_REASON_CHARS]


class Worker:
    """Processes the batches of one pipeline.

    ``handler(started)`` does the work of one batch; returning acks it, raising fails it
    (retryable, with ``str(exception)`` as the reason, see :func:`failure_reason`; raise
    :class:`PermanentFailure` to dead-letter at once). While the handler runs, the lease is extended every
    ``heartbeat_interval`` seconds (default: a third of the batch's lease; none when the
    pipeline's leases never expire). Up to ``max_batches`` batches are started per round and
    handled on as many threads.
    """

    def __init__(
        self,
        client: Client,
        pipeline: str,
        handler: Handler,
        *,
        stages: Sequence[str] = (),
        max_batches: int = 8,
        heartbeat_interval: Optional[float] = None,
        poll_interval: float = 0.5,
    ):
        if max_batches < 1:
            raise ValueError("max_batches must be >= 1")
        self.client = client
        self.pipeline = pipeline
        self.handler = handler
        self.stages = list(stages)
        self.max_batches = max_batches
        self.heartbeat_interval = heartbeat_interval
        self.poll_interval = poll_interval

    def run_once(self) -> List[WorkResult]:
        """One round: StartAvailable (a stream), handle every started batch, report each.

        Returns the results in start order; [] when nothing was available.
        """
        request = service_pb2.StartAvailableRequest(
            pipeline=self.pipeline, max_batches=self.max_batches, stages=self.stages)
        with ThreadPoolExecutor(max_workers=self.max_batches,
                                thread_name_prefix="lightspeed-worker") as pool:
            futures = [pool.submit(self._process, msg.started)
                       for msg in self.client.StartAvailable(request)]
            return [f.result() for f in futures]

    def run(
        self,
        stop: threading.Event,
        on_result: Optional[Callable[[WorkResult], None]] = None,
    ) -> None:
        """Rounds until ``stop`` is set; waits ``poll_interval`` when nothing was started.

        An UNAVAILABLE server is waited out; any other refusal of StartAvailable is raised.
        """
        while not stop.is_set():
            try:
                results = self.run_once()
            except OrchestratorError as e:
                if e.code != grpc.StatusCode.UNAVAILABLE:
                    raise
                results = []
            for result in results:
                if on_result is not None:
                    on_result(result)
            if not results:
                stop.wait(self.poll_interval)

    def _process(self, started: batch_pb2.StartedBatch) -> WorkResult:
        key, attempt = started.batch.key, started.attempt
        done = threading.Event()
        state = {"beats": 0, "lost": False}
        interval = self.heartbeat_interval
        if interval is None and started.lease_deadline_ms > 0:
            interval = max(started.lease_deadline_ms - started.started_at_ms, 3) / 3000.0

        def heartbeat() -> None:
            request = service_pb2.ExtendLeaseRequest(
                pipeline=self.pipeline, key=key, attempt=attempt)
            while not done.wait(interval):
                try:
                    self.client.ExtendLease(request)
                    state["beats"] += 1
                except OrchestratorError as e:
                    if e.reason in _LEASE_LOST:
                        state["lost"] = True
                        return
                    # Anything else (e.g. UNAVAILABLE) is transient: try again next beat.

        beater = None
        if interval is not None and started.lease_deadline_ms > 0:
            beater = threading.Thread(target=heartbeat, name=f"heartbeat-{key}", daemon=True)
            beater.start()
        error: Optional[BaseException] = None
        try:
            self.handler(started)
        except Exception as e:  # noqa: BLE001 - any handler failure fails the batch
            error = e
        finally:
            done.set()
            if beater is not None:
                beater.join()

        outcome, report_error = None, None
        try:
            if error is None:
                outcome = self.client.AckBatch(service_pb2.AckBatchRequest(
                    pipeline=self.pipeline, key=key, attempt=attempt)).outcome
            else:
                outcome = self.client.FailBatch(service_pb2.FailBatchRequest(
                    pipeline=self.pipeline, key=key, attempt=attempt,
                    reason=failure_reason(error),
                    non_retryable=isinstance(error, PermanentFailure))).outcome
        except OrchestratorError as e:
            report_error = e
        return WorkResult(started, outcome, error, state["beats"], report_error, state["lost"])
