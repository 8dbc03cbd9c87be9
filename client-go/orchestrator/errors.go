// Package orchestrator is the hand-written layer over the generated client
// (package orchestratorv1): typed errors read from the google.rpc.Status details that the
// server attaches to every refusal, a connection helper, and a worker loop that heartbeats
// leases.
package orchestrator

import (
	"errors"
	"fmt"
	"time"

	orchestratorv1 "github.com/lightspeed-orchestrator/lightspeed/client-go/gen/lightspeed/orchestrator/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Domain is the ErrorInfo.domain of every refusal of the server.
const Domain = "lightspeed.orchestrator"

// The stable reason codes of the server (ErrorInfo.reason), as strings: each is the name of a
// value of the generated enum orchestratorv1.ErrorReason
// (proto/lightspeed/orchestrator/v1/error_reason.proto), which lists every reason and documents
// it. These names are kept for code written against them; a reason added to the proto later has
// only its generated value: compare ReasonCodeOf(err) with orchestratorv1.ErrorReason_<NAME>.
var (
	ReasonInvalidBatch        = orchestratorv1.ErrorReason_INVALID_BATCH.String()
	ReasonInvalidFailure      = orchestratorv1.ErrorReason_INVALID_FAILURE.String()
	ReasonInvalidAction       = orchestratorv1.ErrorReason_INVALID_ACTION.String()
	ReasonInvalidPipelineSpec = orchestratorv1.ErrorReason_INVALID_PIPELINE_SPEC.String()
	ReasonInvalidRequest      = orchestratorv1.ErrorReason_INVALID_REQUEST.String()
	ReasonMalformedRequest    = orchestratorv1.ErrorReason_MALFORMED_REQUEST.String()
	ReasonTooManyItems        = orchestratorv1.ErrorReason_TOO_MANY_ITEMS.String()
	ReasonInvalidUpdateMask   = orchestratorv1.ErrorReason_INVALID_UPDATE_MASK.String()
	ReasonPipelineNotFound    = orchestratorv1.ErrorReason_PIPELINE_NOT_FOUND.String()
	ReasonBatchNotFound       = orchestratorv1.ErrorReason_BATCH_NOT_FOUND.String()
	ReasonConnectorNotFound   = orchestratorv1.ErrorReason_CONNECTOR_NOT_FOUND.String()
	ReasonPipelineExists      = orchestratorv1.ErrorReason_PIPELINE_EXISTS.String()
	ReasonBatchKeyExists      = orchestratorv1.ErrorReason_BATCH_KEY_EXISTS.String()
	ReasonIdempotencyConflict = orchestratorv1.ErrorReason_IDEMPOTENCY_CONFLICT.String()
	ReasonUnknownStage        = orchestratorv1.ErrorReason_UNKNOWN_STAGE.String()
	ReasonNoConnector         = orchestratorv1.ErrorReason_NO_CONNECTOR.String()
	ReasonConnectorDisabled   = orchestratorv1.ErrorReason_CONNECTOR_DISABLED.String()
	ReasonBatchTooLarge       = orchestratorv1.ErrorReason_BATCH_TOO_LARGE.String()
	ReasonPipelineDraining    = orchestratorv1.ErrorReason_PIPELINE_DRAINING.String()
	ReasonSequenceRegression  = orchestratorv1.ErrorReason_SEQUENCE_REGRESSION.String()
	ReasonNotInFlight         = orchestratorv1.ErrorReason_NOT_IN_FLIGHT.String()
	ReasonNotDeadLettered     = orchestratorv1.ErrorReason_NOT_DEAD_LETTERED.String()
	ReasonNotCancellable      = orchestratorv1.ErrorReason_NOT_CANCELLABLE.String()
	ReasonPipelineNotEmpty    = orchestratorv1.ErrorReason_PIPELINE_NOT_EMPTY.String()
	ReasonStageInFlight       = orchestratorv1.ErrorReason_STAGE_IN_FLIGHT.String()
	ReasonQueueFull           = orchestratorv1.ErrorReason_QUEUE_FULL.String()
	ReasonLagExceeded         = orchestratorv1.ErrorReason_LAG_EXCEEDED.String()
	ReasonWatchBufferFull     = orchestratorv1.ErrorReason_WATCH_BUFFER_FULL.String()
	ReasonTooManyWatchers     = orchestratorv1.ErrorReason_TOO_MANY_WATCHERS.String()
	ReasonTooManyPipelines    = orchestratorv1.ErrorReason_TOO_MANY_PIPELINES.String()
	ReasonStaleAttempt        = orchestratorv1.ErrorReason_STALE_ATTEMPT.String()
	ReasonEventsExpired       = orchestratorv1.ErrorReason_EVENTS_EXPIRED.String()
	ReasonMissingCredentials  = orchestratorv1.ErrorReason_MISSING_CREDENTIALS.String()
	ReasonInvalidCredentials  = orchestratorv1.ErrorReason_INVALID_CREDENTIALS.String()
	ReasonRoleRequired        = orchestratorv1.ErrorReason_ROLE_REQUIRED.String()
	ReasonJournalUnavailable  = orchestratorv1.ErrorReason_JOURNAL_UNAVAILABLE.String()
	ReasonNotACluster         = orchestratorv1.ErrorReason_NOT_A_CLUSTER.String()
	ReasonClusterNodeExists   = orchestratorv1.ErrorReason_CLUSTER_NODE_EXISTS.String()
	ReasonClusterNodeNotFound = orchestratorv1.ErrorReason_CLUSTER_NODE_NOT_FOUND.String()
	ReasonClusterTooSmall     = orchestratorv1.ErrorReason_CLUSTER_TOO_SMALL.String()
	ReasonNotAMember          = orchestratorv1.ErrorReason_NOT_A_MEMBER.String()
	// ReasonClusterChangeInProgress: ABORTED, a membership change sent to another node is
	// under way; send the call again once it is done.
	ReasonClusterChangeInProgress = orchestratorv1.ErrorReason_CLUSTER_CHANGE_IN_PROGRESS.String()
)

// Error is a refusal of the server, read from its google.rpc.Status.
type Error struct {
	Code    codes.Code
	Message string
	// Reason is ErrorInfo.reason, e.g. ReasonQueueFull; "" when the status has no ErrorInfo
	// (transport errors such as Unavailable or DeadlineExceeded).
	Reason   string
	Domain   string
	Metadata map[string]string // ErrorInfo.metadata, e.g. "pipeline", "field"
	// RetryDelay is RetryInfo.retry_delay; HasRetryInfo tells whether the status carried one.
	RetryDelay   time.Duration
	HasRetryInfo bool
	Status       *spb.Status // the whole status
}

func (e *Error) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("%s %s: %s", e.Code, e.Reason, e.Message)
}

