#!/usr/bin/env python3
"""Every metric the Grafana dashboard's PromQL names exists on a real server.

    check_dashboard.py DASHBOARD.json TARGET METRICS_URL [CLUSTER_METRICS_URL]

The metrics only a cluster node exports (lightspeed_raft_*) are looked up on
CLUSTER_METRICS_URL, the /metrics of a cluster node (polled for up to 30 s while its groups elect
their leaders); the others on METRICS_URL. Drives the server at TARGET (plaintext, the Python client) so that every counter has a sample:
enqueues (one deduplicated), starts, acks, a retried and a dead-lettered failure, a stale failure
report, a lease that expires, a refused call; then scrapes METRICS_URL and fails, naming each,
when a metric of an `expr` has no sample line. Prints one line per metric.
"""

import json
import re
import sys
import time
import urllib.request

from lightspeed_orchestrator import Client, OrchestratorError, pb

# PromQL words that look like metric names but are not.
NOT_METRICS = {"sum", "by", "rate", "max", "histogram_quantile", "le", "method", "code", "reason",
               "pipeline", "stage", "mode", "area", "without", "on", "ignoring", "group",
               "increase"}
CLUSTER_ONLY = "lightspeed_raft_"


def dashboard_metrics(path):
    exprs = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("expr"), str):
                exprs.append(node["expr"])
            if isinstance(node.get("query"), dict) and isinstance(node["query"].get("query"), str):
                exprs.append(node["query"]["query"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(json.load(open(path, encoding="utf-8")))
    names = set()
    for e in exprs:
        e = re.sub(r'"[^"]*"', '""', e)          # label values
        e = re.sub(r"\[[^\]]*\]", "", e)         # range selectors
        for m in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", e):
            word = m.group(0)
            if word in NOT_METRICS or word.startswith("$") or e[m.end():m.end() + 1] == "(":
                continue
            if e[max(0, m.start() - 1)] == "$":
                continue
            names.add(word)
    return exprs, names


def exercise(target):
    client = Client(target)
    name = f"dash-{time.time_ns()}"
    client.CreatePipeline(pb.CreatePipelineRequest(spec=pb.PipelineSpec(
        name=name, stages=["extract"],
        connectors=[pb.Connector(name="src", kind=pb.CONNECTOR_KIND_SOURCE, stage="extract")],
        boundary=pb.Boundary(lease_ms=300),
        retry=pb.RetryPolicy(max_attempts=2, initial_backoff_ms=0))))

    def enqueue(key, sequence):
        return client.EnqueueBatch(pb.EnqueueBatchRequest(pipeline=name, batch=pb.Batch(
            key=key, stage="extract", records=10, idempotency_key=key, sequence=sequence)))

    for i, key in enumerate(["a", "b", "c", "d"], start=1):
        enqueue(key, i)
    enqueue("a", 1)  # deduplicated
    started = {s.started.batch.key: s.started for s in client.StartAvailable(
        pb.StartAvailableRequest(pipeline=name, max_batches=3))}
    client.AckBatch(pb.AckBatchRequest(pipeline=name, key="a", attempt=started["a"].attempt))
    client.FailBatch(pb.FailBatchRequest(pipeline=name, key="b", attempt=started["b"].attempt,
                                         reason="retryable"))
    client.FailBatch(pb.FailBatchRequest(pipeline=name, key="c", attempt=started["c"].attempt,
                                         reason="permanent", non_retryable=True))
    client.FailBatch(pb.FailBatchRequest(pipeline=name, key="c", attempt=started["c"].attempt,
                                         reason="stale"))  # failure_rejected
    # d starts and its 300 ms lease runs out; the next StartAvailable expires it.
    list(client.StartAvailable(pb.StartAvailableRequest(pipeline=name, max_batches=10)))
    time.sleep(1.0)
    list(client.StartAvailable(pb.StartAvailableRequest(pipeline=name, max_batches=10)))
    try:
        client.GetStatus(pb.GetStatusRequest(pipeline="no-such-pipeline"))
    except OrchestratorError:
        pass  # counted in lightspeed_rejections_total
    client.close()


def sample_names(url):
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    names = set()
    for line in text.splitlines():
        if line and not line.startswith("#"):
            names.add(re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0))
    return names


def main():
    path, target, url = sys.argv[1:4]
    cluster_url = sys.argv[4] if len(sys.argv) > 4 else None
    exprs, wanted = dashboard_metrics(path)
    if not exprs or not wanted:
        sys.exit(f"{path}: no PromQL expression found")
    exercise(target)
    have = sample_names(url)
    cluster_wanted = {n for n in wanted if n.startswith(CLUSTER_ONLY)}
    if cluster_wanted:
        if cluster_url is None:
            sys.exit(f"{path} names cluster metrics {sorted(cluster_wanted)}: pass a cluster"
                     " node's /metrics URL as the fourth argument")
        deadline = time.time() + 30
        while True:
            cluster_have = sample_names(cluster_url)
            if cluster_wanted <= cluster_have or time.time() > deadline:
                break
            time.sleep(0.5)
        have |= cluster_have & cluster_wanted
    missing = sorted(wanted - have)
    for n in sorted(wanted):
        print(("ok   " if n in have else "FAIL ") + n)
    print(f"dashboard: {len(exprs)} expressions, {len(wanted)} metrics, {len(missing)} missing")
    if missing:
        sys.exit(1)


if __name__ == "__main__":
    main()
