from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.rpc import error_details_pb2 as _error_details_pb2
from google.rpc import status_pb2 as _status_pb2
from lightspeed.orchestrator.v1 import batch_pb2 as _batch_pb2
from lightspeed.orchestrator.v1 import cluster_config_pb2 as _cluster_config_pb2
from lightspeed.orchestrator.v1 import event_pb2 as _event_pb2
from lightspeed.orchestrator.v1 import operator_pb2 as _operator_pb2
from lightspeed.orchestrator.v1 import pipeline_pb2 as _pipeline_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreatePipelineRequest(_message.Message):
    __slots__ = ("spec",)
    SPEC_FIELD_NUMBER: _ClassVar[int]
    spec: _pipeline_pb2.PipelineSpec
    def __init__(self, spec: _Optional[_Union[_pipeline_pb2.PipelineSpec, _Mapping]] = ...) -> None: ...

class CreatePipelineResponse(_message.Message):
    __slots__ = ("pipeline",)
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    pipeline: _pipeline_pb2.PipelineSpec
    def __init__(self, pipeline: _Optional[_Union[_pipeline_pb2.PipelineSpec, _Mapping]] = ...) -> None: ...

class GetPipelineRequest(_message.Message):
    __slots__ = ("name", "stale_ok")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STALE_OK_FIELD_NUMBER: _ClassVar[int]
    name: str
    stale_ok: bool
    def __init__(self, name: _Optional[str] = ..., stale_ok: _Optional[bool] = ...) -> None: ...

class GetPipelineResponse(_message.Message):
    __slots__ = ("pipeline",)
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    pipeline: _pipeline_pb2.PipelineSpec
    def __init__(self, pipeline: _Optional[_Union[_pipeline_pb2.PipelineSpec, _Mapping]] = ...) -> None: ...

class ListPipelinesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "stale_ok")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STALE_OK_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    stale_ok: bool
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., stale_ok: _Optional[bool] = ...) -> None: ...

