#!/usr/bin/env bash
# The Grafana dashboard (examples/grafana/lightspeed-dashboard.json) names only metrics the
# server exports: starts the real server jar with --metrics-port on free loopback ports, drives
# it so every counter has a sample, scrapes /metrics and compares (scripts/check_dashboard.py).
# Also checks that examples/prometheus/prometheus.yml scrapes /metrics on the port compose.yaml
# gives the server.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib-server.sh
bash scripts/clients-tools.sh
trap 'stop_server; rm -rf "${SERVER_DATA:-}"' EXIT
metrics_port="$(free_port)"
start_server --in-memory --metrics-port "${metrics_port}"
# A one-node cluster (replication factor 1) for the cluster-only metrics (lightspeed_raft_*).
cluster_dir="$(mktemp -d -t lightspeed-cluster.XXXXXX)"
cluster_metrics="$(free_port)"
cat >"${cluster_dir}/cluster.json" <<EOF
{"name": "dash", "groups": 2, "replicationFactor": 1, "peers": [{"id": "n1",
 "raftAddress": "127.0.0.1:$(free_port)", "apiAddress": "127.0.0.1:$(free_port)"}]}
EOF
java -jar "$SERVER_JAR" --cluster "${cluster_dir}/cluster.json" --node-id n1 \
  --data-dir "${cluster_dir}/data" --metrics-port "${cluster_metrics}" >"${cluster_dir}/log" 2>&1 &
cluster_pid=$!
trap 'kill "${cluster_pid}" 2>/dev/null || true; wait "${cluster_pid}" 2>/dev/null || true
  rm -rf "${cluster_dir}"; stop_server; rm -rf "${SERVER_DATA:-}"' EXIT
for _ in $(seq 1 600); do
  grep -q "event=cluster_node_listening" "${cluster_dir}/log" && break
  kill -0 "${cluster_pid}" 2>/dev/null || { cat "${cluster_dir}/log" >&2; exit 1; }
  sleep 0.1
done
.venv/bin/python scripts/check_dashboard.py examples/grafana/lightspeed-dashboard.json \
  "${SERVER_ADDR}" "http://127.0.0.1:${metrics_port}/metrics" \
  "http://127.0.0.1:${cluster_metrics}/metrics"
grep -q 'targets: \["orchestrator:9464"\]' examples/prometheus/prometheus.yml
grep -q -- '--metrics-port' examples/compose.yaml
echo "dashboard-test: ok"
