package orchestrator

import (
	"context"
	"errors"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	orchestratorv1 "github.com/lightspeed-orchestrator/lightspeed/client-go/gen/lightspeed/orchestrator/v1"
)

// BatchingOptions: how single enqueues (acks) are grouped into EnqueueBatches (AckBatches)
// calls, the same in every client of this project (defaults as Pub/Sub's publisher). A call
// leaves when it holds MaxItems items (default 100) or MaxBytes bytes (1 MiB), or MaxDelay
// (5ms) after its first item. Disabled sends each item alone, at once (still in order per
// stage).
type BatchingOptions struct {
	MaxItems int
	MaxDelay time.Duration
	MaxBytes int
	Disabled bool
}

// Pending is the result of one item; Wait blocks until it is known.
type Pending[R any] struct {
	done   chan struct{}
	result R
	err    error
}

// Wait returns the item's own result or error (an *Error with the item's reason), or ctx's
// error if ctx ends first.
func (p *Pending[R]) Wait(ctx context.Context) (R, error) {
	select {
	case <-p.done:
		return p.result, p.err
	case <-ctx.Done():
		var zero R
		return zero, ctx.Err()
	}
}

type lane[I, R any] struct {
	items    []I
	pendings []*Pending[R]
	bytes    int
	inFlight bool
	timer    *time.Timer
	// refill is how many items the lane's last call returned to their callers plus those that
	// waited for it (0 once a call has left): a caller that keeps a bounded number outstanding
	// sends the returned ones again right away, so a call holding that many leaves without
	// waiting for the timer.
	refill int
	// first is when the oldest waiting item arrived (its MaxDelay runs from then).
	first time.Time
}

// batcher groups items per lane; one call in flight per lane; each item's result to its own
// Pending.
type batcher[I proto.Message, R any] struct {
	maxItems, maxBytes int
	maxDelay           time.Duration
	send               func(items []I) ([]R, []error, error)
	mu                 sync.Mutex
	lanes              map[string]*lane[I, R]
	calls              sync.WaitGroup
}

func newBatcher[I proto.Message, R any](o BatchingOptions, send func([]I) ([]R, []error, error)) (*batcher[I, R], error) {
	b := &batcher[I, R]{maxItems: o.MaxItems, maxBytes: o.MaxBytes, maxDelay: o.MaxDelay, send: send, lanes: map[string]*lane[I, R]{}}
	if b.maxItems == 0 {
		b.maxItems = 100
	}
	if b.maxBytes == 0 {
		b.maxBytes = 1 << 20
	}
	if b.maxDelay == 0 {
		b.maxDelay = 5 * time.Millisecond
	}
	if o.Disabled {
		b.maxItems, b.maxBytes, b.maxDelay = 1, 1<<62, 0
	}
	if b.maxItems < 1 || b.maxItems > 1000 || b.maxBytes < 1 || b.maxDelay < 0 {
		return nil, errors.New("orchestrator: BatchingOptions: MaxItems must be 1..1000, MaxBytes ≥ 1, MaxDelay ≥ 0")
	}
	return b, nil
}

func (b *batcher[I, R]) add(key string, item I) *Pending[R] {
	p := &Pending[R]{done: make(chan struct{})}
	size := proto.Size(item)
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.lanes[key]
	if l == nil {
		l = &lane[I, R]{}
		b.lanes[key] = l
	}
	if len(l.items) == 0 {
		l.first = time.Now()
	}
	l.items = append(l.items, item)
	l.pendings = append(l.pendings, p)
	l.bytes += size
	if l.inFlight {
		return p
	}
	if len(l.items) >= b.maxItems || l.bytes >= b.maxBytes || b.maxDelay == 0 ||
		(l.refill > 0 && len(l.items) >= l.refill) {
		b.sendLocked(l)
	} else if l.timer == nil {
		b.startTimerLocked(l, b.maxDelay)
	}
	return p
}

// startTimerLocked sends what the lane holds after d, unless a call is in flight then.
func (b *batcher[I, R]) startTimerLocked(l *lane[I, R], d time.Duration) {
	l.timer = time.AfterFunc(d, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		l.timer = nil
		if !l.inFlight && len(l.items) > 0 {
			b.sendLocked(l)
		}
	})
}

// flush sends what waits and waits for every call so far.
func (b *batcher[I, R]) flush() {
	for {
		b.mu.Lock()
		waiting := false
		for _, l := range b.lanes {
			if !l.inFlight && len(l.items) > 0 {
				b.sendLocked(l)
			}
			waiting = waiting || len(l.items) > 0
		}
		b.mu.Unlock()
		b.calls.Wait()
		if !waiting {
			return
		}
	}
}

