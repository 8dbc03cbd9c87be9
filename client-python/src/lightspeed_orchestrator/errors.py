"""Typed errors read from the server's google.rpc.Status details.

Every refusal of the server carries, in the ``grpc-status-details-bin`` trailer (or, for one
item of EnqueueBatches / AckBatches, in the result's ``error`` field), a google.rpc.Status
whose details hold a ``google.rpc.ErrorInfo`` (``reason``, domain ``lightspeed.orchestrator``,
metadata such as ``pipeline`` and ``field``) and, for backpressure, a ``google.rpc.RetryInfo``.
:class:`OrchestratorError` exposes them as attributes; branch on :attr:`OrchestratorError.reason`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Optional

import grpc
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status
from lightspeed.orchestrator.v1 import error_reason_pb2

DOMAIN = "lightspeed.orchestrator"


class _ReasonType(type):
    """Lets type checkers read every ``Reason.<NAME>`` as a str.

    The names are set when this module is imported, from the generated enum, so no checker can
    list them; without this, ``Reason.QUEUE_FULL`` would be an error under mypy.
    """

    if TYPE_CHECKING:

        def __getattr__(cls, name: str) -> str: ...


class Reason(metaclass=_ReasonType):
    """The stable reason codes of the server (ErrorInfo.reason).

    One str attribute per value of the generated ``pb.ErrorReason`` enum
    (proto/lightspeed/orchestrator/v1/error_reason.proto), named as the string the server sends:
    ``Reason.QUEUE_FULL == "QUEUE_FULL"``.
    """


for _name in error_reason_pb2.ErrorReason.keys():
    if _name != "ERROR_REASON_UNSPECIFIED":
        setattr(Reason, _name, _name)
del _name


class OrchestratorError(Exception):
    """A call refused by the server (or failed in transport).

    Attributes:
      code: the grpc.StatusCode.
      message: the status message (says what to change).
      reason: ErrorInfo.reason, e.g. ``Reason.QUEUE_FULL``; "" when the status has no ErrorInfo
        (transport errors such as UNAVAILABLE or DEADLINE_EXCEEDED).
      domain: ErrorInfo.domain (``lightspeed.orchestrator``).
      metadata: ErrorInfo.metadata (e.g. ``pipeline``, ``field``).
      retry_delay: RetryInfo.retry_delay in seconds, or None when the status has no RetryInfo.
      status: the whole google.rpc.Status, or None when the server sent no details.
    """

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        reason: str = "",
        domain: str = "",
        metadata: Optional[Mapping[str, str]] = None,
        retry_delay: Optional[float] = None,
        status: Optional[status_pb2.Status] = None,
    ):
        super().__init__(f"{code.name}{' ' + reason if reason else ''}: {message}")
        self.code = code
        self.message = message
        self.reason = reason
        self.domain = domain
        self.metadata = dict(metadata or {})
        self.retry_delay = retry_delay
        self.status = status

    @classmethod
    def from_status(cls, status: status_pb2.Status) -> "OrchestratorError":
        """From a google.rpc.Status, e.g. the ``error`` of an EnqueueResult or AckResult."""
        reason, domain, metadata, retry_delay = "", "", {}, None
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                reason, domain, metadata = info.reason, info.domain, dict(info.metadata)
            elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
                retry = error_details_pb2.RetryInfo()
                detail.Unpack(retry)
                retry_delay = retry.retry_delay.seconds + retry.retry_delay.nanos / 1e9
        return cls(_status_code(status.code), status.message, reason, domain, metadata,
                   retry_delay, status)

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError) -> "OrchestratorError":
        """From a grpc.RpcError raised by a stub call (reads grpc-status-details-bin)."""
        status = None
        try:
            status = rpc_status.from_call(error)  # type: ignore[arg-type]
        except ValueError:  # details that disagree with the status code/message
            status = None
        if status is not None:
            return cls.from_status(status)
        code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
        details = error.details() if hasattr(error, "details") else str(error)
        return cls(code, details or "")


def item_error(result) -> Optional[OrchestratorError]:
    """The error of one EnqueueResult / AckResult of a bulk call, or None when it succeeded."""
    if not result.HasField("error") or result.error.code == code_pb2.OK:
        return None
    return OrchestratorError.from_status(result.error)


def _status_code(number: int) -> grpc.StatusCode:
    for code in grpc.StatusCode:
        if code.value[0] == number:
            return code
    return grpc.StatusCode.UNKNOWN
