// Command story runs the whole story against a running server and exits non-zero on the
// first mismatch:
//
//	cd client-go && go run ./examples/story 127.0.0.1:50051
//
// It creates its own uniquely named pipelines (and deletes them at the end): enqueue with an
// idempotency key, a deduplicated re-enqueue and a conflicting one; a Worker round
// (StartAvailable stream) where batch "a" is acked after a heartbeat and batch "b" fails, is
// retried (initial_backoff_ms 0) and dead-lettered on its 2nd attempt (max_attempts 2);
// WatchStarted sees every start; QUEUE_FULL (max_queued 1) read from ErrorInfo and RetryInfo,
// on EnqueueBatch and inside an EnqueueBatches result; Worker.Run (the README's loop); then
// the continuous StreamWorker (Concurrency 8, a retry pushed at its retry time, a dead letter)
// fed by a BatchingProducer, and a BatchingAcker.
//
// With $LIGHTSPEED_TOKEN set (a server started with --token-file; the token needs every role),
// every call carries it (orchestrator.BearerToken), and a call without it must be refused with
// UNAUTHENTICATED MISSING_CREDENTIALS.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	v1 "github.com/lightspeed-orchestrator/lightspeed/client-go/gen/lightspeed/orchestrator/v1"
	"github.com/lightspeed-orchestrator/lightspeed/client-go/orchestrator"
)

type mismatch struct{ what string }

func (m mismatch) Error() string { return m.what }