// GRPCStatus lets status.FromError / status.Code see through an *Error.
func (e *Error) GRPCStatus() *status.Status { return status.FromProto(e.Status) }

// FromStatus reads a google.rpc.Status, e.g. the Error of an EnqueueResult or AckResult.
// It returns nil for a nil or OK status.
func FromStatus(s *spb.Status) *Error {
	if s == nil || codes.Code(s.GetCode()) == codes.OK {
		return nil
	}
	e := &Error{Code: codes.Code(s.GetCode()), Message: s.GetMessage(), Status: s}
	for _, detail := range s.GetDetails() {
		msg, err := detail.UnmarshalNew()
		if err != nil {
			continue // a detail type this binary does not know
		}
		switch d := msg.(type) {
		case *errdetails.ErrorInfo:
			e.Reason, e.Domain, e.Metadata = d.GetReason(), d.GetDomain(), d.GetMetadata()
		case *errdetails.RetryInfo:
			e.RetryDelay, e.HasRetryInfo = d.GetRetryDelay().AsDuration(), true
		}
	}
	return e
}

// FromError reads the status of an error returned by a generated client call (the
// grpc-status-details-bin trailer). ok is false for nil and for errors that are not gRPC
// statuses.
func FromError(err error) (e *Error, ok bool) {
	if err == nil {
		return nil, false
	}
	var typed *Error
	if errors.As(err, &typed) {
		return typed, true
	}
	s, ok := status.FromError(err)
	if !ok {
		return nil, false
	}
	return FromStatus(s.Proto()), true
}

// ReasonOf returns the ErrorInfo reason of err, or "" when it has none.
func ReasonOf(err error) string {
	if e, ok := FromError(err); ok {
		return e.Reason
	}
	return ""
}

// ReasonCodeOf returns the ErrorInfo reason of err as the generated enum:
// ErrorReason_ERROR_REASON_UNSPECIFIED when err has no reason, or one newer than this client.
func ReasonCodeOf(err error) orchestratorv1.ErrorReason {
	return orchestratorv1.ErrorReason(orchestratorv1.ErrorReason_value[ReasonOf(err)])
}
