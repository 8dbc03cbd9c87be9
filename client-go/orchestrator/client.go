package orchestrator

import (
	"google.golang.org/grpc"

	orchestratorv1 "github.com/lightspeed-orchestrator/lightspeed/client-go/gen/lightspeed/orchestrator/v1"
)

// Client is the generated OrchestratorServiceClient on its own connection.
type Client struct {
	orchestratorv1.OrchestratorServiceClient
	Conn *grpc.ClientConn
}

// Connect opens a client to target ("host:port"). Without options it uses plaintext
// (insecure) transport credentials; pass grpc.WithTransportCredentials to use TLS, and
// grpc.WithPerRPCCredentials(BearerToken(...)) for a server started with --token-file.
// The connection is made lazily, on the first call. The idempotent calls (enqueues, acks,
// ExtendLease, reads) are retried by the connection on Unavailable, up to 4 attempts within the
// call's deadline; a replayed enqueue is deduplicated by its idempotency key. For several
// servers, see ConnectTargets.
func Connect(target string, opts ...grpc.DialOption) (*Client, error) {
	conn, err := grpc.NewClient(target, defaultOptions(opts)...)
	if err != nil {
		return nil, err
	}
	return &Client{OrchestratorServiceClient: orchestratorv1.NewOrchestratorServiceClient(conn), Conn: conn}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.Conn.Close() }
