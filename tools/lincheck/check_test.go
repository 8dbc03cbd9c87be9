package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// check parses a history given as JSON lines and checks it.
func check(t *testing.T, history string) Verdict {
	t.Helper()
	calls, err := ReadHistory(strings.NewReader(history))
	if err != nil {
		t.Fatalf("reading the history: %v", err)
	}
	partitions, err := Split(calls)
	if err != nil {
		t.Fatalf("splitting the history: %v", err)
	}
	return Check(partitions, 10*time.Second, 0)
}

func TestLinearizableHistoriesPass(t *testing.T) {
	cases := map[string]string{
		"concurrent enqueues of one key: one accepted, one deduplicated": `
{"client":0,"op":"enqueue","pipeline":"p","input":{"key":"a"},"call":10,"return":30,"output":{"deduplicated":true}}
{"client":1,"op":"enqueue","pipeline":"p","input":{"key":"a"},"call":20,"return":40,"output":{"deduplicated":false}}`,
		"a read concurrent with an enqueue may see it or not": `
{"client":0,"op":"enqueue","pipeline":"p","input":{"key":"a"},"call":10,"return":30,"output":{"deduplicated":false}}
{"client":1,"op":"list","pipeline":"p","call":11,"return":12,"output":{"batches":[]}}
{"client":2,"op":"list","pipeline":"p","call":13,"return":14,"output":{"batches":[{"key":"a","state":"QUEUED","attempt":0}]}}`,
		"an enqueue whose reply was lost may show up later": `
{"client":0,"op":"enqueue","pipeline":"p","input":{"key":"a"},"call":10,"return":20,"output":"unknown"}
{"client":1,"op":"list","pipeline":"p","call":30,"return":40,"output":{"batches":[]}}
{"client":1,"op":"list","pipeline":"p","call":50,"return":60,"output":{"batches":[{"key":"a","state":"QUEUED","attempt":0}]}}`,
		"a start whose reply was lost may have started any key": `
{"client":0,"op":"enqueue","pipeline":"p","input":{"key":"a"},"call":10,"return":20,"output":{"deduplicated":false}}
{"client":0,"op":"start","pipeline":"p","call":30,"return":40,"output":"unknown"}
{"client":1,"op":"list","pipeline":"p","call":50,"return":60,"output":{"batches":[{"key":"a","state":"IN_FLIGHT","attempt":1}]}}
{"client":1,"op":"ack","pipeline":"p","input":{"key":"a","attempt":1},"call":70,"return":80,"output":{"outcome":"processed","attempt":1}}`,
		"acks are idempotent and fenced by attempt": `
{"client":0,"op":"enqueue","pipeline":"p","input":{"key":"a"},"call":10,"return":20,"output":{"deduplicated":false}}
{"client":0,"op":"ack","pipeline":"p","input":{"key":"a","attempt":0},"call":21,"return":22,"output":{"error":"NOT_IN_FLIGHT"}}
{"client":0,"op":"start","pipeline":"p","call":30,"return":40,"output":{"started":[{"key":"a","attempt":1}]}}
{"client":1,"op":"ack","pipeline":"p","input":{"key":"a","attempt":2},"call":41,"return":42,"output":{"error":"STALE_ATTEMPT"}}
{"client":1,"op":"ack","pipeline":"p","input":{"key":"a","attempt":1},"call":50,"return":60,"output":{"outcome":"processed","attempt":1}}
{"client":0,"op":"ack","pipeline":"p","input":{"key":"a","attempt":0},"call":70,"return":80,"output":{"outcome":"processed","attempt":1}}
{"client":0,"op":"ack","pipeline":"p","input":{"key":"zz","attempt":0},"call":70,"return":80,"output":{"error":"BATCH_NOT_FOUND"}}`,
	}
	for name, history := range cases {
		t.Run(name, func(t *testing.T) {
			v := check(t, history)
			if len(v.Illegal) > 0 || len(v.TimedOut) > 0 {
				t.Fatalf("want linearizable, got illegal %v, undecided %v", keys(v.Illegal), keys(v.TimedOut))
			}
		})
	}
}

