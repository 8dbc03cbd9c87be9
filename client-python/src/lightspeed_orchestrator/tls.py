"""TLS channel credentials from PEM files, with a client certificate for mutual TLS."""

from __future__ import annotations

from typing import Optional

import grpc


def tls_credentials(
    ca_file: Optional[str] = None,
    cert_file: Optional[str] = None,
    key_file: Optional[str] = None,
) -> grpc.ChannelCredentials:
    """Channel credentials for ``Client(target, credentials=...)``.

    ``ca_file``: PEM certificates to trust (e.g. a private CA); default the system's roots.
    ``cert_file`` and ``key_file``: the client certificate chain and its private key (PEM), for a
    server started with ``--tls-client-ca`` (mutual TLS); give both or neither (ValueError).
    The files are read now, so a missing one raises OSError here, not at the first call.
    """
    if (cert_file is None) != (key_file is None):
        raise ValueError("cert_file and key_file go together")
    ca = _read(ca_file) if ca_file is not None else None
    cert = _read(cert_file) if cert_file is not None else None
    key = _read(key_file) if key_file is not None else None
    return grpc.ssl_channel_credentials(root_certificates=ca, private_key=key, certificate_chain=cert)


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()
