package orchestrator

import (
	"context"
	"errors"
	"log"
	"math/rand"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	orchestratorv1 "github.com/lightspeed-orchestrator/lightspeed/client-go/gen/lightspeed/orchestrator/v1"
)

// StreamWorker is the continuous worker on the Work stream (SPEC 4.2): the server pushes a
// started batch whenever one of Concurrency slots is free, and takes acks, failures and
// heartbeats on the same stream, answering each by request id. N handlers run whenever N
// batches are available; nothing polls. The options and defaults are the same in every client
// of this project. Reports go on the stream, or as unary calls when no stream is up. A broken
// stream is reopened after MinReconnectBackoff doubling (with jitter) up to
// MaxReconnectBackoff. When Run's context is cancelled the worker stops gracefully: it
// half-closes the stream (the server starts nothing more for it), lets handlers finish and
// report for up to ShutdownGrace, then returns.
type StreamWorker struct {
	Client   orchestratorv1.OrchestratorServiceClient
	Pipeline string
	Handler  Handler
	// Stages limits the stages started (empty: all).
	Stages []string
	// Concurrency is how many handlers run at once, the stream's capacity (1..1000; default 1).
	Concurrency int
	// HeartbeatFraction: a heartbeat every lease × this (default 1/3).
	HeartbeatFraction float64
	// ShutdownGrace bounds the graceful stop (default 30s).
	ShutdownGrace time.Duration
	// MinReconnectBackoff and MaxReconnectBackoff (defaults 100ms and 5s).
	MinReconnectBackoff, MaxReconnectBackoff time.Duration
	// OnResult, if set, is called with every finished batch.
	OnResult func(Result)

	started, acked, retries, dead, dropped, leasesLost, reportErrors atomic.Int64
	current                                                          atomic.Pointer[workSession]
}

// StreamWorkerStats are a StreamWorker's counters (as the Java WorkerStats).
type StreamWorkerStats struct {
	Started, Acked, RetriesScheduled, DeadLettered, ReportsDropped, LeasesLost, ReportErrors int64
}

// Stats returns the counters so far.
func (w *StreamWorker) Stats() StreamWorkerStats {
	return StreamWorkerStats{w.started.Load(), w.acked.Load(), w.retries.Load(), w.dead.Load(),
		w.dropped.Load(), w.leasesLost.Load(), w.reportErrors.Load()}
}

var workRequestIDs atomic.Int64

type workSession struct {
	stream  orchestratorv1.OrchestratorService_WorkClient
	cancel  context.CancelFunc
	mu      sync.Mutex
	closed  bool
	pending map[int64]chan *orchestratorv1.WorkResult
	ended   chan struct{}
	err     error
}

func (s *workSession) request(req *orchestratorv1.WorkRequest) (chan *orchestratorv1.WorkResult, bool) {
	id := workRequestIDs.Add(1)
	switch r := req.Request.(type) {
	case *orchestratorv1.WorkRequest_Ack:
		r.Ack.RequestId = id
	case *orchestratorv1.WorkRequest_Fail:
		r.Fail.RequestId = id
	case *orchestratorv1.WorkRequest_Extend:
		r.Extend.RequestId = id
	}
	ch := make(chan *orchestratorv1.WorkResult, 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, false
	}
	s.pending[id] = ch
	if err := s.stream.Send(req); err != nil {
		delete(s.pending, id)
		return nil, false
	}
	return ch, true
}

func (s *workSession) canSend() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.closed
}

func (s *workSession) halfClose() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		_ = s.stream.CloseSend() // requests already sent are still answered
	}
}

