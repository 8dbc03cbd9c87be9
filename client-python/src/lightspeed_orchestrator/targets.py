"""Several servers behind one channel: grpcio's own ``ipv4:``/``ipv6:`` address lists.

gRPC C-core (what grpcio is) resolves ``ipv4:10.0.0.1:50051,10.0.0.2:50051`` to every address
listed; pick_first then uses the first that connects and, when that connection breaks, tries the
list again in order on the next call. So a list of IP addresses needs no resolver of ours. C-core
has no scheme for a list of host names (one ``dns:`` name per channel): a list with a host name
is refused; give the nodes one DNS name with an address record each (``dns:///name:50051``).
"""

from __future__ import annotations

import ipaddress
import json
from typing import List, Sequence, Tuple

# The methods that are safe to send again (the Java client's RetryServiceConfig says why):
# enqueues carry an idempotency key, a repeated ack or lease extension changes nothing, and reads.
IDEMPOTENT_METHODS = (
    "EnqueueBatch", "EnqueueBatches", "AckBatch", "AckBatches", "ExtendLease", "GetPipeline",
    "ListPipelines", "ListBatches", "ListRetries", "ListDeadLetters", "ListRuns", "ListAuditLog",
    "GetStatus",
)

# pick_first (gRPC's default, said out loud) and a retry of UNAVAILABLE for the idempotent
# methods only: 4 attempts, backoff 0.1 s doubling to 2 s, as the Java client does.
SERVICE_CONFIG = json.dumps({
    "loadBalancingConfig": [{"pick_first": {}}],
    "methodConfig": [{
        "name": [{"service": "lightspeed.orchestrator.v1.OrchestratorService", "method": m}
                 for m in IDEMPOTENT_METHODS],
        "retryPolicy": {
            "maxAttempts": 4, "initialBackoff": "0.1s", "maxBackoff": "2s",
            "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"],
        },
    }],
})


def channel_target(targets: Sequence[str]) -> Tuple[str, str]:
    """``["10.0.0.1:50051", "10.0.0.2:50051"]`` → (``"ipv4:10.0.0.1:50051,10.0.0.2:50051"``,
    the first target as the default authority). ValueError for a host name, a missing port or a
    mix of IPv4 and IPv6."""
    if len(targets) == 0:
        raise ValueError("at least one target")
    families = set()
    addresses: List[str] = []
    for t in targets:
        host, sep, port = t.strip().rpartition(":")
        host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            ip = None
        if not sep or not port.isdigit() or ip is None:
            raise ValueError(
                f"each of several targets must be IP:PORT (got {t!r}); grpcio lists only IP"
                " addresses: for host names use one DNS name with an address per node,"
                " e.g. dns:///orchestrator.internal:50051")
        families.add(ip.version)
        addresses.append(f"{ip}:{port}" if ip.version == 4 else f"[{ip}]:{port}")
    if len(families) > 1:
        raise ValueError(f"several targets must all be IPv4 or all IPv6 (got {list(targets)})")
    return ("ipv4:" if 4 in families else "ipv6:") + ",".join(addresses), targets[0].strip()
