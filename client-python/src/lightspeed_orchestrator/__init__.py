"""Python client of the Lightspeed Orchestrator gRPC API.

- :mod:`lightspeed_orchestrator.pb`: every generated message (from ``lightspeed.orchestrator.v1``).
- :class:`Client`: the generated stub on a channel; refusals raise :class:`OrchestratorError`.
- :func:`tls_credentials`: TLS from PEM files, with a client certificate for mutual TLS.
- :class:`StreamWorker`: the continuous worker on the Work stream (concurrency N, no polling).
- :class:`BatchingProducer` / :class:`BatchingAcker`: one future per enqueue / ack, sent in bulk calls.
- :class:`Worker`: the round-based StartAvailable loop (low-level helper).
"""

from . import pb
from .client import Client, EventStream, Stream
from .errors import DOMAIN, OrchestratorError, Reason, item_error
from .tls import tls_credentials
from .producer import BatchingAcker, BatchingOptions, BatchingProducer
from .work import StreamWorker, StreamWorkerOptions, StreamWorkerStats
from .worker import PermanentFailure, Worker, WorkResult

__all__ = [
    "BatchingAcker",
    "BatchingOptions",
    "BatchingProducer",
    "DOMAIN",
    "StreamWorker",
    "StreamWorkerOptions",
    "StreamWorkerStats",
    "Client",
    "EventStream",
    "OrchestratorError",
    "PermanentFailure",
    "Reason",
    "Stream",
    "WorkResult",
    "Worker",
    "item_error",
    "pb",
    "tls_credentials",
]
