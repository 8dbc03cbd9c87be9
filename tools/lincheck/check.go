package main

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/anishathalye/porcupine"
)

// pendingForever is the return time of a call whose reply was lost: it may take effect at any
// point after its call, so it is concurrent with everything that follows (etcd's robustness
// tests do the same with Porcupine).
const pendingForever = math.MaxInt64

// Partition is one key's operations.
type Partition struct {
	Key string // "pipeline/key"
	Ops []porcupine.Operation
}

// Split turns the calls into per-key operations, one partition per (pipeline, key):
//   - enqueue, ack, fail and the actions are single-key operations;
//   - a start that answered becomes one "start" per started batch; a start whose reply was lost
//     may have started any key of its pipeline, so it becomes an unknown "start" on every key;
//   - a list becomes one "read" per key of its pipeline (listed or not): the same snapshot,
//     checked key by key.
//
// The keys of a pipeline are every key any call of the history names.
func Split(calls []Call) ([]Partition, error) {
	maxAttempts := map[string]int{}
	keysOf := map[string]map[string]bool{}
	addKey := func(pipeline, key string) {
		if keysOf[pipeline] == nil {
			keysOf[pipeline] = map[string]bool{}
		}
		keysOf[pipeline][key] = true
	}
	for _, c := range calls {
		switch {
		case c.Op == "config":
			maxAttempts[c.Pipeline] = c.MaxAttempts
		case c.Input.Key != "":
			addKey(c.Pipeline, c.Input.Key)
		}
		for _, s := range c.Output.Started {
			addKey(c.Pipeline, s.Key)
		}
		for _, b := range c.Output.Batches {
			addKey(c.Pipeline, b.Key)
		}
	}

	byKey := map[string]*Partition{}
	add := func(c Call, key string, op KeyOp, result KeyResult) {
		id := c.Pipeline + "/" + key
		p := byKey[id]
		if p == nil {
			p = &Partition{Key: id}
			byKey[id] = p
		}
		op.Key = id
		ret := c.ReturnNs
		if c.Unknown {
			result = KeyResult{Unknown: true}
			ret = pendingForever
		}
		p.Ops = append(p.Ops, porcupine.Operation{
			ClientId: c.Client, Input: op, Output: result, Call: c.CallNs, Return: ret,
			Metadata: fmt.Sprintf("history line %d", c.Line),
		})
	}

	for _, c := range calls {
		out := c.Output
		switch c.Op {
		case "config":
			continue
		case "enqueue", "ack", "redrive", "cancel", "discard":
			add(c, c.Input.Key, KeyOp{Kind: c.Op, Attempt: c.Input.Attempt},
				KeyResult{Error: out.Error, Deduplicated: out.Deduplicated, Outcome: out.Outcome, Attempt: out.Attempt})
		case "fail":
			n, ok := maxAttempts[c.Pipeline]
			if !ok || n < 1 {
				return nil, fmt.Errorf("line %d: fail on pipeline %q, but no config line gives its maxAttempts", c.Line, c.Pipeline)
			}
			add(c, c.Input.Key, KeyOp{Kind: "fail", Attempt: c.Input.Attempt, MaxAttempts: n},
				KeyResult{Error: out.Error, Outcome: out.Outcome, Attempt: out.Attempt})
		case "start":
			if c.Unknown {
				for key := range keysOf[c.Pipeline] {
					add(c, key, KeyOp{Kind: "start"}, KeyResult{})
				}
				continue
			}
			if out.Error != "" {
				continue // a refused start (e.g. the pipeline was not found) started nothing
			}
			for _, s := range out.Started {
				add(c, s.Key, KeyOp{Kind: "start"}, KeyResult{Attempt: s.Attempt})
			}
		case "list":
			if c.Unknown || out.Error != "" {
				continue // a read that did not answer says nothing
			}
			listed := map[string]KeyState{}
			for _, b := range out.Batches {
				if _, twice := listed[b.Key]; twice {
					return nil, fmt.Errorf("line %d: key %q listed twice in one ListBatches", c.Line, b.Key)
				}
				listed[b.Key] = b
			}
			for key := range keysOf[c.Pipeline] {
				b, ok := listed[key]
				result := KeyResult{}
				if ok {
					result = KeyResult{State: b.State, Attempt: b.Attempt}
				}
				add(c, key, KeyOp{Kind: "read"}, result)
			}
		}
	}

	partitions := make([]Partition, 0, len(byKey))
	for _, p := range byKey {
		partitions = append(partitions, *p)
	}
	sort.Slice(partitions, func(i, j int) bool { return partitions[i].Key < partitions[j].Key })
	return partitions, nil
}

// Verdict is the result of checking a whole history.
type Verdict struct {
	Partitions int
	Operations int
	Illegal    []Partition // the keys whose history is not linearizable
	TimedOut   []Partition // the keys the checker could not decide within the timeout
	Stopped    bool        // the check stopped at maxIllegal failing keys; the rest is unchecked
}

// Check checks every partition on its own, so a failure names its key, and the visualization
// can show only the failing keys. It stops after maxIllegal failing keys (0: never): deciding
// that a key is NOT linearizable means trying every order, which takes long when many calls
// are pending forever, and a handful of failing keys says what went wrong.
func Check(partitions []Partition, timeout time.Duration, maxIllegal int) Verdict {
	model := KeyModel()
	v := Verdict{Partitions: len(partitions)}
	for _, p := range partitions {
		if maxIllegal > 0 && len(v.Illegal) >= maxIllegal {
			v.Stopped = true
			break
		}
		v.Operations += len(p.Ops)
		switch porcupine.CheckOperationsTimeout(model, p.Ops, timeout) {
		case porcupine.Illegal:
			v.Illegal = append(v.Illegal, p)
		case porcupine.Unknown:
			v.TimedOut = append(v.TimedOut, p)
		}
	}
	return v
}

// Visualize writes Porcupine's HTML view of the given partitions (one block per key, with the
// longest linearizable prefix and where it got stuck) to path.
func Visualize(partitions []Partition, path string, timeout time.Duration) error {
	var all []porcupine.Operation
	bounds := [][2]int{}
	for _, p := range partitions {
		bounds = append(bounds, [2]int{len(all), len(all) + len(p.Ops)})
		all = append(all, p.Ops...)
	}
	model := KeyModel()
	model.Partition = func(history []porcupine.Operation) [][]porcupine.Operation {
		parts := make([][]porcupine.Operation, 0, len(bounds))
		for _, b := range bounds {
			parts = append(parts, history[b[0]:b[1]])
		}
		return parts
	}
	model.DescribeOperationMetadata = func(info interface{}) string { return fmt.Sprint(info) }
	_, info := porcupine.CheckOperationsVerbose(model, all, timeout)
	return porcupine.VisualizePath(model, info, path)
}
