package orchestrator

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"

	orchestratorv1 "github.com/lightspeed-orchestrator/lightspeed/client-go/gen/lightspeed/orchestrator/v1"
)

// idempotentMethods are safe to send again after a broken connection (the Java client's
// RetryServiceConfig says why): enqueues carry an idempotency key, a repeated ack or lease
// extension changes nothing, and reads.
var idempotentMethods = []string{
	"EnqueueBatch", "EnqueueBatches", "AckBatch", "AckBatches", "ExtendLease", "GetPipeline",
	"ListPipelines", "ListBatches", "ListRetries", "ListDeadLetters", "ListRuns", "ListAuditLog",
	"GetStatus",
}

// serviceConfig: pick_first (gRPC's default, said out loud) and a retry of Unavailable for the
// idempotent methods only, 4 attempts with backoff 0.1s doubling to 2s, as the Java client does.
var serviceConfig = func() string {
	names := make([]map[string]string, 0, len(idempotentMethods))
	for _, m := range idempotentMethods {
		names = append(names, map[string]string{"service": orchestratorv1.OrchestratorService_ServiceDesc.ServiceName, "method": m})
	}
	b, err := json.Marshal(map[string]any{
		"loadBalancingConfig": []any{map[string]any{"pick_first": map[string]any{}}},
		"methodConfig": []any{map[string]any{
			"name": names,
			"retryPolicy": map[string]any{
				"maxAttempts": 4, "initialBackoff": "0.1s", "maxBackoff": "2s",
				"backoffMultiplier": 2, "retryableStatusCodes": []string{"UNAVAILABLE"},
			},
		}},
	})
	if err != nil {
		panic(err)
	}
	return string(b)
}()

// ConnectTargets opens one client to several servers, e.g. the nodes of a cluster, each
// "host:port". Calls go to the first that accepts a connection and move on to the next when it
// goes away: the targets are given to grpc-go's own resolver/manual, and pick_first tries them in
// order; idempotent calls that fail Unavailable meanwhile are retried (see Connect). One target is
// the same as Connect. The options are Connect's; with TLS, every server must present a
// certificate for the first target's host, or pass grpc.WithAuthority("name") for the name they
// share.
func ConnectTargets(targets []string, opts ...grpc.DialOption) (*Client, error) {
	if len(targets) == 0 {
		return nil, errors.New("orchestrator: at least one target")
	}
	if len(targets) == 1 {
		return Connect(targets[0], opts...)
	}
	endpoints := make([]resolver.Endpoint, 0, len(targets))
	for _, t := range targets {
		t = strings.TrimSpace(t)
		if _, port, err := net.SplitHostPort(t); err != nil || port == "" || strings.Contains(t, "/") {
			return nil, fmt.Errorf("orchestrator: each of several targets is host:port (got %q)", t)
		}
		endpoints = append(endpoints, resolver.Endpoint{Addresses: []resolver.Address{{Addr: t}}})
	}
	r := manual.NewBuilderWithScheme("lightspeed-targets")
	r.InitialState(resolver.State{Endpoints: endpoints})
	// The target's endpoint, the first server, is the default authority (and TLS server name).
	conn, err := grpc.NewClient(r.Scheme()+":///"+strings.TrimSpace(targets[0]),
		append(defaultOptions(opts), grpc.WithResolvers(r))...)
	if err != nil {
		return nil, err
	}
	return &Client{OrchestratorServiceClient: orchestratorv1.NewOrchestratorServiceClient(conn), Conn: conn}, nil
}

// defaultOptions: plaintext when no option is given, and the service config first, so that a
// caller's own grpc.WithDefaultServiceConfig (a later option) wins.
func defaultOptions(opts []grpc.DialOption) []grpc.DialOption {
	if len(opts) == 0 {
		opts = []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	}
	return append([]grpc.DialOption{grpc.WithDefaultServiceConfig(serviceConfig)}, opts...)
}
