from lightspeed.orchestrator.v1 import batch_pb2 as _batch_pb2
from lightspeed.orchestrator.v1 import operator_pb2 as _operator_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_TYPE_UNSPECIFIED: _ClassVar[EventType]
    EVENT_TYPE_ENQUEUED: _ClassVar[EventType]
    EVENT_TYPE_STARTED: _ClassVar[EventType]
    EVENT_TYPE_LEASE_EXPIRED: _ClassVar[EventType]
    EVENT_TYPE_ACKED: _ClassVar[EventType]
    EVENT_TYPE_RETRY_SCHEDULED: _ClassVar[EventType]
    EVENT_TYPE_DEAD_LETTERED: _ClassVar[EventType]
    EVENT_TYPE_ACTION_APPLIED: _ClassVar[EventType]
    EVENT_TYPE_RUN_STARTED: _ClassVar[EventType]
    EVENT_TYPE_RUN_COMPLETED: _ClassVar[EventType]
EVENT_TYPE_UNSPECIFIED: EventType
EVENT_TYPE_ENQUEUED: EventType
EVENT_TYPE_STARTED: EventType
EVENT_TYPE_LEASE_EXPIRED: EventType
EVENT_TYPE_ACKED: EventType
EVENT_TYPE_RETRY_SCHEDULED: EventType
EVENT_TYPE_DEAD_LETTERED: EventType
EVENT_TYPE_ACTION_APPLIED: EventType
EVENT_TYPE_RUN_STARTED: EventType
EVENT_TYPE_RUN_COMPLETED: EventType

class Event(_message.Message):
    __slots__ = ("event_id", "at_ms", "enqueued", "started", "lease_expired", "acked", "retry_scheduled", "dead_lettered", "action_applied", "run_started", "run_completed")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    AT_MS_FIELD_NUMBER: _ClassVar[int]
    ENQUEUED_FIELD_NUMBER: _ClassVar[int]
    STARTED_FIELD_NUMBER: _ClassVar[int]
    LEASE_EXPIRED_FIELD_NUMBER: _ClassVar[int]
    ACKED_FIELD_NUMBER: _ClassVar[int]
    RETRY_SCHEDULED_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTERED_FIELD_NUMBER: _ClassVar[int]
    ACTION_APPLIED_FIELD_NUMBER: _ClassVar[int]
    RUN_STARTED_FIELD_NUMBER: _ClassVar[int]
    RUN_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    event_id: int
    at_ms: int
    enqueued: _batch_pb2.Batch
    started: _batch_pb2.StartedBatch
    lease_expired: LeaseExpired
    acked: _batch_pb2.ProcessResult
    retry_scheduled: _batch_pb2.RetryRecord
    dead_lettered: _batch_pb2.DeadLetterRecord
    action_applied: ActionApplied
    run_started: _operator_pb2.RunSummary
    run_completed: _operator_pb2.RunSummary
    def __init__(self, event_id: _Optional[int] = ..., at_ms: _Optional[int] = ..., enqueued: _Optional[_Union[_batch_pb2.Batch, _Mapping]] = ..., started: _Optional[_Union[_batch_pb2.StartedBatch, _Mapping]] = ..., lease_expired: _Optional[_Union[LeaseExpired, _Mapping]] = ..., acked: _Optional[_Union[_batch_pb2.ProcessResult, _Mapping]] = ..., retry_scheduled: _Optional[_Union[_batch_pb2.RetryRecord, _Mapping]] = ..., dead_lettered: _Optional[_Union[_batch_pb2.DeadLetterRecord, _Mapping]] = ..., action_applied: _Optional[_Union[ActionApplied, _Mapping]] = ..., run_started: _Optional[_Union[_operator_pb2.RunSummary, _Mapping]] = ..., run_completed: _Optional[_Union[_operator_pb2.RunSummary, _Mapping]] = ...) -> None: ...

class LeaseExpired(_message.Message):
    __slots__ = ("key", "attempt")
    KEY_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    key: str
    attempt: int
    def __init__(self, key: _Optional[str] = ..., attempt: _Optional[int] = ...) -> None: ...

class ActionApplied(_message.Message):
    __slots__ = ("action", "message")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    action: _operator_pb2.OperatorAction
    message: str
    def __init__(self, action: _Optional[_Union[_operator_pb2.OperatorAction, _Mapping]] = ..., message: _Optional[str] = ...) -> None: ...
