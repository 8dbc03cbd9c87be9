package orchestrator

import (
	"context"
	"io"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	orchestratorv1 "github.com/lightspeed-orchestrator/lightspeed/client-go/gen/lightspeed/orchestrator/v1"
)

// EventStream reads a pipeline's events (WatchEvents) and resumes by itself: when the
// server cuts the stream off (WATCH_BUFFER_FULL) or the connection goes away (Unavailable),
// it opens a new one after the last event id it returned, so Next yields every event in id
// order with no gap and no duplicate while the server still retains them. Reconnects wait
// 100 ms, doubling up to 5 s. Cancel the context to stop.
type EventStream struct {
	client      orchestratorv1.OrchestratorServiceClient
	ctx         context.Context
	pipeline    string
	types       []orchestratorv1.EventType
	lastEventID int64 // -1 while none was returned and the stream started "from now"
	stream      orchestratorv1.OrchestratorService_WatchEventsClient
	Reconnects  int
}

// Events opens a resumable EventStream (WatchEvents) after afterEventID (nil = from now
// on), only of types (none = all). c.WatchEvents is the plain generated call.
func (c *Client) Events(ctx context.Context, pipeline string, afterEventID *int64,
	types ...orchestratorv1.EventType) (*EventStream, error) {
	s := &EventStream{client: c.OrchestratorServiceClient, ctx: ctx, pipeline: pipeline,
		types: types, lastEventID: -1}
	if afterEventID != nil {
		s.lastEventID = *afterEventID
	}
	if err := s.open(); err != nil {
		return nil, err
	}
	return s, nil
}

// LastEventID is the id of the last event returned (or the resume id given); -1 if none.
func (s *EventStream) LastEventID() int64 { return s.lastEventID }

func (s *EventStream) open() error {
	req := &orchestratorv1.WatchEventsRequest{Pipeline: s.pipeline, Types: s.types}
	if s.lastEventID >= 0 {
		req.AfterEventId = proto.Int64(s.lastEventID)
	}
	stream, err := s.client.WatchEvents(s.ctx, req)
	if err != nil {
		return err
	}
	s.stream = stream
	return nil
}

// Next waits for the next event. It returns the server's refusal as an error (see
// FromError), io.EOF if the server ended the stream normally, or the context's error.
func (s *EventStream) Next() (*orchestratorv1.Event, error) {
	backoff := 100 * time.Millisecond
	for {
		msg, err := s.stream.Recv()
		if err == nil {
			s.lastEventID = msg.GetEvent().GetEventId()
			return msg.GetEvent(), nil
		}
		if err == io.EOF || s.ctx.Err() != nil {
			if s.ctx.Err() != nil {
				return nil, s.ctx.Err()
			}
			return nil, err
		}
		e, ok := FromError(err)
		if !ok || !(e.Code == codes.Unavailable || e.Reason == ReasonWatchBufferFull) {
			if ok {
				return nil, e
			}
			return nil, err
		}
		select {
		case <-s.ctx.Done():
			return nil, s.ctx.Err()
		case <-time.After(backoff):
		}
		if backoff *= 2; backoff > 5*time.Second {
			backoff = 5 * time.Second
		}
		s.Reconnects++
		if err := s.open(); err != nil {
			return nil, err
		}
	}
}
