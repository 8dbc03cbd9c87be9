// Package orchestrator is the hand-written layer over the generated client
// (package orchestratorv1): typed errors read from the google.rpc.Status details that the
// server attaches to every refusal, a connection helper, and a worker loop that heartbeats
// leases.
package orchestrator

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Domain is the ErrorInfo.domain of every refusal of the server.
const Domain = "lightspeed.orchestrator"

// The stable reason codes of the server (ErrorInfo.reason).
const (
	ReasonInvalidBatch        = "INVALID_BATCH"
	ReasonInvalidFailure      = "INVALID_FAILURE"
	ReasonInvalidAction       = "INVALID_ACTION"
	ReasonInvalidPipelineSpec = "INVALID_PIPELINE_SPEC"
	ReasonInvalidRequest      = "INVALID_REQUEST"
	ReasonMalformedRequest    = "MALFORMED_REQUEST"
	ReasonTooManyItems        = "TOO_MANY_ITEMS"
	ReasonInvalidUpdateMask   = "INVALID_UPDATE_MASK"
	ReasonPipelineNotFound    = "PIPELINE_NOT_FOUND"
	ReasonBatchNotFound       = "BATCH_NOT_FOUND"
	ReasonConnectorNotFound   = "CONNECTOR_NOT_FOUND"
	ReasonPipelineExists      = "PIPELINE_EXISTS"
	ReasonBatchKeyExists      = "BATCH_KEY_EXISTS"
	ReasonIdempotencyConflict = "IDEMPOTENCY_CONFLICT"
	ReasonUnknownStage        = "UNKNOWN_STAGE"
	ReasonNoConnector         = "NO_CONNECTOR"
	ReasonConnectorDisabled   = "CONNECTOR_DISABLED"
	ReasonBatchTooLarge       = "BATCH_TOO_LARGE"
	ReasonPipelineDraining    = "PIPELINE_DRAINING"
	ReasonSequenceRegression  = "SEQUENCE_REGRESSION"
	ReasonNotInFlight         = "NOT_IN_FLIGHT"
	ReasonNotDeadLettered     = "NOT_DEAD_LETTERED"
	ReasonNotCancellable      = "NOT_CANCELLABLE"
	ReasonPipelineNotEmpty    = "PIPELINE_NOT_EMPTY"
	ReasonStageInFlight       = "STAGE_IN_FLIGHT"
	ReasonQueueFull           = "QUEUE_FULL"
	ReasonLagExceeded         = "LAG_EXCEEDED"
	ReasonWatchBufferFull     = "WATCH_BUFFER_FULL"
	ReasonTooManyWatchers     = "TOO_MANY_WATCHERS"
	ReasonTooManyPipelines    = "TOO_MANY_PIPELINES"
	ReasonStaleAttempt        = "STALE_ATTEMPT"
	ReasonEventsExpired       = "EVENTS_EXPIRED"
	ReasonMissingCredentials  = "MISSING_CREDENTIALS"
	ReasonInvalidCredentials  = "INVALID_CREDENTIALS"
	ReasonRoleRequired        = "ROLE_REQUIRED"
	ReasonJournalUnavailable  = "JOURNAL_UNAVAILABLE"
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
