"""A connection to the orchestrator: the generated stub, with refusals raised as OrchestratorError."""

from __future__ import annotations

import collections
import threading
from typing import Any, Iterator, List, Optional, Sequence, Tuple, Union

import grpc

from lightspeed.orchestrator.v1 import orchestrator_service_pb2_grpc as service_grpc

from .errors import OrchestratorError
from .targets import SERVICE_CONFIG, channel_target


class Client:
    """The OrchestratorService stub on one channel.

    Every RPC of the service is an attribute with the generated name and request type, e.g.
    ``client.EnqueueBatch(pb.EnqueueBatchRequest(...))``; a refusal raises
    :class:`OrchestratorError` (with ``reason``) instead of a bare ``grpc.RpcError``.
    Server-streaming RPCs (StartAvailable, WatchStarted) return a :class:`Stream`: iterate it,
    and ``cancel()`` it to stop watching. ``client.stub`` is the unwrapped generated stub.

    ``target``: ``"host:port"`` (or any gRPC target such as ``dns:///name:port``), or a list of
    ``"IP:PORT"`` strings, the nodes of a cluster: calls go to the first node that accepts a
    connection and move to the next when it goes away (gRPC's pick_first over the ``ipv4:`` list;
    see :mod:`lightspeed_orchestrator.targets`). Idempotent calls (enqueues, acks, lease
    extensions, reads) are retried by the channel on UNAVAILABLE, up to 4 attempts within the
    call's timeout; a replayed enqueue is deduplicated by its idempotency key.
    ``server_name``: with TLS, the name every node's certificate must carry (also the
    ``:authority``); default the first target's host.

    ``credentials``: TLS channel credentials (``grpc.ssl_channel_credentials(ca)``); default
    plaintext. ``bearer_token``: for a server started with ``--token-file``, sends
    ``authorization: Bearer <token>`` on every call, streams included (also on calls made
    through ``client.stub``); an empty token raises ValueError. Use it with TLS: the token is a
    secret, and plaintext is only fit for loopback.
    """

    def __init__(
        self,
        target: Union[str, Sequence[str]],
        *,
        credentials: Optional[grpc.ChannelCredentials] = None,
        options: Optional[Sequence[Tuple[str, Any]]] = None,
        bearer_token: Optional[str] = None,
        server_name: Optional[str] = None,
    ):
        interceptor = None
        if bearer_token is not None:
            # Checked before the channel is opened, so a bad token leaks no channel.
            interceptor = _BearerToken(bearer_token)
        extra: List[Tuple[str, Any]] = []
        if not isinstance(target, str):
            targets = list(target)
            if len(targets) == 1:
                target = targets[0]
            else:
                target, first = channel_target(targets)
                # C-core's default authority would be the whole list.
                extra.append(("grpc.default_authority", server_name or first))
        if server_name is not None:
            extra.append(("grpc.ssl_target_name_override", server_name))
            if not any(k == "grpc.default_authority" for k, _ in extra):
                extra.append(("grpc.default_authority", server_name))
        given = list(options or ())
        if not any(k == "grpc.service_config" for k, _ in given):
            extra.append(("grpc.service_config", SERVICE_CONFIG))
        options = given + extra
        # What the StreamWorker needs to open its own grpc.aio channel to the same servers.
        self._target, self._credentials, self._options = target, credentials, options
        self._metadata = None if interceptor is None else (interceptor._header,)
        if credentials is None:
            self.channel = grpc.insecure_channel(target, options=options)
        else:
            self.channel = grpc.secure_channel(target, credentials, options=options)
        calls = self.channel if interceptor is None else grpc.intercept_channel(self.channel, interceptor)
        self.stub = service_grpc.OrchestratorServiceStub(calls)

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Blocks until the channel is connected (raises grpc.FutureTimeoutError)."""
        grpc.channel_ready_future(self.channel).result(timeout=timeout)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def watch_events(
        self,
        pipeline: str,
        after_event_id: Optional[int] = None,
        types: Sequence[int] = (),
        max_backoff: float = 5.0,
    ) -> "EventStream":
        """The pipeline's events (WatchEvents) after ``after_event_id`` (None = from now on),
        only of ``types`` (empty = all), resuming by itself after a cut-off (WATCH_BUFFER_FULL)
        or a lost connection (UNAVAILABLE) from the last id it returned: no gap, no duplicate.
        Iterate it; ``cancel()`` it to stop; ``last_event_id`` is the id to keep for resuming."""
        return EventStream(self.stub, pipeline, after_event_id, types, max_backoff)

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


class _BearerToken(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Adds ``authorization: Bearer <token>`` to the metadata of every call.

    An interceptor rather than ``grpc.access_token_call_credentials``: grpcio sends call
    credentials only on secure channels, and the header must also reach a plaintext loopback
    server (as the Java client's ``bearerToken`` does).
    """

    def __init__(self, token: str):
        if not isinstance(token, str) or not token.strip():
            raise ValueError("bearer token must not be empty")
        self._header = ("authorization", "Bearer " + token.strip())

    def _with_token(self, details: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        metadata = list(details.metadata or ())
        metadata.append(self._header)
        return _CallDetails(details.method, details.timeout, metadata, details.credentials,
                            getattr(details, "wait_for_ready", None),
                            getattr(details, "compression", None))

    def intercept_unary_unary(self, continuation, client_call_details, request):
        return continuation(self._with_token(client_call_details), request)

    def intercept_unary_stream(self, continuation, client_call_details, request):
        return continuation(self._with_token(client_call_details), request)

    def intercept_stream_unary(self, continuation, client_call_details, request_iterator):
        return continuation(self._with_token(client_call_details), request_iterator)

    def intercept_stream_stream(self, continuation, client_call_details, request_iterator):
        return continuation(self._with_token(client_call_details), request_iterator)


class _CallDetails(
    collections.namedtuple(
        "_CallDetails", ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression")),
    grpc.ClientCallDetails,
):
    pass


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


class EventStream:
    """A resumable WatchEvents stream (see :meth:`Client.watch_events`)."""

    def __init__(self, stub: Any, pipeline: str, after_event_id: Optional[int],
                 types: Sequence[int], max_backoff: float):
        self._stub = stub
        self._pipeline = pipeline
        self._types = list(types)
        self._max_backoff = max_backoff
        self.last_event_id: Optional[int] = after_event_id
        self.reconnects = 0
        self._cancelled = threading.Event()
        self._call: Any = None
        self._open()

    def _open(self) -> None:
        from lightspeed.orchestrator.v1 import orchestrator_service_pb2 as service_pb2

        request = service_pb2.WatchEventsRequest(pipeline=self._pipeline, types=self._types)
        if self.last_event_id is not None:
            request.after_event_id = self.last_event_id
        self._call = self._stub.WatchEvents(request)

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        backoff = 0.1
        while not self._cancelled.is_set():
            try:
                event = next(self._call).event
                self.last_event_id = event.event_id
                return event
            except StopIteration:
                raise
            except grpc.RpcError as e:
                if self._cancelled.is_set():
                    raise StopIteration from None
                error = OrchestratorError.from_rpc_error(e)
                if not (e.code() == grpc.StatusCode.UNAVAILABLE
                        or error.reason == "WATCH_BUFFER_FULL"):
                    raise error from None
            self._cancelled.wait(backoff)
            backoff = min(backoff * 2, self._max_backoff)
            self.reconnects += 1
            self._open()
        raise StopIteration

    def cancel(self) -> None:
        self._cancelled.set()
        if self._call is not None:
            self._call.cancel()