func TestNonLinearizableHistoriesFail(t *testing.T) {
	cases := map[string]string{
		"an acknowledged enqueue that a later read does not see": `
{"client":0,"op":"enqueue","pipeline":"p","input":{"key":"a"},"call":10,"return":20,"output":{"deduplicated":false}}
{"client":1,"op":"list","pipeline":"p","call":30,"return":40,"output":{"batches":[]}}`,
		"a duplicate answered accepted twice": `
{"client":0,"op":"enqueue","pipeline":"p","input":{"key":"a"},"call":10,"return":20,"output":{"deduplicated":false}}
{"client":1,"op":"enqueue","pipeline":"p","input":{"key":"a"},"call":30,"return":40,"output":{"deduplicated":false}}`,
		"concurrent duplicates both accepted": `
{"client":0,"op":"enqueue","pipeline":"p","input":{"key":"a"},"call":10,"return":40,"output":{"deduplicated":false}}
{"client":1,"op":"enqueue","pipeline":"p","input":{"key":"a"},"call":20,"return":30,"output":{"deduplicated":false}}`,
		"a batch that no client sent": `
{"client":0,"op":"list","pipeline":"p","call":10,"return":20,"output":{"batches":[{"key":"ghost","state":"QUEUED","attempt":0}]}}`,
		"a read before the enqueue was sent sees it": `
{"client":1,"op":"list","pipeline":"p","call":1,"return":5,"output":{"batches":[{"key":"a","state":"QUEUED","attempt":0}]}}
{"client":0,"op":"enqueue","pipeline":"p","input":{"key":"a"},"call":10,"return":20,"output":{"deduplicated":false}}`,
		"an acknowledged ack lost": `
{"client":0,"op":"enqueue","pipeline":"p","input":{"key":"a"},"call":10,"return":20,"output":{"deduplicated":false}}
{"client":0,"op":"start","pipeline":"p","call":30,"return":40,"output":{"started":[{"key":"a","attempt":1}]}}
{"client":0,"op":"ack","pipeline":"p","input":{"key":"a","attempt":1},"call":50,"return":60,"output":{"outcome":"processed","attempt":1}}
{"client":1,"op":"list","pipeline":"p","call":70,"return":80,"output":{"batches":[{"key":"a","state":"IN_FLIGHT","attempt":1}]}}`,
		"a stale attempt accepted": `
{"client":0,"op":"enqueue","pipeline":"p","input":{"key":"a"},"call":10,"return":20,"output":{"deduplicated":false}}
{"client":0,"op":"start","pipeline":"p","call":30,"return":40,"output":{"started":[{"key":"a","attempt":1}]}}
{"client":0,"op":"fail","pipeline":"p","input":{"key":"a","attempt":1},"call":50,"return":60,"output":{"outcome":"retry_scheduled","attempt":2}}
{"client":0,"op":"start","pipeline":"p","call":70,"return":80,"output":{"started":[{"key":"a","attempt":2}]}}
{"client":1,"op":"ack","pipeline":"p","input":{"key":"a","attempt":1},"call":90,"return":95,"output":{"outcome":"processed","attempt":1}}`,
		"a batch started twice at the same attempt": `
{"client":0,"op":"enqueue","pipeline":"p","input":{"key":"a"},"call":10,"return":20,"output":{"deduplicated":false}}
{"client":0,"op":"start","pipeline":"p","call":30,"return":40,"output":{"started":[{"key":"a","attempt":1}]}}
{"client":1,"op":"start","pipeline":"p","call":30,"return":40,"output":{"started":[{"key":"a","attempt":1}]}}`,
		"a redrive lost": `
{"client":0,"op":"enqueue","pipeline":"p","input":{"key":"a"},"call":10,"return":20,"output":{"deduplicated":false}}
{"client":0,"op":"start","pipeline":"p","call":30,"return":40,"output":{"started":[{"key":"a","attempt":1}]}}
{"client":0,"op":"fail","pipeline":"p","input":{"key":"a","attempt":1},"call":50,"return":60,"output":{"outcome":"dead_lettered"}}
{"client":0,"op":"redrive","pipeline":"p","input":{"key":"a"},"call":70,"return":80,"output":{}}
{"client":1,"op":"list","pipeline":"p","call":90,"return":95,"output":{"batches":[{"key":"a","state":"DEAD_LETTERED","attempt":1}]}}`,
	}
	config := `{"op":"config","pipeline":"p","maxAttempts":1}` + "\n"
	for name, history := range cases {
		t.Run(name, func(t *testing.T) {
			v := check(t, config+history)
			if len(v.Illegal) != 1 {
				t.Fatalf("want exactly one illegal key, got %v (undecided %v)", keys(v.Illegal), keys(v.TimedOut))
			}
		})
	}
}

func TestFailWithoutConfigIsRefused(t *testing.T) {
	calls, err := ReadHistory(strings.NewReader(
		`{"client":0,"op":"fail","pipeline":"p","input":{"key":"a","attempt":1},"call":1,"return":2,"output":{"outcome":"failure_rejected"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Split(calls); err == nil || !strings.Contains(err.Error(), "maxAttempts") {
		t.Fatalf("want an error naming maxAttempts, got %v", err)
	}
}

func TestMalformedLinesAreErrors(t *testing.T) {
	for _, line := range []string{
		`{"client":0,"op":"enqueue","pipeline":"p","input":{"key":"a"},"call":1,"return":2,"output":{"dedup":true}}`,
		`{"client":0,"op":"frobnicate","pipeline":"p","call":1,"return":2,"output":{}}`,
		`{"client":0,"op":"enqueue","pipeline":"p","input":{"key":"a"},"call":1,"return":2,"output":"lost"}`,
		`{"client":0,"op":"ack","pipeline":"p","input":{"attempt":1},"call":1,"return":2,"output":{}}`,
		`{"client":0,"op":"enqueue","pipeline":"p","input":{"key":"a"},"call":5,"return":2,"output":{}}`,
	} {
		if _, err := ReadHistory(strings.NewReader(line)); err == nil {
			t.Errorf("want an error for %s", line)
		}
	}
}

// The command line: exit codes, and the visualization written next to a failing history.
func TestRunWritesVisualizationOnFailure(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"linearizable.jsonl", "lost-enqueue.jsonl", "duplicate-accepted.jsonl"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if code := run([]string{filepath.Join(dir, "linearizable.jsonl")}); code != 0 {
		t.Errorf("linearizable.jsonl: exit %d, want 0", code)
	}
	if _, err := os.Stat(filepath.Join(dir, "linearizable.jsonl.html")); err == nil {
		t.Errorf("a visualization was written for a passing history")
	}
	for _, name := range []string{"lost-enqueue.jsonl", "duplicate-accepted.jsonl"} {
		if code := run([]string{filepath.Join(dir, name)}); code != 1 {
			t.Errorf("%s: exit %d, want 1", name, code)
		}
		html, err := os.ReadFile(filepath.Join(dir, name+".html"))
		if err != nil {
			t.Fatalf("%s: no visualization: %v", name, err)
		}
		if !strings.Contains(string(html), "enqueue(p/a") {
			t.Errorf("%s: the visualization does not show the failing key's operations", name)
		}
	}
	if code := run([]string{filepath.Join(dir, "missing.jsonl")}); code != 3 {
		t.Errorf("missing file: exit %d, want 3", code)
	}
}
