from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ConnectorKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONNECTOR_KIND_UNSPECIFIED: _ClassVar[ConnectorKind]
    CONNECTOR_KIND_SOURCE: _ClassVar[ConnectorKind]
    CONNECTOR_KIND_SINK: _ClassVar[ConnectorKind]

class PipelineMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PIPELINE_MODE_UNSPECIFIED: _ClassVar[PipelineMode]
    PIPELINE_MODE_RUNNING: _ClassVar[PipelineMode]
    PIPELINE_MODE_PAUSED: _ClassVar[PipelineMode]
    PIPELINE_MODE_DRAINING: _ClassVar[PipelineMode]
    PIPELINE_MODE_DRAINED: _ClassVar[PipelineMode]
CONNECTOR_KIND_UNSPECIFIED: ConnectorKind
CONNECTOR_KIND_SOURCE: ConnectorKind
CONNECTOR_KIND_SINK: ConnectorKind
PIPELINE_MODE_UNSPECIFIED: PipelineMode
PIPELINE_MODE_RUNNING: PipelineMode
PIPELINE_MODE_PAUSED: PipelineMode
PIPELINE_MODE_DRAINING: PipelineMode
PIPELINE_MODE_DRAINED: PipelineMode

class PipelineSpec(_message.Message):
    __slots__ = ("name", "stages", "connectors", "boundary", "retry", "dedup_window_ms", "allow_unbound_stages")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STAGES_FIELD_NUMBER: _ClassVar[int]
    CONNECTORS_FIELD_NUMBER: _ClassVar[int]
    BOUNDARY_FIELD_NUMBER: _ClassVar[int]
    RETRY_FIELD_NUMBER: _ClassVar[int]
    DEDUP_WINDOW_MS_FIELD_NUMBER: _ClassVar[int]
    ALLOW_UNBOUND_STAGES_FIELD_NUMBER: _ClassVar[int]
    name: str
    stages: _containers.RepeatedScalarFieldContainer[str]
    connectors: _containers.RepeatedCompositeFieldContainer[Connector]
    boundary: Boundary
    retry: RetryPolicy
    dedup_window_ms: int
    allow_unbound_stages: bool
    def __init__(self, name: _Optional[str] = ..., stages: _Optional[_Iterable[str]] = ..., connectors: _Optional[_Iterable[_Union[Connector, _Mapping]]] = ..., boundary: _Optional[_Union[Boundary, _Mapping]] = ..., retry: _Optional[_Union[RetryPolicy, _Mapping]] = ..., dedup_window_ms: _Optional[int] = ..., allow_unbound_stages: _Optional[bool] = ...) -> None: ...

class Connector(_message.Message):
    __slots__ = ("name", "kind", "stage", "disabled", "max_batch_records", "dead_letter_destination", "ordered")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    DISABLED_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_RECORDS_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTER_DESTINATION_FIELD_NUMBER: _ClassVar[int]
    ORDERED_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: ConnectorKind
    stage: str
    disabled: bool
    max_batch_records: int
    dead_letter_destination: str
    ordered: bool
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[_Union[ConnectorKind, str]] = ..., stage: _Optional[str] = ..., disabled: _Optional[bool] = ..., max_batch_records: _Optional[int] = ..., dead_letter_destination: _Optional[str] = ..., ordered: _Optional[bool] = ...) -> None: ...

class Boundary(_message.Message):
    __slots__ = ("max_in_flight", "max_queued", "max_lag_ms", "max_in_flight_records", "lease_ms")
    MAX_IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    MAX_QUEUED_FIELD_NUMBER: _ClassVar[int]
    MAX_LAG_MS_FIELD_NUMBER: _ClassVar[int]
    MAX_IN_FLIGHT_RECORDS_FIELD_NUMBER: _ClassVar[int]
    LEASE_MS_FIELD_NUMBER: _ClassVar[int]
    max_in_flight: int
    max_queued: int
    max_lag_ms: int
    max_in_flight_records: int
    lease_ms: int
    def __init__(self, max_in_flight: _Optional[int] = ..., max_queued: _Optional[int] = ..., max_lag_ms: _Optional[int] = ..., max_in_flight_records: _Optional[int] = ..., lease_ms: _Optional[int] = ...) -> None: ...

class RetryPolicy(_message.Message):
    __slots__ = ("max_attempts", "initial_backoff_ms", "max_backoff_ms", "multiplier")
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    INITIAL_BACKOFF_MS_FIELD_NUMBER: _ClassVar[int]
    MAX_BACKOFF_MS_FIELD_NUMBER: _ClassVar[int]
    MULTIPLIER_FIELD_NUMBER: _ClassVar[int]
    max_attempts: int
    initial_backoff_ms: int
    max_backoff_ms: int
    multiplier: float
    def __init__(self, max_attempts: _Optional[int] = ..., initial_backoff_ms: _Optional[int] = ..., max_backoff_ms: _Optional[int] = ..., multiplier: _Optional[float] = ...) -> None: ...
