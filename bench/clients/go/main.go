// Command loadgen drives a running server through the Go client's BatchingProducer and
// StreamWorker (Work stream), 64 batches outstanding. Usage: go run . HOST:PORT [N] [workloads]
// Prints one JSON line per workload (see ../README.md).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	v1 "github.com/lightspeed-orchestrator/lightspeed/client-go/gen/lightspeed/orchestrator/v1"
	"github.com/lightspeed-orchestrator/lightspeed/client-go/orchestrator"
)

const outstanding = 64

func run(ctx context.Context, client *orchestrator.Client, workload string, n int) error {
	name := fmt.Sprintf("loadgen-go-%s-%d", workload, time.Now().UnixNano())
	maxAttempts := int32(5)
	if workload == "dlq" {
		maxAttempts = 3
	}
	src := v1.ConnectorKind_CONNECTOR_KIND_SOURCE
	if _, err := client.CreatePipeline(ctx, &v1.CreatePipelineRequest{Spec: &v1.PipelineSpec{
		Name: name, Stages: []string{"work"},
		Connectors: []*v1.Connector{{Name: "src", Kind: src, Stage: "work"}},
		Boundary:   &v1.Boundary{MaxInFlight: proto.Int32(100000), MaxQueued: proto.Int64(10000000)},
		Retry:      &v1.RetryPolicy{MaxAttempts: proto.Int32(maxAttempts), InitialBackoffMs: proto.Int64(0)},
	}}); err != nil {
		return err
	}
	producer, err := orchestrator.NewBatchingProducer(client, name, orchestrator.BatchingOptions{})
	if err != nil {
		return err
	}
	t0 := time.Now()
	var worker *orchestrator.StreamWorker
	runCtx, stopWorker := context.WithCancel(ctx)
	defer stopWorker()
	ran := make(chan error, 1)
	// take→ack: from the handler being called to the server's answer to the ack (OnResult).
	var taken sync.Map
	var latMu sync.Mutex
	var latencies []float64
	if workload != "enqueue" {
		worker = &orchestrator.StreamWorker{Client: client, Pipeline: name, Concurrency: outstanding,
			OnResult: func(r orchestrator.Result) {
				if r.Outcome.GetProcessed() == nil {
					return
				}
				if t, ok := taken.Load(r.Started.GetBatch().GetKey()); ok {
					latMu.Lock()
					latencies = append(latencies, float64(time.Since(t.(time.Time)).Nanoseconds())/1e6)
					latMu.Unlock()
				}
			},
			Handler: func(_ context.Context, s *v1.StartedBatch) error {
				taken.Store(s.GetBatch().GetKey(), time.Now())
				if workload == "retry" && s.GetAttempt() <= 2 || workload == "dlq" {
					return errors.New("failing on purpose")
				}
				return nil
			}}
		go func() { ran <- worker.Run(runCtx) }()
	}
	window := make(chan struct{}, outstanding)
	var wg sync.WaitGroup
	var failed error
	var mu sync.Mutex
	for i := 0; i < n; i++ {
		window <- struct{}{}
		key := "k" + strconv.Itoa(i)
		p := producer.Enqueue(&v1.Batch{Key: key, Stage: "work", Records: 1, Sequence: int64(i + 1), IdempotencyKey: key})
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := p.Wait(ctx); err != nil {
				mu.Lock()
				failed = err
				mu.Unlock()
			}
			<-window
		}()
	}
	wg.Wait()
	if failed != nil {
		return failed
	}
	if worker != nil {
		for {
			st := worker.Stats()
			if (workload == "dlq" && st.DeadLettered >= int64(n)) || (workload != "dlq" && st.Acked >= int64(n)) {
				break
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			time.Sleep(5 * time.Millisecond)
		}
		stopWorker()
		<-ran
	}
	seconds := time.Since(t0).Seconds()
	out := map[string]any{"client": "go", "workload": workload, "items": n, "seconds": seconds, "rate": float64(n) / seconds}
	if workload == "lifecycle" {
		latMu.Lock()
		sort.Float64s(latencies)
		if k := len(latencies); k > 0 {
			at := func(q float64) float64 { return latencies[min(k-1, int(q*float64(k)))] }
			out["take_ack_p50_ms"], out["take_ack_p99_ms"], out["take_ack_max_ms"] = at(0.5), at(0.99), latencies[k-1]
		}
		latMu.Unlock()
	}
	line, _ := json.Marshal(out)
	fmt.Println(string(line))
	_, err = client.DeletePipeline(ctx, &v1.DeletePipelineRequest{Name: name, Force: true})
	return err
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: loadgen HOST:PORT [N] [enqueue,lifecycle,retry,dlq]")
		os.Exit(2)
	}
	n := 20000
	if len(os.Args) > 2 {
		n, _ = strconv.Atoi(os.Args[2])
	}
	workloads := "enqueue,lifecycle,retry,dlq"
	if len(os.Args) > 3 {
		workloads = os.Args[3]
	}
	client, err := orchestrator.Connect(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	for _, w := range strings.Split(workloads, ",") {
		if err := run(ctx, client, w, n); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", w, err)
			os.Exit(1)
		}
	}
}
