#!/usr/bin/env bash
# BullMQ peer benchmark: starts Debian's redis-server on a free loopback port (in a scratch
# directory), installs bullmq from package-lock.json here (npm ci), runs bench.js, stops Redis.
#   bash bench/peer/bullmq/run.sh [N] [workloads]
# REDIS_APPENDFSYNC=no (default: no persistence at all, as in BullMQ's own benchmarks) |
# everysec | always (an append-only file fsynced that often: comparable durability).
# Installs redis-server with apt-get when it is missing (as root, or with sudo); needs Node >= 20.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
n="${1:-20000}"
workloads="${2:-enqueue,lifecycle,retry,dlq}"
fsync="${REDIS_APPENDFSYNC:-no}"

bash ./install.sh

work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
case "${fsync}" in
  no) persistence=(--save '' --appendonly no) ;;
  everysec | always) persistence=(--save '' --appendonly yes --appendfsync "${fsync}") ;;
  *) echo "REDIS_APPENDFSYNC must be no, everysec or always (got ${fsync})" >&2; exit 2 ;;
esac
redis-server --bind 127.0.0.1 --port "${port}" "${persistence[@]}" --dir "${work}" \
  --daemonize no >"${work}/redis.log" 2>&1 &
redis_pid=$!
trap 'kill "${redis_pid}" 2>/dev/null || true; wait "${redis_pid}" 2>/dev/null || true; rm -rf "${work}"' EXIT
for _ in $(seq 1 100); do
  if redis-cli -p "${port}" ping >/dev/null 2>&1; then
    break
  fi
  sleep 0.1
done
echo "bullmq peer: redis-server $(redis-server --version | awk '{print $3}') on 127.0.0.1:${port}," \
  "appendfsync ${fsync}; bullmq $(node -p 'require("bullmq/package.json").version')" >&2
REDIS_PID="${redis_pid}" REDIS_APPENDFSYNC="${fsync}" node bench.js "${port}" "${n}" "${workloads}"
