#!/usr/bin/env bash
# make run-cluster / make stop-cluster: three local nodes of examples/cluster-local.json (or
# CLUSTER=FILE), each a background java process with its data under data/cluster/<node>/ and
# its log in data/cluster/<node>.log; pids in data/cluster/<node>.pid.
#   scripts/cluster-local.sh start JAR    starts the nodes not running, waits until each serves
#   scripts/cluster-local.sh stop         stops them (SIGTERM: a graceful stop) and waits
# With METRICS_PORT_BASE=B (and/or HTTP_PORT_BASE=H) the k-th node of the file also serves
# /metrics on B+k (the dashboard on H+k): METRICS_PORT_BASE=9470 HTTP_PORT_BASE=8090 gives n1
# 9471 and 8091, n2 9472 and 8092, n3 9473 and 8093. ARGS (the same for every node) is added as is.
set -euo pipefail
cd "$(dirname "$0")/.."
CLUSTER=${CLUSTER:-examples/cluster-local.json}
ROOT=${CLUSTER_DATA:-data/cluster}
WAIT_SECONDS=${WAIT_SECONDS:-60}

nodes() {
  python3 -c 'import json,sys
for p in json.load(open(sys.argv[1]))["peers"]: print(p["id"], p["apiAddress"])' "$CLUSTER"
}

running() { [ -f "$ROOT/$1.pid" ] && kill -0 "$(cat "$ROOT/$1.pid")" 2>/dev/null; }

serves() { # the node's API port accepts connections
  python3 -c 'import socket,sys
h,p=sys.argv[1].rsplit(":",1); s=socket.create_connection((h.strip("[]"),int(p)),1); s.close()' "$1" 2>/dev/null
}

case "${1:-}" in
  start)
    JAR=$2
    mkdir -p "$ROOT"
    k=0
    while read -r id api; do
      k=$((k + 1))
      if running "$id"; then echo "$id already running (pid $(cat "$ROOT/$id.pid"))"; continue; fi
      ports=()
      if [ -n "${METRICS_PORT_BASE:-}" ]; then ports+=(--metrics-port $((METRICS_PORT_BASE + k))); fi
      if [ -n "${HTTP_PORT_BASE:-}" ]; then ports+=(--http-port $((HTTP_PORT_BASE + k))); fi
      nohup java -XX:+ExitOnOutOfMemoryError -jar "$JAR" --cluster "$CLUSTER" --node-id "$id" --data-dir "$ROOT/$id" \
        "${ports[@]}" ${ARGS:-} >"$ROOT/$id.log" 2>&1 &
      echo $! >"$ROOT/$id.pid"
    done < <(nodes)
    deadline=$((SECONDS + WAIT_SECONDS))
    while read -r id api; do
      # Listening is logged once the API, /metrics and the dashboard all serve.
      until serves "$api" && grep -q "event=cluster_node_listening" "$ROOT/$id.log"; do
        if ! running "$id"; then
          echo "node $id stopped; the end of $ROOT/$id.log:" >&2; tail -20 "$ROOT/$id.log" >&2; exit 1
        fi
        if [ $SECONDS -gt $deadline ]; then
          echo "node $id does not serve $api after ${WAIT_SECONDS}s; see $ROOT/$id.log" >&2; exit 1
        fi
        sleep 0.2
      done
      extra=""
      grep -q "event=metrics_listening" "$ROOT/$id.log" 2>/dev/null \
        && extra+=", metrics $(grep -o 'metrics on http://[^ ]*' "$ROOT/$id.log" | tail -1 | cut -d' ' -f3)"
      grep -q "event=http_listening" "$ROOT/$id.log" 2>/dev/null \
        && extra+=", dashboard $(grep -o 'dashboard on http[^ ]*' "$ROOT/$id.log" | tail -1 | cut -d' ' -f3)"
      echo "$id serves $api (pid $(cat "$ROOT/$id.pid"), log $ROOT/$id.log${extra})"
    done < <(nodes)
    echo "stop them with: make stop-cluster"
    ;;
  stop)
    while read -r id api; do
      if running "$id"; then
        pid=$(cat "$ROOT/$id.pid")
        kill "$pid"
        for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        if kill -0 "$pid" 2>/dev/null; then echo "$id (pid $pid) did not stop in 30 s; kill -9"; kill -9 "$pid"; fi
        echo "$id stopped (pid $pid)"
      fi
      rm -f "$ROOT/$id.pid"
    done < <(nodes)
    ;;
  *)
    echo "usage: $0 start JAR | stop" >&2; exit 2
    ;;
esac