func check(cond bool, format string, args ...any) {
	what := fmt.Sprintf(format, args...)
	if !cond {
		panic(mismatch{what})
	}
	fmt.Printf("  ok - %s\n", what)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func expectError(err error, reason string, code codes.Code) *orchestrator.Error {
	if err == nil {
		panic(mismatch{fmt.Sprintf("expected %s, but the call succeeded", reason)})
	}
	e, ok := orchestrator.FromError(err)
	check(ok && e.Reason == reason && e.Code == code && e.Domain == orchestrator.Domain,
		"refused with %s %s (got %v)", code, reason, err)
	return e
}

func batch(key, stage string, records, sequence int64) *v1.Batch {
	return &v1.Batch{Key: key, Stage: stage, Records: records, Sequence: sequence, IdempotencyKey: "idem-" + key}
}

type start struct {
	key     string
	attempt int32
}

func story(target string) {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Second)
	defer cancel()
	buf := make([]byte, 4)
	_, _ = rand.Read(buf)
	suffix := hex.EncodeToString(buf)
	storyName, fullName := "go-story-"+suffix, "go-full-"+suffix

	token := os.Getenv("LIGHTSPEED_TOKEN")
	var client *orchestrator.Client
	if token == "" {
		client = must(orchestrator.Connect(target))
	} else {
		creds := must(orchestrator.BearerToken(token))
		client = must(orchestrator.Connect(target,
			grpc.WithTransportCredentials(insecure.NewCredentials()), // loopback only: use TLS elsewhere
			grpc.WithPerRPCCredentials(creds)))
	}
	defer client.Close()
	fmt.Printf("go: connected to %s (bearer token: %t); pipelines %s, %s\n", target, token != "", storyName, fullName)
	if token != "" {
		_, err := orchestrator.BearerToken(" ")
		check(err != nil, "an empty bearer token is refused (%v)", err)
		anonymous := must(orchestrator.Connect(target))
		_, err = anonymous.ListPipelines(ctx, &v1.ListPipelinesRequest{})
		expectError(err, orchestrator.ReasonMissingCredentials, codes.Unauthenticated)
		_ = anonymous.Close()
	}

	// 1. Pipelines: "story" retries once with no backoff, then dead-letters; "full" queues one.
	created := must(client.CreatePipeline(ctx, &v1.CreatePipelineRequest{Spec: &v1.PipelineSpec{
		Name:   storyName,
		Stages: []string{"probe", "work"},
		Connectors: []*v1.Connector{
			{Name: "probe-src", Kind: v1.ConnectorKind_CONNECTOR_KIND_SOURCE, Stage: "probe"},
			{Name: "work-src", Kind: v1.ConnectorKind_CONNECTOR_KIND_SOURCE, Stage: "work"},
		},
		Boundary: &v1.Boundary{LeaseMs: proto.Int64(900)},
		Retry:    &v1.RetryPolicy{MaxAttempts: proto.Int32(2), InitialBackoffMs: proto.Int64(0)},
	}})).GetPipeline()
	check(created.GetRetry().GetMaxAttempts() == 2 && created.GetRetry().InitialBackoffMs != nil &&
		created.GetRetry().GetInitialBackoffMs() == 0, "CreatePipeline returns the effective retry policy")
	check(created.GetBoundary().GetMaxQueued() == 10000, "unset boundary fields come back with their defaults")
	fullSpec := &v1.PipelineSpec{
		Name: fullName, Stages: []string{"work"},
		Connectors: []*v1.Connector{{Name: "src", Kind: v1.ConnectorKind_CONNECTOR_KIND_SOURCE, Stage: "work"}},
		Boundary:   &v1.Boundary{MaxQueued: proto.Int64(1)},
	}
	must(client.CreatePipeline(ctx, &v1.CreatePipelineRequest{Spec: fullSpec}))
	_, err := client.CreatePipeline(ctx, &v1.CreatePipelineRequest{Spec: fullSpec})
	expectError(err, orchestrator.ReasonPipelineExists, codes.AlreadyExists)

	// 2. WatchStarted, in the background; probe batches (stage "probe") until it is live.
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	watch := must(client.WatchStarted(watchCtx, &v1.WatchStartedRequest{Pipeline: storyName}))
	seen := make(chan *v1.StartedBatch, 1024)
	go func() {
		for {
			msg, err := watch.Recv()
			if err != nil {
				return
			}
			seen <- msg.GetStarted()
		}
	}()
	live := false
	for i := int64(1); i <= 20 && !live; i++ {
		probe := fmt.Sprintf("probe-%d", i)
		must(client.EnqueueBatch(ctx, &v1.EnqueueBatchRequest{Pipeline: storyName, Batch: batch(probe, "probe", 1, i)}))
		stream := must(client.StartAvailable(ctx, &v1.StartAvailableRequest{Pipeline: storyName, MaxBatches: 1, Stages: []string{"probe"}}))
		for {
			msg, err := stream.Recv()
			if err != nil {
				break
			}
			must(client.AckBatch(ctx, &v1.AckBatchRequest{Pipeline: storyName, Key: msg.GetStarted().GetBatch().GetKey(), Attempt: msg.GetStarted().GetAttempt()}))
		}
		timeout := time.After(500 * time.Millisecond)
	wait:
		for {
			select {
			case s := <-seen:
				if s.GetBatch().GetKey() == probe {
					live = true
					break wait
				}
			case <-timeout:
				break wait
			}
		}
	}
	check(live, "WatchStarted stream is live (it delivered a probe batch)")

	// 3. Enqueue with idempotency keys.
	a := batch("a", "work", 10, 1)
	first := must(client.EnqueueBatch(ctx, &v1.EnqueueBatchRequest{Pipeline: storyName, Batch: a}))
	check(!first.GetDeduplicated(), "enqueue a: accepted")
	again := must(client.EnqueueBatch(ctx, &v1.EnqueueBatchRequest{Pipeline: storyName, Batch: a}))
	check(again.GetDeduplicated(), "re-enqueue a with the same idempotency key: deduplicated")
	conflict := proto.Clone(a).(*v1.Batch)
	conflict.Records = 11
	_, err = client.EnqueueBatch(ctx, &v1.EnqueueBatchRequest{Pipeline: storyName, Batch: conflict})
	expectError(err, orchestrator.ReasonIdempotencyConflict, codes.AlreadyExists)
	b := must(client.EnqueueBatch(ctx, &v1.EnqueueBatchRequest{Pipeline: storyName, Batch: batch("b", "work", 5, 2)}))
	check(!b.GetDeduplicated(), "enqueue b: accepted")

	// 4. Worker rounds: a is acked (after at least one heartbeat), b fails until dead-lettered.
	worker := &orchestrator.Worker{
		Client: client, Pipeline: storyName, Stages: []string{"work"}, MaxBatches: 4,
		Handler: func(ctx context.Context, s *v1.StartedBatch) error {
			if s.GetBatch().GetKey() == "a" {
				time.Sleep(700 * time.Millisecond) // longer than the heartbeat interval (lease 900 ms / 3)
				return nil
			}
			return fmt.Errorf("boom on attempt %d", s.GetAttempt())
		},
	}
	round1 := must(worker.RunOnce(ctx))
	byKey := map[string]orchestrator.Result{}
	keys := []string{}
	for _, r := range round1 {
		byKey[r.Started.GetBatch().GetKey()] = r
		keys = append(keys, r.Started.GetBatch().GetKey())
	}
	sort.Strings(keys)
	check(fmt.Sprint(keys) == "[a b]", "round 1 started a and b (got %v)", keys)
	ra, rb := byKey["a"], byKey["b"]
	check(ra.HandlerErr == nil && ra.ReportErr == nil && ra.Outcome.GetProcessed().GetRecords() == 10 &&
		ra.Outcome.GetProcessed().GetAttempt() == 1, "a acked: Processed, 10 records, attempt 1")
	check(ra.Heartbeats >= 1, "a's lease was extended while it ran (%d heartbeats)", ra.Heartbeats)
	retry := rb.Outcome.GetRetryScheduled()
	check(retry != nil && retry.GetNextAttempt() == 2 && retry.GetReason() == "boom on attempt 1",
		"b failed: RetryScheduled, next attempt 2")
	round2 := must(worker.RunOnce(ctx))
	check(len(round2) == 1 && round2[0].Started.GetBatch().GetKey() == "b" && round2[0].Started.GetAttempt() == 2,
		"round 2 restarted b (attempt 2)")
	dead := round2[0].Outcome.GetDeadLettered()
	check(dead != nil && dead.GetDestination() == storyName+".work.dlq" && dead.GetReason() == "boom on attempt 2",
		"b failed again: DeadLettered to <pipeline>.work.dlq")
	check(len(must(worker.RunOnce(ctx))) == 0, "round 3 starts nothing")
	again2 := must(client.AckBatch(ctx, &v1.AckBatchRequest{Pipeline: storyName, Key: "a", Attempt: 1}))
	check(again2.GetOutcome().GetProcessed() != nil, "a repeated ack of a is idempotent")
	_, err = client.AckBatch(ctx, &v1.AckBatchRequest{Pipeline: storyName, Key: "b", Attempt: 2})
	expectError(err, orchestrator.ReasonNotInFlight, codes.FailedPrecondition)

	status := must(client.GetStatus(ctx, &v1.GetStatusRequest{Pipeline: storyName}))
	check(status.GetDeadLetterCount() == 1 && status.GetQueuedCount() == 0 && status.GetInFlightCount() == 0 &&
		status.GetValid(), "GetStatus: 1 dead letter, nothing queued or in flight, valid")
	letters := must(client.ListDeadLetters(ctx, &v1.ListDeadLettersRequest{Pipeline: storyName})).GetDeadLetters()
	check(len(letters) == 1 && letters[0].GetBatchKey() == "b", "ListDeadLetters: b")

	// 5. WatchStarted saw a@1, b@1, b@2.
	var starts []start
	deadline := time.After(10 * time.Second)
collect:
	for len(starts) < 3 {
		select {
		case s := <-seen:
			if s.GetBatch().GetStage() == "work" {
				starts = append(starts, start{s.GetBatch().GetKey(), s.GetAttempt()})
			}
		case <-deadline:
			break collect
		}
	}
	sort.Slice(starts, func(i, j int) bool {
		if starts[i].key != starts[j].key {
			return starts[i].key < starts[j].key
		}
		return starts[i].attempt < starts[j].attempt
	})
	check(fmt.Sprint(starts) == "[{a 1} {b 1} {b 2}]", "WatchStarted delivered every start (%v)", starts)
	stopWatch()

	// 6. Backpressure: QUEUE_FULL with ErrorInfo and RetryInfo, also per item in EnqueueBatches.
	must(client.EnqueueBatch(ctx, &v1.EnqueueBatchRequest{Pipeline: fullName, Batch: batch("q1", "work", 1, 1)}))
	_, err = client.EnqueueBatch(ctx, &v1.EnqueueBatchRequest{Pipeline: fullName, Batch: batch("q2", "work", 1, 2)})
	full := expectError(err, orchestrator.ReasonQueueFull, codes.ResourceExhausted)
	check(full.HasRetryInfo && full.RetryDelay > 0, "QUEUE_FULL carries RetryInfo (%v)", full.RetryDelay)
	check(full.Metadata["pipeline"] == fullName, "ErrorInfo metadata names the pipeline")
	results := must(client.EnqueueBatches(ctx, &v1.EnqueueBatchesRequest{Pipeline: fullName, Batches: []*v1.Batch{batch("q3", "work", 1, 3)}})).GetResults()
	item := orchestrator.FromStatus(results[0].GetError())
	check(item != nil && item.Reason == orchestrator.ReasonQueueFull && item.Code == codes.ResourceExhausted,
		"EnqueueBatches item refused with QUEUE_FULL")
	_, err = client.GetPipeline(ctx, &v1.GetPipelineRequest{Name: "go-missing-" + suffix})
	expectError(err, orchestrator.ReasonPipelineNotFound, codes.NotFound)

	// 7. The worker loop of the README: Worker.Run until its context is cancelled.
	must(client.EnqueueBatch(ctx, &v1.EnqueueBatchRequest{Pipeline: storyName, Batch: batch("c", "work", 3, 3)}))
	runCtx, stopRun := context.WithTimeout(ctx, 20*time.Second)
	var outcomes []orchestrator.Result
	loop := &orchestrator.Worker{
		Client: client, Pipeline: storyName, Stages: []string{"work"}, PollInterval: 100 * time.Millisecond,
		Handler:  func(ctx context.Context, s *v1.StartedBatch) error { return nil },
		OnResult: func(r orchestrator.Result) { outcomes = append(outcomes, r); stopRun() },
	}
	runErr := loop.Run(runCtx)
	stopRun()
	check(runErr == nil && len(outcomes) == 1 && outcomes[0].Started.GetBatch().GetKey() == "c" &&
		outcomes[0].Outcome.GetProcessed() != nil, "Worker.Run processed c, then stopped")

	// 8. The event log: a resumable stream from the first event, in id order.
	eventsCtx, stopEvents := context.WithCancel(ctx)
	zero := int64(0)
	events := must(client.Events(eventsCtx, storyName, &zero))
	for want := int64(1); want <= 3; want++ {
		e := must(events.Next())
		check(e.GetEventId() == want, "WatchEvents from 0 delivers event %d (got %d)", want, e.GetEventId())
	}
	check(events.LastEventID() == 3, "EventStream.LastEventID is the last id returned")
	stopEvents()

	// 9. UpdatePipeline: one setting of the live pipeline, named by a field mask.
	updated := must(client.UpdatePipeline(ctx, &v1.UpdatePipelineRequest{
		Pipeline:   &v1.PipelineSpec{Name: storyName, Boundary: &v1.Boundary{MaxQueued: proto.Int64(50000)}},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"boundary.max_queued"}},
	}))
	check(updated.GetPipeline().GetBoundary().GetMaxQueued() == 50000, "UpdatePipeline changed boundary.max_queued")

	_, err = client.DeletePipeline(ctx, &v1.DeletePipelineRequest{Name: storyName})
	expectError(err, orchestrator.ReasonPipelineNotEmpty, codes.FailedPrecondition)
	streamStory(ctx, client, "go-stream-"+suffix)
	for _, name := range []string{storyName, fullName} {
		must(client.DeletePipeline(ctx, &v1.DeletePipelineRequest{Name: name, Force: true}))
	}
	check(true, "pipelines deleted")
}

