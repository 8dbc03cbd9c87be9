#!/usr/bin/env bash
# BullMQ peer benchmark: starts Debian's redis-server on a free loopback port (no persistence,
# in a scratch directory), installs bullmq 6.7.0 here (npm), runs bench.js, stops Redis.
#   bash bench/peer/bullmq/run.sh [N] [workloads]
# Needs redis-server (Debian: apt-get install redis-server) and Node >= 20.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
n="${1:-20000}"
workloads="${2:-enqueue,lifecycle,retry,dlq}"

if ! command -v redis-server >/dev/null; then
  echo "bullmq peer: redis-server not found; install Debian's package: sudo apt-get install -y redis-server" >&2
  exit 1
fi
if [[ ! -d node_modules/bullmq ]]; then
  npm install --no-audit --no-fund --silent
fi

work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
redis-server --bind 127.0.0.1 --port "${port}" --save '' --appendonly no --dir "${work}" \
  --daemonize no >"${work}/redis.log" 2>&1 &
redis_pid=$!
trap 'kill "${redis_pid}" 2>/dev/null || true; wait "${redis_pid}" 2>/dev/null || true; rm -rf "${work}"' EXIT
for _ in $(seq 1 100); do
  if redis-cli -p "${port}" ping >/dev/null 2>&1; then
    break
  fi
  sleep 0.1
done
echo "bullmq peer: redis-server $(redis-server --version | awk '{print $3}') on 127.0.0.1:${port}" >&2
node bench.js "${port}" "${n}" "${workloads}"
