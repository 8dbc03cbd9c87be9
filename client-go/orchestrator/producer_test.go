package orchestrator

import (
	"context"
	"sync"
	"testing"
	"time"

	orchestratorv1 "github.com/lightspeed-orchestrator/lightspeed/client-go/gen/lightspeed/orchestrator/v1"
)

// A call that holds as many items as the lane's last call returned leaves at once, without
// waiting for the timer (a producer with a bounded window refills right after its results come
// back); fewer wait for the timer or a flush, as before.
func TestBatcher_aCallAsLargeAsTheLastReturned_leavesWithoutTheTimer(t *testing.T) {
	var mu sync.Mutex
	var calls []int
	// A timer that never fires within the test: only flush or the refill rule sends.
	b, err := newBatcher(BatchingOptions{MaxItems: 100, MaxDelay: time.Hour},
		func(items []*orchestratorv1.AckItem) ([]bool, []error, error) {
			mu.Lock()
			calls = append(calls, len(items))
			mu.Unlock()
			return make([]bool, len(items)), make([]error, len(items)), nil
		})
	if err != nil {
		t.Fatal(err)
	}
	add := func() *Pending[bool] { return b.add("stage", &orchestratorv1.AckItem{Key: "k"}) }
	for i := 0; i < 8; i++ {
		add()
	}
	b.flush() // one call of 8 returned
	var refill []*Pending[bool]
	for i := 0; i < 8; i++ {
		refill = append(refill, add())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, p := range refill {
		if _, err := p.Wait(ctx); err != nil {
			t.Fatalf("the refilled items did not leave without the timer: %v", err)
		}
	}
	b.calls.Wait() // the call has fully returned
	alone := add()
	select {
	case <-alone.done:
		t.Fatal("an item fewer than the last call returned left without the timer")
	default:
	}
	b.flush()
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 3 || calls[0] != 8 || calls[1] != 8 || calls[2] != 1 {
		t.Fatalf("calls %v, expected [8 8 1]", calls)
	}
}

// A producer that keeps W outstanding sends calls of W: when a call returns, the items that
// waited for it wait further for those its callers send again, instead of leaving at once in a
// call of their own (which made a Go producer with 64 outstanding alternate two calls of about
// 32 each: twice the round trips, each paying the server's fsync).
func TestBatcher_whatWaitedForACall_leavesWithTheRefill(t *testing.T) {
	var mu sync.Mutex
	var calls []int
	release := make(chan struct{})
	inFlight := make(chan struct{}, 1)
	// A timer that never fires within the test: only flush or the refill rule sends.
	b, err := newBatcher(BatchingOptions{MaxItems: 100, MaxDelay: time.Hour},
		func(items []*orchestratorv1.AckItem) ([]bool, []error, error) {
			mu.Lock()
			calls = append(calls, len(items))
			held := len(calls) == 2
			mu.Unlock()
			if held {
				inFlight <- struct{}{}
				<-release
			}
			return make([]bool, len(items)), make([]error, len(items)), nil
		})
	if err != nil {
		t.Fatal(err)
	}
	add := func() *Pending[bool] { return b.add("stage", &orchestratorv1.AckItem{Key: "k"}) }
	for i := 0; i < 4; i++ {
		add()
	}
	b.flush() // a call of 4 returned
	var second []*Pending[bool]
	for i := 0; i < 4; i++ {
		second = append(second, add()) // the refill: a call of 4 leaves and stays in flight
	}
	<-inFlight
	for i := 0; i < 4; i++ {
		add() // 4 more wait for it: 8 outstanding
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	close(release)
	var again []*Pending[bool]
	for _, p := range second { // each answered caller sends again at once, as a window does
		if _, err := p.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		again = append(again, add())
	}
	for _, p := range again {
		if _, err := p.Wait(ctx); err != nil {
			t.Fatalf("the refilled call did not leave without the timer: %v", err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 3 || calls[0] != 4 || calls[1] != 4 || calls[2] != 8 {
		t.Fatalf("calls %v, expected [4 4 8]: what waited should leave with the refill", calls)
	}
}
