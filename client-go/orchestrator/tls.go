package orchestrator

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"google.golang.org/grpc/credentials"
)

// TLSCredentials returns transport credentials for Connect (grpc.WithTransportCredentials) from
// PEM files. caFile: the certificates to trust (e.g. a private CA); "" = the system's roots.
// certFile and keyFile: the client certificate chain and its private key, for a server started
// with --tls-client-ca (mutual TLS); give both or neither. The files are read now, so a missing
// or bad one is an error here rather than at the first call.
//
//	creds, err := orchestrator.TLSCredentials("tls/ca.pem", "tls/client.pem", "tls/client.key")
//	if err != nil { ... }
//	client, err := orchestrator.Connect("127.0.0.1:50443", grpc.WithTransportCredentials(creds))
func TLSCredentials(caFile, certFile, keyFile string) (credentials.TransportCredentials, error) {
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("orchestrator: certFile and keyFile go together")
	}
	config := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("orchestrator: CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("orchestrator: no PEM certificate in %s", caFile)
		}
		config.RootCAs = pool
	}
	if certFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("orchestrator: client certificate: %w", err)
		}
		config.Certificates = []tls.Certificate{pair}
	}
	return credentials.NewTLS(config), nil
}