// streamStory: the continuous worker (Work stream) and the batching producer and acker.
func streamStory(ctx context.Context, client v1.OrchestratorServiceClient, name string) {
	src := v1.ConnectorKind_CONNECTOR_KIND_SOURCE
	must(client.CreatePipeline(ctx, &v1.CreatePipelineRequest{Spec: &v1.PipelineSpec{
		Name: name, Stages: []string{"work", "manual"},
		Connectors: []*v1.Connector{{Name: "work-src", Kind: src, Stage: "work"}, {Name: "manual-src", Kind: src, Stage: "manual"}},
		Retry:      &v1.RetryPolicy{MaxAttempts: proto.Int32(3), InitialBackoffMs: proto.Int64(300)},
	}}))
	producer := must(orchestrator.NewBatchingProducer(client, name, orchestrator.BatchingOptions{}))
	var pendings []*orchestrator.Pending[bool]
	for i := int64(0); i < 200; i++ {
		pendings = append(pendings, producer.Enqueue(batch(fmt.Sprintf("s%d", i), "work", 1, i+1)))
	}
	pendings = append(pendings, producer.Enqueue(batch("retry-me", "work", 1, 201)), producer.Enqueue(batch("poison", "work", 1, 202)))
	other := batch("s0", "work", 1, 203)
	other.IdempotencyKey = "other"
	conflict := producer.Enqueue(other)
	producer.Flush()
	_, err := conflict.Wait(ctx)
	expectError(err, orchestrator.ReasonBatchKeyExists, codes.AlreadyExists)
	allNew := true
	for _, p := range pendings {
		dedup, err := p.Wait(ctx)
		allNew = allNew && err == nil && !dedup
	}
	check(allNew && len(pendings) == 202, "BatchingProducer: 202 enqueues, each with its own result; a refused item fails alone")

	var mu sync.Mutex
	active, maxActive := 0, 0
	var retryStarts []time.Time
	worker := &orchestrator.StreamWorker{
		Client: client, Pipeline: name, Stages: []string{"work"}, Concurrency: 8,
		Handler: func(_ context.Context, started *v1.StartedBatch) error {
			mu.Lock()
			active++
			maxActive = max(maxActive, active)
			mu.Unlock()
			defer func() { mu.Lock(); active--; mu.Unlock() }()
			time.Sleep(10 * time.Millisecond)
			switch started.GetBatch().GetKey() {
			case "retry-me":
				mu.Lock()
				retryStarts = append(retryStarts, time.Now())
				mu.Unlock()
				if started.GetAttempt() == 1 {
					return errors.New("flaky sink")
				}
			case "poison":
				return orchestrator.Permanent(errors.New("bad record"))
			}
			return nil
		},
	}
	runCtx, stopRun := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- worker.Run(runCtx) }()
	deadline := time.Now().Add(30 * time.Second)
	for (worker.Stats().Acked < 201 || worker.Stats().DeadLettered < 1) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	stopRun()
	check(<-ran == nil, "StreamWorker.Run returned after a graceful stop")
	st := worker.Stats()
	check(st.Acked == 201 && st.DeadLettered == 1 && st.RetriesScheduled == 1, "StreamWorker: 201 acked, 1 dead-lettered, 1 retry (%+v)", st)
	check(maxActive == 8, "StreamWorker: 8 handlers ran at once, never more (max %d)", maxActive)
	check(len(retryStarts) == 2 && retryStarts[1].Sub(retryStarts[0]) >= 250*time.Millisecond,
		"the retry started at its retry time, pushed by the server (%v after the failure)", retryStarts[len(retryStarts)-1].Sub(retryStarts[0]))

	acker := must(orchestrator.NewBatchingAcker(client, name, orchestrator.BatchingOptions{}))
	must(client.EnqueueBatches(ctx, &v1.EnqueueBatchesRequest{Pipeline: name, Batches: []*v1.Batch{batch("m1", "manual", 1, 1), batch("m2", "manual", 1, 2)}}))
	stream := must(client.StartAvailable(ctx, &v1.StartAvailableRequest{Pipeline: name, Stages: []string{"manual"}}))
	var acks []*orchestrator.Pending[*v1.ProcessOutcome]
	for {
		m, err := stream.Recv()
		if err != nil {
			break
		}
		acks = append(acks, acker.Ack(m.GetStarted().GetBatch().GetKey(), m.GetStarted().GetAttempt()))
	}
	missing := acker.Ack("nope", 0)
	acker.Flush()
	processed := len(acks) == 2
	for _, a := range acks {
		o, err := a.Wait(ctx)
		processed = processed && err == nil && o.GetProcessed() != nil
	}
	check(processed, "BatchingAcker acked both")
	_, err = missing.Wait(ctx)
	expectError(err, orchestrator.ReasonBatchNotFound, codes.NotFound)
	status := must(client.GetStatus(ctx, &v1.GetStatusRequest{Pipeline: name}))
	check(status.GetInFlightCount() == 0 && status.GetQueuedCount() == 0, "nothing left in flight or queued")
	must(client.DeletePipeline(ctx, &v1.DeletePipelineRequest{Name: name, Force: true}))
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: story HOST:PORT")
		os.Exit(2)
	}
	defer func() {
		if r := recover(); r != nil {
			var m mismatch
			if err, ok := r.(error); ok && !errors.As(err, &m) {
				fmt.Fprintf(os.Stderr, "go: FAILED: unexpected error: %v\n", err)
			} else {
				fmt.Fprintf(os.Stderr, "go: FAILED: %v\n", r)
			}
			os.Exit(1)
		}
	}()
	story(os.Args[1])
	fmt.Println("go: story passed")
}
