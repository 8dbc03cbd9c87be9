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
