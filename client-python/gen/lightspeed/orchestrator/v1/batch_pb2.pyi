from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BatchState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BATCH_STATE_UNSPECIFIED: _ClassVar[BatchState]
    BATCH_STATE_QUEUED: _ClassVar[BatchState]
    BATCH_STATE_IN_FLIGHT: _ClassVar[BatchState]
    BATCH_STATE_RETRY_WAIT: _ClassVar[BatchState]
    BATCH_STATE_DEAD_LETTERED: _ClassVar[BatchState]
BATCH_STATE_UNSPECIFIED: BatchState
BATCH_STATE_QUEUED: BatchState
BATCH_STATE_IN_FLIGHT: BatchState
BATCH_STATE_RETRY_WAIT: BatchState
BATCH_STATE_DEAD_LETTERED: BatchState

class Batch(_message.Message):
    __slots__ = ("key", "stage", "records", "lag_ms", "idempotency_key", "sequence")
    KEY_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    LAG_MS_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    key: str
    stage: str
    records: int
    lag_ms: int
    idempotency_key: str
    sequence: int
    def __init__(self, key: _Optional[str] = ..., stage: _Optional[str] = ..., records: _Optional[int] = ..., lag_ms: _Optional[int] = ..., idempotency_key: _Optional[str] = ..., sequence: _Optional[int] = ...) -> None: ...

class StartedBatch(_message.Message):
    __slots__ = ("batch", "attempt", "started_at_ms", "lease_deadline_ms", "run_id")
    BATCH_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    LEASE_DEADLINE_MS_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    batch: Batch
    attempt: int
    started_at_ms: int
    lease_deadline_ms: int
    run_id: int
    def __init__(self, batch: _Optional[_Union[Batch, _Mapping]] = ..., attempt: _Optional[int] = ..., started_at_ms: _Optional[int] = ..., lease_deadline_ms: _Optional[int] = ..., run_id: _Optional[int] = ...) -> None: ...

class BatchView(_message.Message):
    __slots__ = ("batch", "state", "attempt", "ready_at_ms", "lease_deadline_ms")
    BATCH_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    READY_AT_MS_FIELD_NUMBER: _ClassVar[int]
    LEASE_DEADLINE_MS_FIELD_NUMBER: _ClassVar[int]
    batch: Batch
    state: BatchState
    attempt: int
    ready_at_ms: int
    lease_deadline_ms: int
    def __init__(self, batch: _Optional[_Union[Batch, _Mapping]] = ..., state: _Optional[_Union[BatchState, str]] = ..., attempt: _Optional[int] = ..., ready_at_ms: _Optional[int] = ..., lease_deadline_ms: _Optional[int] = ...) -> None: ...

class ProcessOutcome(_message.Message):
    __slots__ = ("processed", "retry_scheduled", "dead_lettered", "failure_rejected")
    PROCESSED_FIELD_NUMBER: _ClassVar[int]
    RETRY_SCHEDULED_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTERED_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REJECTED_FIELD_NUMBER: _ClassVar[int]
    processed: ProcessResult
    retry_scheduled: RetryRecord
    dead_lettered: DeadLetterRecord
    failure_rejected: FailureRejected
    def __init__(self, processed: _Optional[_Union[ProcessResult, _Mapping]] = ..., retry_scheduled: _Optional[_Union[RetryRecord, _Mapping]] = ..., dead_lettered: _Optional[_Union[DeadLetterRecord, _Mapping]] = ..., failure_rejected: _Optional[_Union[FailureRejected, _Mapping]] = ...) -> None: ...

class ProcessResult(_message.Message):
    __slots__ = ("batch_key", "stage", "records", "attempt", "run_id", "started_at_ms", "completed_at_ms")
    BATCH_KEY_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    batch_key: str
    stage: str
    records: int
    attempt: int
    run_id: int
    started_at_ms: int
    completed_at_ms: int
    def __init__(self, batch_key: _Optional[str] = ..., stage: _Optional[str] = ..., records: _Optional[int] = ..., attempt: _Optional[int] = ..., run_id: _Optional[int] = ..., started_at_ms: _Optional[int] = ..., completed_at_ms: _Optional[int] = ...) -> None: ...

class RetryRecord(_message.Message):
    __slots__ = ("batch_key", "next_attempt", "reason", "retry_at_ms")
    BATCH_KEY_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RETRY_AT_MS_FIELD_NUMBER: _ClassVar[int]
    batch_key: str
    next_attempt: int
    reason: str
    retry_at_ms: int
    def __init__(self, batch_key: _Optional[str] = ..., next_attempt: _Optional[int] = ..., reason: _Optional[str] = ..., retry_at_ms: _Optional[int] = ...) -> None: ...

class DeadLetterRecord(_message.Message):
    __slots__ = ("batch_key", "destination", "reason", "at_ms")
    BATCH_KEY_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    AT_MS_FIELD_NUMBER: _ClassVar[int]
    batch_key: str
    destination: str
    reason: str
    at_ms: int
    def __init__(self, batch_key: _Optional[str] = ..., destination: _Optional[str] = ..., reason: _Optional[str] = ..., at_ms: _Optional[int] = ...) -> None: ...

class FailureRejected(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...
