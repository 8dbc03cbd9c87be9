package orchestrator

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc/codes"

	orchestratorv1 "github.com/lightspeed-orchestrator/lightspeed/client-go/gen/lightspeed/orchestrator/v1"
)

// Handler does the work of one started batch. Returning nil acks the batch; returning an
// error fails it (retryable, with err.Error() as the reason; wrap it with Permanent to
// dead-letter at once). ctx is cancelled when the worker's context is, or when a heartbeat
// finds the lease lost (another attempt owns the batch now).
type Handler func(ctx context.Context, started *orchestratorv1.StartedBatch) error

type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Permanent marks a handler error as non-retryable: the batch is dead-lettered at once.
func Permanent(err error) error { return permanentError{err} }

// IsPermanent tells whether err was wrapped by Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// Result is what happened to one started batch.
type Result struct {
	Started *orchestratorv1.StartedBatch
	// Outcome is the server's answer to the ack or fail (processed, retry_scheduled,
	// dead_lettered or failure_rejected); nil if that call was refused (see ReportErr).
	Outcome    *orchestratorv1.ProcessOutcome
	HandlerErr error // what the handler returned
	ReportErr  error // the refusal of the ack/fail call, e.g. STALE_ATTEMPT after a lost lease
	Heartbeats int   // successful ExtendLease calls while the handler ran
	LeaseLost  bool  // a heartbeat was refused because the lease was gone
}

// Worker processes the batches of one pipeline: StartAvailable (a server stream), the
// Handler on each started batch in its own goroutine while its lease is extended, then
// AckBatch or FailBatch with the batch's attempt (fencing).
type Worker struct {
	Client   orchestratorv1.OrchestratorServiceClient
	Pipeline string
	Handler  Handler
	// Stages limits the stages started (empty: all).
	Stages []string
	// MaxBatches is the most batches started per round (default 8).
	MaxBatches int
	// HeartbeatInterval between ExtendLease calls (default: a third of the batch's lease;
	// no heartbeat when the pipeline's leases never expire).
	HeartbeatInterval time.Duration
	// PollInterval is how long Run waits after a round that started nothing (default 500ms).
	PollInterval time.Duration
	// ReportTimeout bounds each ack/fail call (default 30s); they run even after the
	// worker's context is cancelled, so finished work is not lost on shutdown.
	ReportTimeout time.Duration
	// OnResult, if set, is called by Run with every result.
	OnResult func(Result)
}

// RunOnce runs one round and returns its results in start order (none when nothing was
// available).
func (w *Worker) RunOnce(ctx context.Context) ([]Result, error) {
	maxBatches := w.MaxBatches
	if maxBatches <= 0 {
		maxBatches = 8
	}
	stream, err := w.Client.StartAvailable(ctx, &orchestratorv1.StartAvailableRequest{
		Pipeline: w.Pipeline, MaxBatches: int32(maxBatches), Stages: w.Stages,
	})
	if err != nil {
		return nil, err
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		results []Result
	)
	var streamErr error
	for {
		msg, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			streamErr = err
			break
		}
		mu.Lock()
		i := len(results)
		results = append(results, Result{Started: msg.GetStarted()})
		mu.Unlock()
		wg.Add(1)
		go func(started *orchestratorv1.StartedBatch) {
			defer wg.Done()
			r := w.process(ctx, started)
			mu.Lock()
			results[i] = r
			mu.Unlock()
		}(msg.GetStarted())
	}
	wg.Wait()
	return results, streamErr
}

// Run runs rounds until ctx is cancelled (then it returns nil). An unavailable server is
// waited out; any other refusal of StartAvailable is returned.
func (w *Worker) Run(ctx context.Context) error {
	poll := w.PollInterval
	if poll <= 0 {
		poll = 500 * time.Millisecond
	}
	for ctx.Err() == nil {
		results, err := w.RunOnce(ctx)
		for _, r := range results {
			if w.OnResult != nil {
				w.OnResult(r)
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if e, ok := FromError(err); !ok || e.Code != codes.Unavailable {
				return err
			}
		}
		if len(results) == 0 {
			select {
			case <-ctx.Done():
			case <-time.After(poll):
			}
		}
	}
	return nil
}

func (w *Worker) process(ctx context.Context, started *orchestratorv1.StartedBatch) Result {
	key, attempt := started.GetBatch().GetKey(), started.GetAttempt()
	result := Result{Started: started}
	handlerCtx, cancel := context.WithCancel(ctx)
	defer cancel()

	interval := w.HeartbeatInterval
	if lease := time.Duration(started.GetLeaseDeadlineMs()-started.GetStartedAtMs()) * time.Millisecond; interval <= 0 {
		interval = lease / 3
	}
	beatDone := make(chan struct{})
	stopBeat := make(chan struct{})
	if started.GetLeaseDeadlineMs() > 0 && interval > 0 {
		go func() {
			defer close(beatDone)
			ticker := time.NewTicker(interval)
			defer ticker.Stop()
			for {
				select {
				case <-stopBeat:
					return
				case <-handlerCtx.Done():
					return
				case <-ticker.C:
				}
				_, err := w.Client.ExtendLease(handlerCtx, &orchestratorv1.ExtendLeaseRequest{
					Pipeline: w.Pipeline, Key: key, Attempt: attempt,
				})
				if err == nil {
					result.Heartbeats++
					continue
				}
				switch ReasonOf(err) {
				case ReasonStaleAttempt, ReasonNotInFlight, ReasonBatchNotFound:
					result.LeaseLost = true
					cancel() // tell the handler its work will not count
					return
				}
				// Anything else (e.g. Unavailable) is transient: try again next tick.
			}
		}()
	} else {
		close(beatDone)
	}

	result.HandlerErr = w.Handler(handlerCtx, started)
	close(stopBeat)
	<-beatDone

	timeout := w.ReportTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	reportCtx, cancelReport := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancelReport()
	if result.HandlerErr == nil {
		resp, err := w.Client.AckBatch(reportCtx, &orchestratorv1.AckBatchRequest{
			Pipeline: w.Pipeline, Key: key, Attempt: attempt,
		})
		result.Outcome, result.ReportErr = resp.GetOutcome(), err
	} else {
		reason := FailureReason(result.HandlerErr)
		resp, err := w.Client.FailBatch(reportCtx, &orchestratorv1.FailBatchRequest{
			Pipeline: w.Pipeline, Key: key, Attempt: attempt, Reason: reason,
			NonRetryable: IsPermanent(result.HandlerErr),
		})
		result.Outcome, result.ReportErr = resp.GetOutcome(), err
	}
	return result
}

// MaxReasonBytes bounds the failure reason a worker sends (a handler's error can carry a whole
// dump).
const MaxReasonBytes = 1024

// FailureReason is the reason a worker fails a batch with when its handler returned err:
// err.Error() with surrounding white space trimmed, else "handler failed"; at most
// MaxReasonBytes bytes, cut at a character boundary (a cut inside a UTF-8 sequence would make
// the request unmarshalable). The same for Worker and StreamWorker (docs/work-stream.md).
func FailureReason(err error) string {
	reason := strings.TrimSpace(err.Error())
	if reason == "" {
		return "handler failed"
	}
	if len(reason) > MaxReasonBytes {
		cut := MaxReasonBytes
		for cut > 0 && !utf8.RuneStart(reason[cut]) {
			cut--
		}
		reason = reason[:cut]
	}
	return reason
}
