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
.venv/bin/python scripts/check_dashboard.py examples/grafana/lightspeed-dashboard.json \
  "${SERVER_ADDR}" "http://127.0.0.1:${metrics_port}/metrics"
grep -q 'targets: \["orchestrator:9464"\]' examples/prometheus/prometheus.yml
grep -q -- '--metrics-port' examples/compose.yaml
echo "dashboard-test: ok"
