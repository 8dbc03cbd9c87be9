// Fail-over between two servers; run by scripts/clients-failover-test.sh.
//
//	failover A_ADDRESS B_ADDRESS A_PID
//
// A and B are two independent servers; A_PID is A's process, which this example kills halfway.
// A client of ConnectTargets([A, B]) and a StreamWorker on it must use A first, then B once A is
// gone; a client of two dead addresses must fail Unavailable. With $LIGHTSPEED_TOKEN set, every
// call carries it. Exits non-zero on the first mismatch.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	v1 "github.com/lightspeed-orchestrator/lightspeed/client-go/gen/lightspeed/orchestrator/v1"
	"github.com/lightspeed-orchestrator/lightspeed/client-go/orchestrator"
)

func check(ok bool, what string) {
	if !ok {
		fmt.Printf("  MISMATCH - %s\n", what)
		os.Exit(1)
	}
	fmt.Printf("  ok - %s\n", what)
}

func must[T any](v T, err error) T {
	if err != nil {
		fmt.Printf("  MISMATCH - %v\n", err)
		os.Exit(1)
	}
	return v
}

func waitFor(what string, cond func() bool) {
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			check(false, "timed out waiting for: "+what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func refuses(address string) bool {
	c, err := net.DialTimeout("tcp", address, time.Second)
	if err != nil {
		return true
	}
	c.Close()
	return false
}

func deadAddress() string {
	l := must(net.Listen("tcp", "127.0.0.1:0"))
	defer l.Close()
	return l.Addr().String()
}

func main() {
	if len(os.Args) != 4 {
		fmt.Println("usage: failover A_ADDRESS B_ADDRESS A_PID")
		os.Exit(2)
	}
	a, b := os.Args[1], os.Args[2]
	aPid := must(strconv.Atoi(os.Args[3]))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Second)
	defer cancel()

	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())} // loopback only
	if token := os.Getenv("LIGHTSPEED_TOKEN"); token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(must(orchestrator.BearerToken(token))))
	}
	buf := make([]byte, 4)
	_, _ = rand.Read(buf)
	name := "go-failover-" + hex.EncodeToString(buf)
	spec := &v1.PipelineSpec{Name: name, Stages: []string{"work"}, Connectors: []*v1.Connector{
		{Name: "src", Kind: v1.ConnectorKind_CONNECTOR_KIND_SOURCE, Stage: "work"}}}
	onlyA, onlyB := must(orchestrator.Connect(a, opts...)), must(orchestrator.Connect(b, opts...))
	defer onlyA.Close()
	defer onlyB.Close()
	for _, c := range []*orchestrator.Client{onlyA, onlyB} {
		must(c.CreatePipeline(ctx, &v1.CreatePipelineRequest{Spec: spec}))
	}
	enqueue := func(c *orchestrator.Client, key string) bool {
		callCtx, done := context.WithTimeout(ctx, 20*time.Second)
		defer done()
		r := must(c.EnqueueBatch(callCtx, &v1.EnqueueBatchRequest{Pipeline: name, Batch: &v1.Batch{
			Key: key, Stage: "work", Records: 1, Sequence: 1, IdempotencyKey: key}}))
		return r.GetDeduplicated()
	}

	client := must(orchestrator.ConnectTargets([]string{a, b}, opts...))
	defer client.Close()
	var mu sync.Mutex
	handled := map[string]bool{}
	seen := func(key string) func() bool {
		return func() bool { mu.Lock(); defer mu.Unlock(); return handled[key] }
	}
	worker := &orchestrator.StreamWorker{
		Client: client, Pipeline: name, Stages: []string{"work"},
		MinReconnectBackoff: 20 * time.Millisecond, MaxReconnectBackoff: 500 * time.Millisecond,
		Handler: func(_ context.Context, started *v1.StartedBatch) error {
			mu.Lock()
			handled[started.GetBatch().GetKey()] = true
			mu.Unlock()
			return nil
		},
	}
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	go func() { _ = worker.Run(runCtx) }()

	check(!enqueue(client, "on-a"), "ConnectTargets([A, B]) enqueues")
	check(enqueue(onlyA, "on-a"), "pick_first: the batch went to A (A deduplicates it)")
	waitFor("the worker handles on-a", seen("on-a"))
	check(true, "the StreamWorker handled on-a from A")

	check(syscall.Kill(aPid, syscall.SIGKILL) == nil, fmt.Sprintf("killed A (pid %d)", aPid))
	waitFor("A's port to refuse connections", func() bool { return refuses(a) })

	check(!enqueue(client, "on-b"), "after A died, ConnectTargets([A, B]) enqueues")
	check(enqueue(onlyB, "on-b"), "the batch went to B (B deduplicates it)")
	waitFor("the worker handles on-b", seen("on-b"))
	check(true, "the StreamWorker reconnected to B and handled on-b")

	dead := must(orchestrator.ConnectTargets([]string{deadAddress(), deadAddress()}, opts...))
	defer dead.Close()
	callCtx, done := context.WithTimeout(ctx, 20*time.Second)
	defer done()
	_, err := dead.GetStatus(callCtx, &v1.GetStatusRequest{Pipeline: name})
	e, ok := orchestrator.FromError(err)
	check(ok && e.Code == codes.Unavailable, fmt.Sprintf("a list of dead addresses fails Unavailable (%v)", err))
	_, err = orchestrator.ConnectTargets([]string{"127.0.0.1:1", "dns:///x:2"})
	check(err != nil, fmt.Sprintf("a list with a URI is refused (%v)", err))
}
