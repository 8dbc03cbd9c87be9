package main

// The history file: one JSON object per line, one line per client call, written by the Java
// recorder (client-java/src/test/.../history/HistoryRecorder.java) or by hand.
//
//	{"op":"config","pipeline":"lin","maxAttempts":3}
//	{"client":0,"op":"enqueue","pipeline":"lin","input":{"key":"k1"},"call":10,"return":20,"output":{"deduplicated":false}}
//	{"client":1,"op":"start","pipeline":"lin","call":30,"return":40,"output":{"started":[{"key":"k1","attempt":1}]}}
//	{"client":2,"op":"ack","pipeline":"lin","input":{"key":"k1","attempt":1},"call":50,"return":60,"output":{"outcome":"processed","attempt":1}}
//	{"client":2,"op":"ack","pipeline":"lin","input":{"key":"k9","attempt":0},"call":70,"return":80,"output":{"error":"BATCH_NOT_FOUND"}}
//	{"client":3,"op":"list","pipeline":"lin","call":90,"return":95,"output":{"batches":[{"key":"k1","state":"QUEUED","attempt":0}]}}
//	{"client":4,"op":"fail","pipeline":"lin","input":{"key":"k2","attempt":1},"call":99,"return":120,"output":"unknown"}
//
// Times are nanoseconds of one monotonic clock (Java's System.nanoTime in one JVM). "output":
// "unknown" marks a call whose reply was lost (DEADLINE_EXCEEDED, UNAVAILABLE, a dropped
// connection): it may or may not have taken effect, at any time after its call, so its return
// time is ignored. "error" is the ErrorInfo reason of a refusal, which changes nothing.
// "config" lines give a pipeline's settings the model needs (its retry policy's max_attempts).

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// Call is one line of the history file.
type Call struct {
	Client      int             `json:"client"`
	Op          string          `json:"op"`
	Pipeline    string          `json:"pipeline"`
	Input       CallInput       `json:"input"`
	CallNs      int64           `json:"call"`
	ReturnNs    int64           `json:"return"`
	RawOutput   json.RawMessage `json:"output"`
	MaxAttempts int             `json:"maxAttempts"` // "config" lines only
	Line        int             `json:"-"`           // 1-based line number in the file
	Output      CallOutput      `json:"-"`
	Unknown     bool            `json:"-"`
}

// CallInput is what the client sent. Action calls (redrive, cancel, discard) name their key.
type CallInput struct {
	Key     string `json:"key"`
	Attempt int    `json:"attempt"`
}

// CallOutput is what the server answered; Error is set for a refusal.
type CallOutput struct {
	Error        string     `json:"error"`
	Deduplicated bool       `json:"deduplicated"`
	Outcome      string     `json:"outcome"` // processed, retry_scheduled, dead_lettered, failure_rejected
	Attempt      int        `json:"attempt"` // processed: the acked attempt; retry_scheduled: next_attempt
	Started      []KeyState `json:"started"`
	Batches      []KeyState `json:"batches"`
}

// KeyState is one started batch (key, attempt) or one listed batch (key, state, attempt).
type KeyState struct {
	Key     string `json:"key"`
	State   string `json:"state"`
	Attempt int    `json:"attempt"`
}

var knownOps = map[string]bool{
	"config": true, "enqueue": true, "start": true, "ack": true, "fail": true,
	"redrive": true, "cancel": true, "discard": true, "list": true,
}

// ReadHistoryFile reads a history file; see ReadHistory.
func ReadHistoryFile(path string) ([]Call, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadHistory(f)
}

// ReadHistory parses the JSON lines; blank lines are skipped, anything else malformed is an
// error naming its line, since a checker that silently drops calls could pass a bad history.
func ReadHistory(r io.Reader) ([]Call, error) {
	var calls []Call
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 1024*1024), 64*1024*1024)
	line := 0
	for scanner.Scan() {
		line++
		text := scanner.Bytes()
		if len(bytes.TrimSpace(text)) == 0 {
			continue
		}
		var c Call
		decoder := json.NewDecoder(bytes.NewReader(text))
		decoder.DisallowUnknownFields()
		if err := decoder.Decode(&c); err != nil {
			return nil, fmt.Errorf("line %d: %v", line, err)
		}
		c.Line = line
		if !knownOps[c.Op] {
			return nil, fmt.Errorf("line %d: unknown op %q", line, c.Op)
		}
		if c.Op != "config" {
			if err := c.parseOutput(); err != nil {
				return nil, fmt.Errorf("line %d: %v", line, err)
			}
			if c.Input.Key == "" && c.Op != "start" && c.Op != "list" {
				return nil, fmt.Errorf("line %d: %s needs input.key", line, c.Op)
			}
			if !c.Unknown && c.ReturnNs < c.CallNs {
				return nil, fmt.Errorf("line %d: return %d before call %d", line, c.ReturnNs, c.CallNs)
			}
		}
		calls = append(calls, c)
	}
	if err := scanner.Err(); err != nil {
		return nil, err
	}
	return calls, nil
}

func (c *Call) parseOutput() error {
	var s string
	if json.Unmarshal(c.RawOutput, &s) == nil {
		if s != "unknown" {
			return fmt.Errorf("output must be an object or \"unknown\", got %q", s)
		}
		c.Unknown = true
		return nil
	}
	if len(c.RawOutput) == 0 {
		return fmt.Errorf("output missing")
	}
	decoder := json.NewDecoder(bytes.NewReader(c.RawOutput))
	decoder.DisallowUnknownFields()
	return decoder.Decode(&c.Output)
}
