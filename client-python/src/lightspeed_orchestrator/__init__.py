"""Python client of the Lightspeed Orchestrator gRPC API.

- :mod:`lightspeed_orchestrator.pb`: every generated message (from ``lightspeed.orchestrator.v1``).
- :class:`Client`: the generated stub on a channel; refusals raise :class:`OrchestratorError`.
- :class:`Worker`: StartAvailable, handle, heartbeat the lease, ack or fail.
"""

from . import pb
from .client import Client, EventStream, Stream
from .errors import DOMAIN, OrchestratorError, Reason, item_error
from .worker import PermanentFailure, Worker, WorkResult

__all__ = [
    "DOMAIN",
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
]
