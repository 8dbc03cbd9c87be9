// Command mtls checks mutual TLS against a server started with --tls-client-ca and exits
// non-zero on a mismatch:
//
//	cd client-go && go run ./examples/mtls 127.0.0.1:50443 ../tls
//
// DIR holds ca.pem, client.pem and client.key (README: "Client certificates"). The client
// certificate lets ListPipelines in; without one the call fails (UNAVAILABLE: the handshake is
// refused); a certificate without its key is an error before any call. With DEAD (an address
// nobody listens on) as a third argument, also TLS with several targets: ConnectTargets([DEAD,
// target]) gets in through the second, checking the certificate for the first target's host, or
// for grpc.WithAuthority's name; a name the certificate lacks fails the handshake.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	v1 "github.com/lightspeed-orchestrator/lightspeed/client-go/gen/lightspeed/orchestrator/v1"
	"github.com/lightspeed-orchestrator/lightspeed/client-go/orchestrator"
)

func main() {
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL", err)
		os.Exit(1)
	}
	if len(os.Args) > 3 {
		if err := severalTargets(os.Args[1], os.Args[2], os.Args[3]); err != nil {
			fmt.Fprintln(os.Stderr, "FAIL", err)
			os.Exit(1)
		}
	}
}

func severalTargets(target, dir, dead string) error {
	creds, err := orchestrator.TLSCredentials(filepath.Join(dir, "ca.pem"), filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key"))
	if err != nil {
		return err
	}
	list := func(opts ...grpc.DialOption) error {
		client, err := orchestrator.ConnectTargets([]string{dead, target}, append([]grpc.DialOption{grpc.WithTransportCredentials(creds)}, opts...)...)
		if err != nil {
			return err
		}
		defer client.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_, err = client.ListPipelines(ctx, &v1.ListPipelinesRequest{})
		return err
	}
	if err := list(); err != nil {
		return fmt.Errorf("several targets: %w", err)
	}
	fmt.Println("ok   mTLS, targets [DEAD, server]: the second one answers")
	if err := list(grpc.WithAuthority("localhost")); err != nil {
		return fmt.Errorf("several targets, WithAuthority(localhost): %w", err)
	}
	fmt.Println("ok   mTLS, targets [DEAD, server], WithAuthority(localhost): the second one answers")
	if code := status.Code(list(grpc.WithAuthority("wrong.example"))); code != codes.Unavailable && code != codes.DeadlineExceeded {
		return fmt.Errorf("several targets, a name the certificate lacks: want UNAVAILABLE, got %v", code)
	}
	fmt.Println("ok   mTLS, several targets: a name the certificate lacks fails the handshake")
	return nil
}

func run(target, dir string) error {
	ca, cert, key := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	creds, err := orchestrator.TLSCredentials(ca, cert, key)
	if err != nil {
		return err
	}
	client, err := orchestrator.Connect(target, grpc.WithTransportCredentials(creds))
	if err != nil {
		return err
	}
	defer client.Close()
	reply, err := client.ListPipelines(ctx, &v1.ListPipelinesRequest{})
	if err != nil {
		return fmt.Errorf("with a client certificate: %w", err)
	}
	found := false
	for _, p := range reply.GetPipelines() {
		found = found || p.GetName() == "orders"
	}
	if !found {
		return fmt.Errorf("pipeline orders not listed: %v", reply)
	}
	fmt.Println("ok   mTLS: the client certificate lets ListPipelines in")

	caOnly, err := orchestrator.TLSCredentials(ca, "", "")
	if err != nil {
		return err
	}
	stranger, err := orchestrator.Connect(target, grpc.WithTransportCredentials(caOnly))
	if err != nil {
		return err
	}
	defer stranger.Close()
	_, err = stranger.ListPipelines(ctx, &v1.ListPipelinesRequest{})
	if status.Code(err) != codes.Unavailable {
		return fmt.Errorf("without a client certificate: want UNAVAILABLE, got %v", err)
	}
	fmt.Println("ok   mTLS: without a client certificate the call fails (UNAVAILABLE)")

	if _, err := orchestrator.TLSCredentials(ca, cert, ""); err == nil {
		return fmt.Errorf("a certificate without its key was accepted")
	}
	fmt.Println("ok   mTLS: a certificate without its key is refused at once")
	return nil
}
