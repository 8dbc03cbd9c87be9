"""Mutual TLS against a server started with --tls-client-ca; exits non-zero on a mismatch.

    .venv/bin/python client-python/examples/mtls.py 127.0.0.1:50443 tls/

DIR holds ca.pem, client.pem and client.key (README: "Client certificates"). Checks that the
client certificate lets ListPipelines in, that without one the call fails (UNAVAILABLE: the
handshake is refused), and that a certificate without its key is refused before any call.
With DEAD (an address nobody listens on) as a third argument, also TLS with several targets:
Client([DEAD, target]) gets in through the second, checking the certificate for the first
target's host, or for ``server_name``; a wrong ``server_name`` fails the handshake; and a
StreamWorker on that client (its own grpc.aio channel, with the same credentials and targets)
handles a batch.
"""

import sys
import time
import uuid

import grpc

from lightspeed_orchestrator import Client, OrchestratorError, StreamWorker, StreamWorkerOptions, pb, tls_credentials


def stream_worker(client: Client) -> None:
    name = f"mtls-{uuid.uuid4().hex[:8]}"
    client.CreatePipeline(pb.CreatePipelineRequest(spec=pb.PipelineSpec(
        name=name, stages=["work"],
        connectors=[pb.Connector(name="src", kind=pb.CONNECTOR_KIND_SOURCE, stage="work")])), timeout=20)
    client.EnqueueBatch(pb.EnqueueBatchRequest(pipeline=name, batch=pb.Batch(
        key="k", stage="work", records=1, sequence=1, idempotency_key="k")), timeout=20)
    worker = StreamWorker(client, lambda started: None, StreamWorkerOptions(pipeline=name)).start()
    try:
        deadline = time.monotonic() + 20
        while worker.stats().acked < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        worker.stop()
    assert worker.stats().acked == 1, worker.stats()
    client.DeletePipeline(pb.DeletePipelineRequest(name=name, force=True), timeout=20)
    print("ok   mTLS, several targets: a StreamWorker (grpc.aio channel) handles a batch")


def several_targets(target: str, d: str, dead: str) -> None:
    creds = tls_credentials(f"{d}/ca.pem", f"{d}/client.pem", f"{d}/client.key")
    for server_name in (None, "localhost"):
        with Client([dead, target], credentials=creds, server_name=server_name) as client:
            names = [p.name for p in client.ListPipelines(pb.ListPipelinesRequest(), timeout=20).pipelines]
            assert "orders" in names, names
            print(f"ok   mTLS, targets [DEAD, server], server_name {server_name}: the second one answers")
            stream_worker(client)
    with Client([dead, target], credentials=creds, server_name="wrong.example") as client:
        try:
            client.ListPipelines(pb.ListPipelinesRequest(), timeout=20)
            raise AssertionError("a certificate without the server name was accepted")
        except OrchestratorError as e:
            assert e.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED), e
    print("ok   mTLS, several targets: a server_name the certificate lacks fails the handshake")


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
    if len(sys.argv) > 3:
        several_targets(sys.argv[1], sys.argv[2], sys.argv[3])
