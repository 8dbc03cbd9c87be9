"""Mutual TLS against a server started with --tls-client-ca; exits non-zero on a mismatch.

    .venv/bin/python client-python/examples/mtls.py 127.0.0.1:50443 tls/

DIR holds ca.pem, client.pem and client.key (README: "Client certificates"). Checks that the
client certificate lets ListPipelines in, that without one the call fails (UNAVAILABLE: the
handshake is refused), and that a certificate without its key is refused before any call.
"""

import sys

import grpc

from lightspeed_orchestrator import Client, OrchestratorError, pb, tls_credentials


def main(target: str, d: str) -> None:
    creds = tls_credentials(f"{d}/ca.pem", f"{d}/client.pem", f"{d}/client.key")
    with Client(target, credentials=creds) as client:
        names = [p.name for p in client.ListPipelines(pb.ListPipelinesRequest(), timeout=10).pipelines]
        assert "orders" in names, names
    print("ok   mTLS: the client certificate lets ListPipelines in")

    with Client(target, credentials=tls_credentials(f"{d}/ca.pem")) as client:
        try:
            client.ListPipelines(pb.ListPipelinesRequest(), timeout=10)
            raise AssertionError("a call without a client certificate succeeded")
        except OrchestratorError as e:
            assert e.code == grpc.StatusCode.UNAVAILABLE, e
    print("ok   mTLS: without a client certificate the call fails (UNAVAILABLE)")

    try:
        tls_credentials(f"{d}/ca.pem", cert_file=f"{d}/client.pem")
        raise AssertionError("a certificate without its key was accepted")
    except ValueError:
        pass
    print("ok   mTLS: a certificate without its key is refused at once")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
