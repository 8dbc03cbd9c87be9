from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OperatorAction(_message.Message):
    __slots__ = ("pause", "resume", "drain", "pause_stage", "resume_stage", "disable_connector", "enable_connector", "set_max_in_flight", "redrive_dead_letter", "discard_dead_letter", "cancel_batch", "update_pipeline")
    class Pause(_message.Message):
        __slots__ = ()
        def __init__(self) -> None: ...
    class Resume(_message.Message):
        __slots__ = ()
        def __init__(self) -> None: ...
    class Drain(_message.Message):
        __slots__ = ()
        def __init__(self) -> None: ...
    class PauseStage(_message.Message):
        __slots__ = ("stage",)
        STAGE_FIELD_NUMBER: _ClassVar[int]
        stage: str
        def __init__(self, stage: _Optional[str] = ...) -> None: ...
    class ResumeStage(_message.Message):
        __slots__ = ("stage",)
        STAGE_FIELD_NUMBER: _ClassVar[int]
        stage: str
        def __init__(self, stage: _Optional[str] = ...) -> None: ...
    class DisableConnector(_message.Message):
        __slots__ = ("name",)
        NAME_FIELD_NUMBER: _ClassVar[int]
        name: str
        def __init__(self, name: _Optional[str] = ...) -> None: ...
    class EnableConnector(_message.Message):
        __slots__ = ("name",)
        NAME_FIELD_NUMBER: _ClassVar[int]
        name: str
        def __init__(self, name: _Optional[str] = ...) -> None: ...
    class SetMaxInFlight(_message.Message):
        __slots__ = ("max_in_flight",)
        MAX_IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
        max_in_flight: int
        def __init__(self, max_in_flight: _Optional[int] = ...) -> None: ...
    class RedriveDeadLetter(_message.Message):
        __slots__ = ("key",)
        KEY_FIELD_NUMBER: _ClassVar[int]
        key: str
        def __init__(self, key: _Optional[str] = ...) -> None: ...
    class DiscardDeadLetter(_message.Message):
        __slots__ = ("key",)
        KEY_FIELD_NUMBER: _ClassVar[int]
        key: str
        def __init__(self, key: _Optional[str] = ...) -> None: ...
    class CancelBatch(_message.Message):
        __slots__ = ("key",)
        KEY_FIELD_NUMBER: _ClassVar[int]
        key: str
        def __init__(self, key: _Optional[str] = ...) -> None: ...
    class UpdatePipeline(_message.Message):
        __slots__ = ("update_mask",)
        UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
        update_mask: _field_mask_pb2.FieldMask
        def __init__(self, update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...
    PAUSE_FIELD_NUMBER: _ClassVar[int]
    RESUME_FIELD_NUMBER: _ClassVar[int]
    DRAIN_FIELD_NUMBER: _ClassVar[int]
    PAUSE_STAGE_FIELD_NUMBER: _ClassVar[int]
    RESUME_STAGE_FIELD_NUMBER: _ClassVar[int]
    DISABLE_CONNECTOR_FIELD_NUMBER: _ClassVar[int]
    ENABLE_CONNECTOR_FIELD_NUMBER: _ClassVar[int]
    SET_MAX_IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    REDRIVE_DEAD_LETTER_FIELD_NUMBER: _ClassVar[int]
    DISCARD_DEAD_LETTER_FIELD_NUMBER: _ClassVar[int]
    CANCEL_BATCH_FIELD_NUMBER: _ClassVar[int]
    UPDATE_PIPELINE_FIELD_NUMBER: _ClassVar[int]
    pause: OperatorAction.Pause
    resume: OperatorAction.Resume
    drain: OperatorAction.Drain
    pause_stage: OperatorAction.PauseStage
    resume_stage: OperatorAction.ResumeStage
    disable_connector: OperatorAction.DisableConnector
    enable_connector: OperatorAction.EnableConnector
    set_max_in_flight: OperatorAction.SetMaxInFlight
    redrive_dead_letter: OperatorAction.RedriveDeadLetter
    discard_dead_letter: OperatorAction.DiscardDeadLetter
    cancel_batch: OperatorAction.CancelBatch
    update_pipeline: OperatorAction.UpdatePipeline
    def __init__(self, pause: _Optional[_Union[OperatorAction.Pause, _Mapping]] = ..., resume: _Optional[_Union[OperatorAction.Resume, _Mapping]] = ..., drain: _Optional[_Union[OperatorAction.Drain, _Mapping]] = ..., pause_stage: _Optional[_Union[OperatorAction.PauseStage, _Mapping]] = ..., resume_stage: _Optional[_Union[OperatorAction.ResumeStage, _Mapping]] = ..., disable_connector: _Optional[_Union[OperatorAction.DisableConnector, _Mapping]] = ..., enable_connector: _Optional[_Union[OperatorAction.EnableConnector, _Mapping]] = ..., set_max_in_flight: _Optional[_Union[OperatorAction.SetMaxInFlight, _Mapping]] = ..., redrive_dead_letter: _Optional[_Union[OperatorAction.RedriveDeadLetter, _Mapping]] = ..., discard_dead_letter: _Optional[_Union[OperatorAction.DiscardDeadLetter, _Mapping]] = ..., cancel_batch: _Optional[_Union[OperatorAction.CancelBatch, _Mapping]] = ..., update_pipeline: _Optional[_Union[OperatorAction.UpdatePipeline, _Mapping]] = ...) -> None: ...

class AuditLogEntry(_message.Message):
    __slots__ = ("action", "at_ms", "message")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    AT_MS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    action: OperatorAction
    at_ms: int
    message: str
    def __init__(self, action: _Optional[_Union[OperatorAction, _Mapping]] = ..., at_ms: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class RunSummary(_message.Message):
    __slots__ = ("run_id", "started_at_ms", "completed_at_ms", "batches_processed", "records_processed", "retries_scheduled", "dead_lettered")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    BATCHES_PROCESSED_FIELD_NUMBER: _ClassVar[int]
    RECORDS_PROCESSED_FIELD_NUMBER: _ClassVar[int]
    RETRIES_SCHEDULED_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTERED_FIELD_NUMBER: _ClassVar[int]
    run_id: int
    started_at_ms: int
    completed_at_ms: int
    batches_processed: int
    records_processed: int
    retries_scheduled: int
    dead_lettered: int
    def __init__(self, run_id: _Optional[int] = ..., started_at_ms: _Optional[int] = ..., completed_at_ms: _Optional[int] = ..., batches_processed: _Optional[int] = ..., records_processed: _Optional[int] = ..., retries_scheduled: _Optional[int] = ..., dead_lettered: _Optional[int] = ...) -> None: ...