class ListPipelinesResponse(_message.Message):
    __slots__ = ("pipelines", "next_page_token")
    PIPELINES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    pipelines: _containers.RepeatedCompositeFieldContainer[_pipeline_pb2.PipelineSpec]
    next_page_token: str
    def __init__(self, pipelines: _Optional[_Iterable[_Union[_pipeline_pb2.PipelineSpec, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeletePipelineRequest(_message.Message):
    __slots__ = ("name", "force")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    force: bool
    def __init__(self, name: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class DeletePipelineResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class UpdatePipelineRequest(_message.Message):
    __slots__ = ("pipeline", "update_mask")
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    pipeline: _pipeline_pb2.PipelineSpec
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, pipeline: _Optional[_Union[_pipeline_pb2.PipelineSpec, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdatePipelineResponse(_message.Message):
    __slots__ = ("pipeline",)
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    pipeline: _pipeline_pb2.PipelineSpec
    def __init__(self, pipeline: _Optional[_Union[_pipeline_pb2.PipelineSpec, _Mapping]] = ...) -> None: ...

class EnqueueBatchRequest(_message.Message):
    __slots__ = ("pipeline", "batch")
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    pipeline: str
    batch: _batch_pb2.Batch
    def __init__(self, pipeline: _Optional[str] = ..., batch: _Optional[_Union[_batch_pb2.Batch, _Mapping]] = ...) -> None: ...

class EnqueueBatchResponse(_message.Message):
    __slots__ = ("deduplicated",)
    DEDUPLICATED_FIELD_NUMBER: _ClassVar[int]
    deduplicated: bool
    def __init__(self, deduplicated: _Optional[bool] = ...) -> None: ...

class EnqueueBatchesRequest(_message.Message):
    __slots__ = ("pipeline", "batches")
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    BATCHES_FIELD_NUMBER: _ClassVar[int]
    pipeline: str
    batches: _containers.RepeatedCompositeFieldContainer[_batch_pb2.Batch]
    def __init__(self, pipeline: _Optional[str] = ..., batches: _Optional[_Iterable[_Union[_batch_pb2.Batch, _Mapping]]] = ...) -> None: ...

class EnqueueBatchesResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[EnqueueResult]
    def __init__(self, results: _Optional[_Iterable[_Union[EnqueueResult, _Mapping]]] = ...) -> None: ...

class EnqueueResult(_message.Message):
    __slots__ = ("key", "deduplicated", "error")
    KEY_FIELD_NUMBER: _ClassVar[int]
    DEDUPLICATED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    key: str
    deduplicated: bool
    error: _status_pb2.Status
    def __init__(self, key: _Optional[str] = ..., deduplicated: _Optional[bool] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ...) -> None: ...

class StartAvailableRequest(_message.Message):
    __slots__ = ("pipeline", "max_batches", "stages")
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCHES_FIELD_NUMBER: _ClassVar[int]
    STAGES_FIELD_NUMBER: _ClassVar[int]
    pipeline: str
    max_batches: int
    stages: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, pipeline: _Optional[str] = ..., max_batches: _Optional[int] = ..., stages: _Optional[_Iterable[str]] = ...) -> None: ...

class StartAvailableResponse(_message.Message):
    __slots__ = ("started",)
    STARTED_FIELD_NUMBER: _ClassVar[int]
    started: _batch_pb2.StartedBatch
    def __init__(self, started: _Optional[_Union[_batch_pb2.StartedBatch, _Mapping]] = ...) -> None: ...

class WatchStartedRequest(_message.Message):
    __slots__ = ("pipeline",)
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    pipeline: str
    def __init__(self, pipeline: _Optional[str] = ...) -> None: ...

class WatchStartedResponse(_message.Message):
    __slots__ = ("started",)
    STARTED_FIELD_NUMBER: _ClassVar[int]
    started: _batch_pb2.StartedBatch
    def __init__(self, started: _Optional[_Union[_batch_pb2.StartedBatch, _Mapping]] = ...) -> None: ...

class WatchEventsRequest(_message.Message):
    __slots__ = ("pipeline", "after_event_id", "types")
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    AFTER_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TYPES_FIELD_NUMBER: _ClassVar[int]
    pipeline: str
    after_event_id: int
    types: _containers.RepeatedScalarFieldContainer[_event_pb2.EventType]
    def __init__(self, pipeline: _Optional[str] = ..., after_event_id: _Optional[int] = ..., types: _Optional[_Iterable[_Union[_event_pb2.EventType, str]]] = ...) -> None: ...

class WatchEventsResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: _event_pb2.Event
    def __init__(self, event: _Optional[_Union[_event_pb2.Event, _Mapping]] = ...) -> None: ...

class AckBatchRequest(_message.Message):
    __slots__ = ("pipeline", "key", "attempt")
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    pipeline: str
    key: str
    attempt: int
    def __init__(self, pipeline: _Optional[str] = ..., key: _Optional[str] = ..., attempt: _Optional[int] = ...) -> None: ...

class AckBatchResponse(_message.Message):
    __slots__ = ("outcome",)
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    outcome: _batch_pb2.ProcessOutcome
    def __init__(self, outcome: _Optional[_Union[_batch_pb2.ProcessOutcome, _Mapping]] = ...) -> None: ...

class AckBatchesRequest(_message.Message):
    __slots__ = ("pipeline", "acks")
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    ACKS_FIELD_NUMBER: _ClassVar[int]
    pipeline: str
    acks: _containers.RepeatedCompositeFieldContainer[AckItem]
    def __init__(self, pipeline: _Optional[str] = ..., acks: _Optional[_Iterable[_Union[AckItem, _Mapping]]] = ...) -> None: ...

class AckItem(_message.Message):
    __slots__ = ("key", "attempt")
    KEY_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    key: str
    attempt: int
    def __init__(self, key: _Optional[str] = ..., attempt: _Optional[int] = ...) -> None: ...

class AckBatchesResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[AckResult]
    def __init__(self, results: _Optional[_Iterable[_Union[AckResult, _Mapping]]] = ...) -> None: ...

class AckResult(_message.Message):
    __slots__ = ("key", "outcome", "error")
    KEY_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    key: str
    outcome: _batch_pb2.ProcessOutcome
    error: _status_pb2.Status
    def __init__(self, key: _Optional[str] = ..., outcome: _Optional[_Union[_batch_pb2.ProcessOutcome, _Mapping]] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ...) -> None: ...

class FailBatchRequest(_message.Message):
    __slots__ = ("pipeline", "key", "attempt", "reason", "non_retryable")
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    NON_RETRYABLE_FIELD_NUMBER: _ClassVar[int]
    pipeline: str
    key: str
    attempt: int
    reason: str
    non_retryable: bool
    def __init__(self, pipeline: _Optional[str] = ..., key: _Optional[str] = ..., attempt: _Optional[int] = ..., reason: _Optional[str] = ..., non_retryable: _Optional[bool] = ...) -> None: ...

class FailBatchResponse(_message.Message):
    __slots__ = ("outcome",)
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    outcome: _batch_pb2.ProcessOutcome
    def __init__(self, outcome: _Optional[_Union[_batch_pb2.ProcessOutcome, _Mapping]] = ...) -> None: ...

class ExtendLeaseRequest(_message.Message):
    __slots__ = ("pipeline", "key", "attempt")
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    pipeline: str
    key: str
    attempt: int
    def __init__(self, pipeline: _Optional[str] = ..., key: _Optional[str] = ..., attempt: _Optional[int] = ...) -> None: ...

class ExtendLeaseResponse(_message.Message):
    __slots__ = ("lease_deadline_ms",)
    LEASE_DEADLINE_MS_FIELD_NUMBER: _ClassVar[int]
    lease_deadline_ms: int
    def __init__(self, lease_deadline_ms: _Optional[int] = ...) -> None: ...

class ApplyActionRequest(_message.Message):
    __slots__ = ("pipeline", "action")
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    pipeline: str
    action: _operator_pb2.OperatorAction
    def __init__(self, pipeline: _Optional[str] = ..., action: _Optional[_Union[_operator_pb2.OperatorAction, _Mapping]] = ...) -> None: ...

class ApplyActionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StartRunRequest(_message.Message):
    __slots__ = ("pipeline",)
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    pipeline: str
    def __init__(self, pipeline: _Optional[str] = ...) -> None: ...

class StartRunResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: _operator_pb2.RunSummary
    def __init__(self, run: _Optional[_Union[_operator_pb2.RunSummary, _Mapping]] = ...) -> None: ...

class CompleteRunRequest(_message.Message):
    __slots__ = ("pipeline",)
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    pipeline: str
    def __init__(self, pipeline: _Optional[str] = ...) -> None: ...

class CompleteRunResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: _operator_pb2.RunSummary
    def __init__(self, run: _Optional[_Union[_operator_pb2.RunSummary, _Mapping]] = ...) -> None: ...

class ListBatchesRequest(_message.Message):
    __slots__ = ("pipeline", "page_size", "page_token", "state", "stale_ok")
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STALE_OK_FIELD_NUMBER: _ClassVar[int]
    pipeline: str
    page_size: int
    page_token: str
    state: _batch_pb2.BatchState
    stale_ok: bool
    def __init__(self, pipeline: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., state: _Optional[_Union[_batch_pb2.BatchState, str]] = ..., stale_ok: _Optional[bool] = ...) -> None: ...

class ListBatchesResponse(_message.Message):
    __slots__ = ("batches", "next_page_token")
    BATCHES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    batches: _containers.RepeatedCompositeFieldContainer[_batch_pb2.BatchView]
    next_page_token: str
    def __init__(self, batches: _Optional[_Iterable[_Union[_batch_pb2.BatchView, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListRetriesRequest(_message.Message):
    __slots__ = ("pipeline", "page_size", "page_token", "stale_ok")
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STALE_OK_FIELD_NUMBER: _ClassVar[int]
    pipeline: str
    page_size: int
    page_token: str
    stale_ok: bool
    def __init__(self, pipeline: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., stale_ok: _Optional[bool] = ...) -> None: ...

class ListRetriesResponse(_message.Message):
    __slots__ = ("retries", "next_page_token")
    RETRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    retries: _containers.RepeatedCompositeFieldContainer[_batch_pb2.RetryRecord]
    next_page_token: str
    def __init__(self, retries: _Optional[_Iterable[_Union[_batch_pb2.RetryRecord, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListDeadLettersRequest(_message.Message):
    __slots__ = ("pipeline", "page_size", "page_token", "stale_ok")
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STALE_OK_FIELD_NUMBER: _ClassVar[int]
    pipeline: str
    page_size: int
    page_token: str
    stale_ok: bool
    def __init__(self, pipeline: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., stale_ok: _Optional[bool] = ...) -> None: ...

class ListDeadLettersResponse(_message.Message):
    __slots__ = ("dead_letters", "next_page_token")
    DEAD_LETTERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    dead_letters: _containers.RepeatedCompositeFieldContainer[_batch_pb2.DeadLetterRecord]
    next_page_token: str
    def __init__(self, dead_letters: _Optional[_Iterable[_Union[_batch_pb2.DeadLetterRecord, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListRunsRequest(_message.Message):
    __slots__ = ("pipeline", "page_size", "page_token", "stale_ok")
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STALE_OK_FIELD_NUMBER: _ClassVar[int]
    pipeline: str
    page_size: int
    page_token: str
    stale_ok: bool
    def __init__(self, pipeline: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., stale_ok: _Optional[bool] = ...) -> None: ...

class ListRunsResponse(_message.Message):
    __slots__ = ("runs", "next_page_token")
    RUNS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[_operator_pb2.RunSummary]
    next_page_token: str
    def __init__(self, runs: _Optional[_Iterable[_Union[_operator_pb2.RunSummary, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListAuditLogRequest(_message.Message):
    __slots__ = ("pipeline", "page_size", "page_token", "stale_ok")
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STALE_OK_FIELD_NUMBER: _ClassVar[int]
    pipeline: str
    page_size: int
    page_token: str
    stale_ok: bool
    def __init__(self, pipeline: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., stale_ok: _Optional[bool] = ...) -> None: ...

class ListAuditLogResponse(_message.Message):
    __slots__ = ("entries", "next_page_token")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[_operator_pb2.AuditLogEntry]
    next_page_token: str
    def __init__(self, entries: _Optional[_Iterable[_Union[_operator_pb2.AuditLogEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetStatusRequest(_message.Message):
    __slots__ = ("pipeline", "stale_ok")
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    STALE_OK_FIELD_NUMBER: _ClassVar[int]
    pipeline: str
    stale_ok: bool
    def __init__(self, pipeline: _Optional[str] = ..., stale_ok: _Optional[bool] = ...) -> None: ...

class GetStatusResponse(_message.Message):
    __slots__ = ("queued_count", "retry_wait_count", "in_flight_count", "dead_letter_count", "mode", "effective_max_in_flight", "active_run_id", "signature", "valid", "invalid_reason")
    QUEUED_COUNT_FIELD_NUMBER: _ClassVar[int]
    RETRY_WAIT_COUNT_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_COUNT_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTER_COUNT_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_MAX_IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    VALID_FIELD_NUMBER: _ClassVar[int]
    INVALID_REASON_FIELD_NUMBER: _ClassVar[int]
    queued_count: int
    retry_wait_count: int
    in_flight_count: int
    dead_letter_count: int
    mode: _pipeline_pb2.PipelineMode
    effective_max_in_flight: int
    active_run_id: int
    signature: str
    valid: bool
    invalid_reason: str
    def __init__(self, queued_count: _Optional[int] = ..., retry_wait_count: _Optional[int] = ..., in_flight_count: _Optional[int] = ..., dead_letter_count: _Optional[int] = ..., mode: _Optional[_Union[_pipeline_pb2.PipelineMode, str]] = ..., effective_max_in_flight: _Optional[int] = ..., active_run_id: _Optional[int] = ..., signature: _Optional[str] = ..., valid: _Optional[bool] = ..., invalid_reason: _Optional[str] = ...) -> None: ...

class WorkRequest(_message.Message):
    __slots__ = ("open", "ack", "fail", "extend")
    OPEN_FIELD_NUMBER: _ClassVar[int]
    ACK_FIELD_NUMBER: _ClassVar[int]
    FAIL_FIELD_NUMBER: _ClassVar[int]
    EXTEND_FIELD_NUMBER: _ClassVar[int]
    open: WorkOpen
    ack: WorkAck
    fail: WorkFail
    extend: WorkExtend
    def __init__(self, open: _Optional[_Union[WorkOpen, _Mapping]] = ..., ack: _Optional[_Union[WorkAck, _Mapping]] = ..., fail: _Optional[_Union[WorkFail, _Mapping]] = ..., extend: _Optional[_Union[WorkExtend, _Mapping]] = ...) -> None: ...

class WorkOpen(_message.Message):
    __slots__ = ("pipeline", "stages", "capacity")
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    STAGES_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    pipeline: str
    stages: _containers.RepeatedScalarFieldContainer[str]
    capacity: int
    def __init__(self, pipeline: _Optional[str] = ..., stages: _Optional[_Iterable[str]] = ..., capacity: _Optional[int] = ...) -> None: ...

class WorkAck(_message.Message):
    __slots__ = ("request_id", "key", "attempt")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    key: str
    attempt: int
    def __init__(self, request_id: _Optional[int] = ..., key: _Optional[str] = ..., attempt: _Optional[int] = ...) -> None: ...

class WorkFail(_message.Message):
    __slots__ = ("request_id", "key", "attempt", "reason", "non_retryable")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    NON_RETRYABLE_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    key: str
    attempt: int
    reason: str
    non_retryable: bool
    def __init__(self, request_id: _Optional[int] = ..., key: _Optional[str] = ..., attempt: _Optional[int] = ..., reason: _Optional[str] = ..., non_retryable: _Optional[bool] = ...) -> None: ...

class WorkExtend(_message.Message):
    __slots__ = ("request_id", "key", "attempt")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    key: str
    attempt: int
    def __init__(self, request_id: _Optional[int] = ..., key: _Optional[str] = ..., attempt: _Optional[int] = ...) -> None: ...

class WorkResponse(_message.Message):
    __slots__ = ("started", "result")
    STARTED_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    started: _batch_pb2.StartedBatch
    result: WorkResult
    def __init__(self, started: _Optional[_Union[_batch_pb2.StartedBatch, _Mapping]] = ..., result: _Optional[_Union[WorkResult, _Mapping]] = ...) -> None: ...

class WorkResult(_message.Message):
    __slots__ = ("request_id", "outcome", "lease_deadline_ms", "error")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    LEASE_DEADLINE_MS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    outcome: _batch_pb2.ProcessOutcome
    lease_deadline_ms: int
    error: _status_pb2.Status
    def __init__(self, request_id: _Optional[int] = ..., outcome: _Optional[_Union[_batch_pb2.ProcessOutcome, _Mapping]] = ..., lease_deadline_ms: _Optional[int] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ...) -> None: ...

class GetClusterStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetClusterStatusResponse(_message.Message):
    __slots__ = ("node_id", "cluster_name", "groups")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_NAME_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    cluster_name: str
    groups: _containers.RepeatedCompositeFieldContainer[ClusterGroupStatus]
    def __init__(self, node_id: _Optional[str] = ..., cluster_name: _Optional[str] = ..., groups: _Optional[_Iterable[_Union[ClusterGroupStatus, _Mapping]]] = ...) -> None: ...

class ClusterGroupStatus(_message.Message):
    __slots__ = ("group", "members", "leader_id", "role", "term", "commit_index", "applied_index", "signature", "pipeline_count", "valid", "snapshot_index")
    GROUP_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    LEADER_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    COMMIT_INDEX_FIELD_NUMBER: _ClassVar[int]
    APPLIED_INDEX_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_COUNT_FIELD_NUMBER: _ClassVar[int]
    VALID_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_INDEX_FIELD_NUMBER: _ClassVar[int]
    group: int
    members: _containers.RepeatedScalarFieldContainer[str]
    leader_id: str
    role: str
    term: int
    commit_index: int
    applied_index: int
    signature: str
    pipeline_count: int
    valid: bool
    snapshot_index: int
    def __init__(self, group: _Optional[int] = ..., members: _Optional[_Iterable[str]] = ..., leader_id: _Optional[str] = ..., role: _Optional[str] = ..., term: _Optional[int] = ..., commit_index: _Optional[int] = ..., applied_index: _Optional[int] = ..., signature: _Optional[str] = ..., pipeline_count: _Optional[int] = ..., valid: _Optional[bool] = ..., snapshot_index: _Optional[int] = ...) -> None: ...

class AddClusterNodeRequest(_message.Message):
    __slots__ = ("peer",)
    PEER_FIELD_NUMBER: _ClassVar[int]
    peer: _cluster_config_pb2.ClusterPeer
    def __init__(self, peer: _Optional[_Union[_cluster_config_pb2.ClusterPeer, _Mapping]] = ...) -> None: ...

class AddClusterNodeResponse(_message.Message):
    __slots__ = ("changes", "peers")
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    PEERS_FIELD_NUMBER: _ClassVar[int]
    changes: _containers.RepeatedCompositeFieldContainer[ClusterGroupChange]
    peers: _containers.RepeatedCompositeFieldContainer[_cluster_config_pb2.ClusterPeer]
    def __init__(self, changes: _Optional[_Iterable[_Union[ClusterGroupChange, _Mapping]]] = ..., peers: _Optional[_Iterable[_Union[_cluster_config_pb2.ClusterPeer, _Mapping]]] = ...) -> None: ...

class RemoveClusterNodeRequest(_message.Message):
    __slots__ = ("node_id",)
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    def __init__(self, node_id: _Optional[str] = ...) -> None: ...

class RemoveClusterNodeResponse(_message.Message):
    __slots__ = ("changes", "peers")
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    PEERS_FIELD_NUMBER: _ClassVar[int]
    changes: _containers.RepeatedCompositeFieldContainer[ClusterGroupChange]
    peers: _containers.RepeatedCompositeFieldContainer[_cluster_config_pb2.ClusterPeer]
    def __init__(self, changes: _Optional[_Iterable[_Union[ClusterGroupChange, _Mapping]]] = ..., peers: _Optional[_Iterable[_Union[_cluster_config_pb2.ClusterPeer, _Mapping]]] = ...) -> None: ...

class ClusterGroupChange(_message.Message):
    __slots__ = ("group", "old_members", "new_members")
    GROUP_FIELD_NUMBER: _ClassVar[int]
    OLD_MEMBERS_FIELD_NUMBER: _ClassVar[int]
    NEW_MEMBERS_FIELD_NUMBER: _ClassVar[int]
    group: int
    old_members: _containers.RepeatedScalarFieldContainer[str]
    new_members: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, group: _Optional[int] = ..., old_members: _Optional[_Iterable[str]] = ..., new_members: _Optional[_Iterable[str]] = ...) -> None: ...
