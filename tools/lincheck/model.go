package main

// The sequential specification of ONE batch key (SPEC section 3), for Porcupine. Histories are
// partitioned by (pipeline, key): the SPEC's per-key operations touch only their key, so a
// history is linearizable only if every key's sub-history is (a multi-key read or start is
// split into one operation per key it reports, which keeps every violation found a real one).
//
// The model assumes what the recording workload guarantees (docs/cluster.md, "Checking
// histories"): idempotency_key == batch key and the same content on every enqueue of a key (so
// a repeat is always a deduplicated success), a dedup window longer than the run (a finished
// key is remembered throughout), lease_ms 0 (no lease expiry, which depends on the server's
// clock), initial_backoff_ms 0 (a failed batch is ready again at once), and no limit the
// workload can reach (max_in_flight, max_queued, lag). Under these, every operation has exactly
// one correct answer in each state.

import (
	"fmt"
	"github.com/anishathalye/porcupine"
)

// Phase is where one key is in the batch life cycle.
type Phase uint8

const (
	Absent    Phase = iota // never accepted
	Queued                 // QUEUED
	InFlight               // IN_FLIGHT
	RetryWait              // RETRY_WAIT
	Dead                   // DEAD_LETTERED
	Done                   // acked; remembered within the dedup window
	Removed                // cancelled or discarded; its idempotency key is still remembered
)

var phaseNames = [...]string{"absent", "QUEUED", "IN_FLIGHT", "RETRY_WAIT", "DEAD_LETTERED", "done", "removed"}

func (p Phase) String() string { return phaseNames[p] }

// live: the phases ListBatches shows.
func (p Phase) live() bool { return p >= Queued && p <= Dead }

// KeyModelState is one key's state: comparable, so Porcupine's default equality works.
type KeyModelState struct {
	Phase   Phase
	Attempt int
}

// KeyOp is one operation on one key, the input of the model's step.
type KeyOp struct {
	Kind        string // enqueue, start, ack, fail, redrive, cancel, discard, read
	Key         string // "pipeline/key", for the visualization
	Attempt     int    // ack, fail: the attempt sent (ack 0 = any)
	MaxAttempts int    // fail: the pipeline's retry.max_attempts
}

// KeyResult is the answer for one key; Unknown when the reply was lost.
type KeyResult struct {
	Unknown      bool
	Error        string
	Deduplicated bool
	Outcome      string
	Attempt      int    // processed attempt, next_attempt, started attempt or listed attempt
	State        string // read: the listed state, "" when the key was not listed
}

