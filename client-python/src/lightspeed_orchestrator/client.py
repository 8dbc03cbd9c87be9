"""A connection to the orchestrator: the generated stub, with refusals raised as OrchestratorError."""

from __future__ import annotations

import threading
from typing import Any, Iterator, Optional, Sequence, Tuple

import grpc

from lightspeed.orchestrator.v1 import orchestrator_service_pb2_grpc as service_grpc

from .errors import OrchestratorError


class Client:
    """The OrchestratorService stub on one channel.

    Every RPC of the service is an attribute with the generated name and request type, e.g.
    ``client.EnqueueBatch(pb.EnqueueBatchRequest(...))``; a refusal raises
    :class:`OrchestratorError` (with ``reason``) instead of a bare ``grpc.RpcError``.
    Server-streaming RPCs (StartAvailable, WatchStarted) return a :class:`Stream`: iterate it,
    and ``cancel()`` it to stop watching. ``client.stub`` is the unwrapped generated stub.
    """

    def __init__(
        self,
        target: str,
        *,
        credentials: Optional[grpc.ChannelCredentials] = None,
        options: Optional[Sequence[Tuple[str, Any]]] = None,
    ):
        if credentials is None:
            self.channel = grpc.insecure_channel(target, options=options)
        else:
            self.channel = grpc.secure_channel(target, credentials, options=options)
        self.stub = service_grpc.OrchestratorServiceStub(self.channel)

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Blocks until the channel is connected (raises grpc.FutureTimeoutError)."""
        grpc.channel_ready_future(self.channel).result(timeout=timeout)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in ("stub", "channel"):
            raise AttributeError(name)
        method = getattr(self.stub, name)
        if isinstance(method, grpc.UnaryStreamMultiCallable):
            wrapped: Any = _StreamingMethod(method)
        else:
            wrapped = _UnaryMethod(method)
        setattr(self, name, wrapped)
        return wrapped


class _UnaryMethod:
    def __init__(self, method: grpc.UnaryUnaryMultiCallable):
        self._method = method

    def __call__(self, request: Any, **kwargs: Any) -> Any:
        try:
            return self._method(request, **kwargs)
        except grpc.RpcError as e:
            raise OrchestratorError.from_rpc_error(e) from None


class _StreamingMethod:
    def __init__(self, method: grpc.UnaryStreamMultiCallable):
        self._method = method

    def __call__(self, request: Any, **kwargs: Any) -> "Stream":
        return Stream(self._method(request, **kwargs))


class Stream:
    """A server stream: iterate for its messages; refusals raise OrchestratorError.

    After ``cancel()`` the iteration simply ends (no CANCELLED error is raised).
    """

    def __init__(self, call: Any):
        self._call = call
        self._cancelled = threading.Event()

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        try:
            return next(self._call)
        except grpc.RpcError as e:
            if self._cancelled.is_set() and e.code() == grpc.StatusCode.CANCELLED:
                raise StopIteration from None
            raise OrchestratorError.from_rpc_error(e) from None

    def cancel(self) -> None:
        self._cancelled.set()
        self._call.cancel()
