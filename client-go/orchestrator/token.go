package orchestrator

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/grpc/credentials"
)

// BearerToken returns per-RPC credentials that send "authorization: Bearer <token>" on every
// call, streams included, for a server started with --token-file. Pass them to Connect with
// grpc.WithPerRPCCredentials, beside the transport credentials:
//
//	creds, err := orchestrator.BearerToken(os.Getenv("LIGHTSPEED_TOKEN"))
//	if err != nil { ... }
//	client, err := orchestrator.Connect("orchestrator.example.com:50443",
//		grpc.WithTransportCredentials(credentials.NewClientTLSFromCert(pool, "")),
//		grpc.WithPerRPCCredentials(creds))
//
// An empty or blank token is an error. Surrounding spaces are stripped.
//
// The token is a secret: use it with TLS. The credentials do not require transport security
// (RequireTransportSecurity is false), like the Java client's bearerToken, so that they also
// work over plaintext (insecure.NewCredentials()) to a server on loopback; nothing stops them
// from being sent in clear text over any other plaintext connection.
func BearerToken(token string) (credentials.PerRPCCredentials, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, errors.New("orchestrator: bearer token must not be empty")
	}
	return bearerToken{value: "Bearer " + token}, nil
}

type bearerToken struct{ value string }

func (b bearerToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": b.value}, nil
}

func (bearerToken) RequireTransportSecurity() bool { return false }