// apply is the SPEC for one key: the next state and the one correct answer.
func apply(s KeyModelState, op KeyOp) (KeyModelState, KeyResult) {
	switch op.Kind {
	case "enqueue": // 3.1: the idempotency check comes before the key check
		if s.Phase == Absent {
			return KeyModelState{Queued, 0}, KeyResult{}
		}
		return s, KeyResult{Deduplicated: true}
	case "start": // 3.2: a ready batch (RETRY_WAIT with backoff 0 is ready) starts at attempt+1
		if s.Phase == Queued || s.Phase == RetryWait {
			return KeyModelState{InFlight, s.Attempt + 1}, KeyResult{Attempt: s.Attempt + 1}
		}
		return s, KeyResult{Error: "NOT_STARTABLE"} // never matches a recorded start
	case "ack": // 3.3
		switch {
		case s.Phase == Absent || s.Phase == Removed:
			return s, KeyResult{Error: "BATCH_NOT_FOUND"}
		case s.Phase == Done && (op.Attempt == 0 || op.Attempt == s.Attempt):
			return s, KeyResult{Outcome: "processed", Attempt: s.Attempt}
		case op.Attempt > 0 && op.Attempt != s.Attempt:
			return s, KeyResult{Error: "STALE_ATTEMPT"}
		case s.Phase != InFlight:
			return s, KeyResult{Error: "NOT_IN_FLIGHT"}
		}
		return KeyModelState{Done, s.Attempt}, KeyResult{Outcome: "processed", Attempt: s.Attempt}
	case "fail": // 3.4
		switch {
		case s.Phase == Absent || s.Phase == Removed:
			return s, KeyResult{Error: "BATCH_NOT_FOUND"}
		case s.Phase != InFlight || s.Attempt != op.Attempt:
			return s, KeyResult{Outcome: "failure_rejected"}
		case op.Attempt < op.MaxAttempts:
			return KeyModelState{RetryWait, s.Attempt}, KeyResult{Outcome: "retry_scheduled", Attempt: s.Attempt + 1}
		}
		return KeyModelState{Dead, s.Attempt}, KeyResult{Outcome: "dead_lettered"}
	case "redrive", "discard", "cancel": // 3.7: actions name a live batch only
		if !s.Phase.live() {
			return s, KeyResult{Error: "BATCH_NOT_FOUND"}
		}
		if op.Kind == "cancel" {
			if s.Phase == Queued || s.Phase == RetryWait {
				return KeyModelState{Removed, s.Attempt}, KeyResult{}
			}
			return s, KeyResult{Error: "NOT_CANCELLABLE"}
		}
		if s.Phase != Dead {
			return s, KeyResult{Error: "NOT_DEAD_LETTERED"}
		}
		if op.Kind == "redrive" {
			return KeyModelState{Queued, 0}, KeyResult{}
		}
		return KeyModelState{Removed, s.Attempt}, KeyResult{}
	case "read": // 3.8 ListBatches: live batches with state and attempt
		if s.Phase.live() {
			return s, KeyResult{State: s.Phase.String(), Attempt: s.Attempt}
		}
		return s, KeyResult{}
	}
	panic("unknown op kind " + op.Kind)
}

// step: a known answer must be the one correct answer; a lost one took effect or did not.
func step(state, input, output interface{}) []interface{} {
	s := state.(KeyModelState)
	op := input.(KeyOp)
	got := output.(KeyResult)
	next, want := apply(s, op)
	if got.Unknown {
		if next == s {
			return []interface{}{s}
		}
		return []interface{}{s, next}
	}
	if got != want {
		return nil
	}
	return []interface{}{next}
}

// KeyModel is the per-key model; histories given to it are already one key's operations.
func KeyModel() porcupine.Model {
	nm := porcupine.NondeterministicModel{
		Init: func() []interface{} { return []interface{}{KeyModelState{Absent, 0}} },
		Step: step,
		DescribeOperation: func(input, output interface{}) string {
			return describe(input.(KeyOp), output.(KeyResult))
		},
		DescribeState: func(state interface{}) string {
			s := state.(KeyModelState)
			return fmt.Sprintf("%v@%d", s.Phase, s.Attempt)
		},
	}
	return nm.ToModel()
}

func describe(op KeyOp, r KeyResult) string {
	in := op.Kind + "(" + op.Key
	if op.Kind == "ack" || op.Kind == "fail" {
		in += fmt.Sprintf(", attempt %d", op.Attempt)
	}
	in += ")"
	switch {
	case r.Unknown:
		return in + " -> unknown"
	case r.Error != "":
		return in + " -> " + r.Error
	case op.Kind == "enqueue" && r.Deduplicated:
		return in + " -> deduplicated"
	case op.Kind == "enqueue":
		return in + " -> accepted"
	case op.Kind == "start":
		return fmt.Sprintf("%s -> attempt %d", in, r.Attempt)
	case op.Kind == "read" && r.State == "":
		return in + " -> not listed"
	case op.Kind == "read":
		return fmt.Sprintf("%s -> %s@%d", in, r.State, r.Attempt)
	case r.Outcome == "processed" || r.Outcome == "retry_scheduled":
		return fmt.Sprintf("%s -> %s %d", in, r.Outcome, r.Attempt)
	case r.Outcome != "":
		return in + " -> " + r.Outcome
	}
	return in + " -> ok"
}