func (b *batcher[I, R]) sendLocked(l *lane[I, R]) {
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	n, bytes := 0, 0
	for n < len(l.items) && n < b.maxItems {
		s := proto.Size(l.items[n])
		if n > 0 && bytes+s > b.maxBytes {
			break
		}
		bytes += s
		n++
	}
	items, pendings := l.items[:n:n], l.pendings[:n:n]
	l.items, l.pendings = l.items[n:], l.pendings[n:]
	l.bytes -= bytes
	l.first = time.Now() // what stays waited at least this long already
	l.inFlight = true
	l.refill = 0
	b.calls.Add(1)
	go func() {
		defer b.calls.Done()
		results, itemErrs, err := b.send(items)
		// What waited for this call, counted before its callers are answered: those may send
		// again (into the lane) before the lane is looked at below.
		b.mu.Lock()
		waited := len(l.items)
		b.mu.Unlock()
		for i, p := range pendings {
			switch {
			case err != nil:
				p.err = err
			case i >= len(results):
				p.err = errors.New("orchestrator: the server sent no result for this item")
			case itemErrs[i] != nil:
				p.err = itemErrs[i]
			default:
				p.result = results[i]
			}
			close(p.done)
		}
		b.mu.Lock()
		l.inFlight = false
		// The n callers just answered are about to send again: the next call waits for them
		// (or MaxDelay after its first item), so that a producer with W outstanding sends
		// calls of W, not two alternating calls of about W/2 (what sending the waiting items
		// at once converged to: twice the calls, each paying the server's fsync).
		l.refill = n + waited
		if len(l.items) > 0 {
			if len(l.items) >= l.refill || len(l.items) >= b.maxItems || l.bytes >= b.maxBytes ||
				b.maxDelay == 0 {
				b.sendLocked(l)
			} else if wait := b.maxDelay - time.Since(l.first); wait <= 0 {
				b.sendLocked(l)
			} else if l.timer == nil {
				b.startTimerLocked(l, wait)
			}
		}
		b.mu.Unlock()
	}()
}

// BatchingProducer enqueues batches one at a time for the caller and in EnqueueBatches calls
// on the wire: Enqueue returns a Pending whose Wait gives `deduplicated` or the item's own
// error. Each stage has at most one call in flight, so its sequences keep their order.
type BatchingProducer struct {
	b *batcher[*orchestratorv1.Batch, bool]
}

// NewBatchingProducer creates a producer for pipeline; calls time out after 30s each.
func NewBatchingProducer(client orchestratorv1.OrchestratorServiceClient, pipeline string, o BatchingOptions) (*BatchingProducer, error) {
	b, err := newBatcher(o, func(batches []*orchestratorv1.Batch) ([]bool, []error, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		resp, err := client.EnqueueBatches(ctx, &orchestratorv1.EnqueueBatchesRequest{Pipeline: pipeline, Batches: batches})
		if err != nil {
			return nil, nil, err
		}
		results, errs := make([]bool, len(resp.GetResults())), make([]error, len(resp.GetResults()))
		for i, r := range resp.GetResults() {
			if e := FromStatus(r.GetError()); e != nil {
				errs[i] = e
			}
			results[i] = r.GetDeduplicated()
		}
		return results, errs, nil
	})
	if err != nil {
		return nil, err
	}
	return &BatchingProducer{b}, nil
}

// Enqueue adds one batch; its result comes in the returned Pending.
func (p *BatchingProducer) Enqueue(batch *orchestratorv1.Batch) *Pending[bool] {
	return p.b.add(batch.GetStage(), batch)
}

// Flush sends what waits now and returns when every call so far has completed.
func (p *BatchingProducer) Flush() { p.b.flush() }

// BatchingAcker acks batches one at a time for the caller and in AckBatches calls on the wire
// (for workers that do not use the Work stream); up to four calls in flight.
type BatchingAcker struct {
	b *batcher[*orchestratorv1.AckItem, *orchestratorv1.ProcessOutcome]
}

// NewBatchingAcker creates an acker for pipeline.
func NewBatchingAcker(client orchestratorv1.OrchestratorServiceClient, pipeline string, o BatchingOptions) (*BatchingAcker, error) {
	b, err := newBatcher(o, func(acks []*orchestratorv1.AckItem) ([]*orchestratorv1.ProcessOutcome, []error, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		resp, err := client.AckBatches(ctx, &orchestratorv1.AckBatchesRequest{Pipeline: pipeline, Acks: acks})
		if err != nil {
			return nil, nil, err
		}
		results, errs := make([]*orchestratorv1.ProcessOutcome, len(resp.GetResults())), make([]error, len(resp.GetResults()))
		for i, r := range resp.GetResults() {
			if e := FromStatus(r.GetError()); e != nil {
				errs[i] = e
			}
			results[i] = r.GetOutcome()
		}
		return results, errs, nil
	})
	if err != nil {
		return nil, err
	}
	return &BatchingAcker{b}, nil
}

// Ack acks key under attempt (0 = any); the outcome comes in the returned Pending.
func (a *BatchingAcker) Ack(key string, attempt int32) *Pending[*orchestratorv1.ProcessOutcome] {
	h := 0
	for _, c := range key {
		h = h*31 + int(c)
	}
	return a.b.add(string(rune('0'+(h&3))), &orchestratorv1.AckItem{Key: key, Attempt: attempt})
}

// Flush sends what waits now and returns when every call so far has completed.
func (a *BatchingAcker) Flush() { a.b.flush() }