// Run processes batches until ctx is cancelled, then stops gracefully (see StreamWorker).
// It returns an error only for invalid options.
func (w *StreamWorker) Run(ctx context.Context) error {
	concurrency := w.Concurrency
	if concurrency == 0 {
		concurrency = 1
	}
	if concurrency < 1 || concurrency > 1000 {
		return errors.New("orchestrator: StreamWorker.Concurrency must be 1..1000")
	}
	minBackoff, maxBackoff := orDefault(w.MinReconnectBackoff, 100*time.Millisecond), orDefault(w.MaxReconnectBackoff, 5*time.Second)
	grace := orDefault(w.ShutdownGrace, 30*time.Second)
	// Handlers outlive ctx (a graceful stop lets them finish); this context ends them at the
	// end of the grace period.
	handlerCtx, stopHandlers := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHandlers()
	slots := make(chan struct{}, concurrency)
	var running sync.WaitGroup
	var delivered atomic.Bool
	backoff := minBackoff
	for {
		s := w.open(concurrency, func(started *orchestratorv1.StartedBatch) {
			delivered.Store(true)
			w.started.Add(1)
			running.Add(1)
			go func() {
				defer running.Done()
				slots <- struct{}{} // at most Concurrency handlers run, also across a reconnect
				defer func() { <-slots }()
				r := w.process(handlerCtx, started)
				if w.OnResult != nil {
					w.OnResult(r)
				}
			}()
		})
		select {
		case <-ctx.Done():
			deadline := time.After(grace)
			s.halfClose()
			select {
			case <-s.ended:
			case <-deadline:
			}
			s.cancel() // what it had not delivered comes back by lease expiry
			done := make(chan struct{})
			go func() { running.Wait(); close(done) }()
			select {
			case <-done:
			case <-deadline:
				stopHandlers()
			}
			return nil
		case <-s.ended:
		}
		if delivered.Swap(false) {
			backoff = minBackoff
		}
		wait := backoff/2 + time.Duration(rand.Int63n(int64(backoff/2)+1))
		backoff = min(backoff*2, maxBackoff)
		log.Printf("orchestrator: Work stream of pipeline %q ended (%v); reconnecting in %v", w.Pipeline, s.err, wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// open starts one Work stream and its reader; s.ended closes when the stream ends.
func (w *StreamWorker) open(concurrency int, onStarted func(*orchestratorv1.StartedBatch)) *workSession {
	streamCtx, cancel := context.WithCancel(context.Background())
	s := &workSession{cancel: cancel, pending: map[int64]chan *orchestratorv1.WorkResult{}, ended: make(chan struct{})}
	stream, err := w.Client.Work(streamCtx)
	if err == nil {
		err = stream.Send(&orchestratorv1.WorkRequest{Request: &orchestratorv1.WorkRequest_Open{Open: &orchestratorv1.WorkOpen{
			Pipeline: w.Pipeline, Stages: w.Stages, Capacity: int32(concurrency)}}})
	}
	if err != nil {
		s.err, s.closed = err, true
		close(s.ended)
		return s
	}
	s.stream = stream
	w.current.Store(s)
	go func() {
		var err error
		for {
			var m *orchestratorv1.WorkResponse
			if m, err = stream.Recv(); err != nil {
				break
			}
			switch r := m.Response.(type) {
			case *orchestratorv1.WorkResponse_Started:
				onStarted(r.Started)
			case *orchestratorv1.WorkResponse_Result:
				s.mu.Lock()
				ch := s.pending[r.Result.GetRequestId()]
				delete(s.pending, r.Result.GetRequestId())
				s.mu.Unlock()
				if ch != nil {
					ch <- r.Result
				}
			}
		}
		s.mu.Lock()
		s.closed, s.err = true, err
		for id, ch := range s.pending {
			delete(s.pending, id)
			close(ch) // no answer: the caller falls back to a unary call
		}
		s.mu.Unlock()
		w.current.CompareAndSwap(s, nil)
		close(s.ended)
	}()
	return s
}

// onStream sends req on the current stream and waits for its result (nil: no stream, or no
// answer before the stream ended or timeout).
func (w *StreamWorker) onStream(req *orchestratorv1.WorkRequest, timeout time.Duration) *orchestratorv1.WorkResult {
	s := w.current.Load()
	if s == nil {
		return nil
	}
	ch, ok := s.request(req)
	if !ok {
		return nil
	}
	select {
	case r := <-ch:
		return r
	case <-time.After(timeout):
		return nil
	}
}

func (w *StreamWorker) process(ctx context.Context, started *orchestratorv1.StartedBatch) Result {
	key, attempt := started.GetBatch().GetKey(), started.GetAttempt()
	result := Result{Started: started}
	handlerCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	lease := time.Duration(started.GetLeaseDeadlineMs()-started.GetStartedAtMs()) * time.Millisecond
	fraction := w.HeartbeatFraction
	if fraction <= 0 || fraction >= 1 {
		fraction = 1.0 / 3
	}
	stopBeat, beatDone := make(chan struct{}), make(chan struct{})
	if started.GetLeaseDeadlineMs() > 0 && lease > 0 {
		go func() {
			defer close(beatDone)
			ticker := time.NewTicker(max(time.Millisecond, time.Duration(float64(lease)*fraction)))
			defer ticker.Stop()
			for {
				select {
				case <-stopBeat:
					return
				case <-handlerCtx.Done():
					return
				case <-ticker.C:
				}
				err := w.extend(handlerCtx, key, attempt, lease)
				if err == nil {
					result.Heartbeats++
					continue
				}
				switch ReasonOf(err) {
				case ReasonStaleAttempt, ReasonNotInFlight, ReasonBatchNotFound:
					result.LeaseLost = true
					w.leasesLost.Add(1)
					cancel() // tell the handler its work will not count
					return
				}
			}
		}()
	} else {
		close(beatDone)
	}
	result.HandlerErr = w.Handler(handlerCtx, started)
	close(stopBeat)
	<-beatDone
	if ctx.Err() != nil {
		return result // the grace period ran out: nothing is reported, leases expire
	}
	reportCtx, cancelReport := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancelReport()
	if result.HandlerErr == nil {
		req := &orchestratorv1.WorkRequest{Request: &orchestratorv1.WorkRequest_Ack{Ack: &orchestratorv1.WorkAck{Key: key, Attempt: attempt}}}
		result.Outcome, result.ReportErr = w.report(req, func() (*orchestratorv1.ProcessOutcome, error) {
			resp, err := w.Client.AckBatch(reportCtx, &orchestratorv1.AckBatchRequest{Pipeline: w.Pipeline, Key: key, Attempt: attempt})
			return resp.GetOutcome(), err
		})
		if result.ReportErr == nil {
			w.acked.Add(1)
		}
	} else {
		reason := FailureReason(result.HandlerErr)
		permanent := IsPermanent(result.HandlerErr)
		req := &orchestratorv1.WorkRequest{Request: &orchestratorv1.WorkRequest_Fail{Fail: &orchestratorv1.WorkFail{
			Key: key, Attempt: attempt, Reason: reason, NonRetryable: permanent}}}
		result.Outcome, result.ReportErr = w.report(req, func() (*orchestratorv1.ProcessOutcome, error) {
			resp, err := w.Client.FailBatch(reportCtx, &orchestratorv1.FailBatchRequest{
				Pipeline: w.Pipeline, Key: key, Attempt: attempt, Reason: reason, NonRetryable: permanent})
			return resp.GetOutcome(), err
		})
		switch result.Outcome.GetOutcome().(type) {
		case *orchestratorv1.ProcessOutcome_RetryScheduled:
			w.retries.Add(1)
		case *orchestratorv1.ProcessOutcome_DeadLettered:
			w.dead.Add(1)
		case *orchestratorv1.ProcessOutcome_FailureRejected:
			w.dropped.Add(1)
		}
	}
	if result.ReportErr != nil {
		switch ReasonOf(result.ReportErr) {
		case ReasonStaleAttempt, ReasonNotInFlight, ReasonBatchNotFound:
			w.dropped.Add(1)
		default:
			w.reportErrors.Add(1)
		}
	}
	return result
}

func (w *StreamWorker) report(req *orchestratorv1.WorkRequest, unary func() (*orchestratorv1.ProcessOutcome, error)) (*orchestratorv1.ProcessOutcome, error) {
	if r := w.onStream(req, 30*time.Second); r != nil {
		if e := r.GetError(); e != nil {
			return nil, FromStatus(e)
		}
		return r.GetOutcome(), nil
	}
	return unary()
}

func (w *StreamWorker) extend(ctx context.Context, key string, attempt int32, lease time.Duration) error {
	req := &orchestratorv1.WorkRequest{Request: &orchestratorv1.WorkRequest_Extend{Extend: &orchestratorv1.WorkExtend{Key: key, Attempt: attempt}}}
	if r := w.onStream(req, lease); r != nil {
		if e := r.GetError(); e != nil {
			return FromStatus(e)
		}
		return nil
	}
	if s := w.current.Load(); s != nil && s.canSend() {
		return status.Error(codes.DeadlineExceeded, "heartbeat not answered within the lease")
	}
	callCtx, cancel := context.WithTimeout(ctx, lease)
	defer cancel()
	_, err := w.Client.ExtendLease(callCtx, &orchestratorv1.ExtendLeaseRequest{Pipeline: w.Pipeline, Key: key, Attempt: attempt})
	return err
}
