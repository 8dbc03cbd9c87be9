#!/usr/bin/env bash
# The Work stream against BullMQ, in one run on one machine (issue 19's targets):
#   1. the same workloads on BullMQ + a Redis started here (bench/peer/bullmq/run.sh);
#   2. a durable server (the shaded jar, loopback, its own JVM) and, one after another, the
#      Node, Python, Go and Java load generators (bench/clients, ClientLoadGen), each one process
#      with 64 outstanding through its client's batching producer and continuous worker;
#   3. the time-driven start latency (retry time / lease expiry → start; Node client).
# The server is warmed up first with the same workloads until its rate settles (not recorded).
# n (batches per client and workload) defaults to 20,000: at 5,000 an enqueue lasted 0.1 s.
# Installs what it needs first (clients' tools, the TypeScript client's build, bullmq via npm ci,
# redis-server via apt-get). Writes bench/results/peer.jsonl (one JSON line per client and
# workload, with the server's CPU per item from /proc) and bench/results/peer.md (the table).
#   bench/scripts/run-peer-bench.sh [--n N] [--clients bullmq,node,python,go,java]
#                                   [--workloads enqueue,lifecycle,retry,dlq] [--no-timing]
#                                   [--redis-fsync-variants]   (BullMQ again with appendfsync
#                                    everysec and always: about 2 min more)
set -euo pipefail
cd "$(dirname "$0")/../.."

n=20000
clients=bullmq,node,python,go,java
workloads=enqueue,lifecycle,retry,dlq
timing=1
fsync_variants=0
usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --n) n="${2:?}"; shift 2 ;;
    --clients) clients="${2:?}"; shift 2 ;;
    --workloads) workloads="${2:?}"; shift 2 ;;
    --no-timing) timing=0; shift ;;
    --redis-fsync-variants) fsync_variants=1; shift ;;
    -h | --help) usage ;;
    *) echo "run-peer-bench: unknown argument $1" >&2; usage ;;
  esac
done
[[ "${n}" =~ ^[1-9][0-9]*$ ]] || { echo "run-peer-bench: --n must be a positive integer (got ${n})" >&2; exit 2; }
if [[ "${PEER_BENCH_DRY_RUN:-}" == 1 ]]; then # argument parsing only (make test's smoke)
  echo "n=${n} clients=${clients} workloads=${workloads} timing=${timing} fsync_variants=${fsync_variants}"
  exit 0
fi

OUT=bench/results
JAR=bench/target/benchmarks.jar
# SERVER_JAR=... measures another build of the server (e.g. a before/after pair in one session).
SERVER_JAR="${SERVER_JAR:-server/target/lightspeed-orchestrator-server-0.1.0-SNAPSHOT-all.jar}"
SERVER_JVM="${SERVER_JVM:--Xms2g -Xmx2g -XX:+UseG1GC}"
for f in "${JAR}" "${SERVER_JAR}"; do
  [[ -f "${f}" ]] || { echo "missing ${f}: run 'make build' first" >&2; exit 1; }
done
mkdir -p "${OUT}"
has() { [[ ",${clients}," == *",$1,"* ]]; }

echo "run-peer-bench: installing what the load generators need" >&2
if has node || has python || [[ "${timing}" == 1 ]]; then
  bash scripts/clients-tools.sh >&2
fi
if (has node || [[ "${timing}" == 1 ]]) && [[ ! -f client-typescript/dist/src/index.js ||
    -n "$(find client-typescript/src -newer client-typescript/dist/src/index.js -print -quit)" ]]; then
  (cd client-typescript && npm run build --silent) >&2
fi
if has go; then
  (cd bench/clients/go && go build -o "../../../${OUT}/loadgen-go" .)
fi
if has bullmq; then
  bash bench/peer/bullmq/install.sh
fi

results="${OUT}/peer.jsonl"
: >"${results}"
{
  echo "started $(date -u +%FT%TZ); n=${n}; load average $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
  echo "node $(node --version); $(.venv/bin/python --version 2>&1); $(go version | cut -d' ' -f3); java $(java -version 2>&1 | head -1 | cut -d'"' -f2)"
} >"${OUT}/peer-machine.txt"

if has bullmq; then
  echo "run-peer-bench: BullMQ" >&2
  bash bench/peer/bullmq/run.sh "${n}" "${workloads}" 2>>"${OUT}/peer-machine.txt" | tee -a "${results}"
  if [[ "${fsync_variants}" == 1 ]]; then
    for f in everysec always; do
      REDIS_APPENDFSYNC="${f}" bash bench/peer/bullmq/run.sh "${n}" "${workloads}" 2>/dev/null \
        | sed 's/"client":"bullmq"/"client":"bullmq-fsync-'"${f}"'"/' | tee -a "${results}"
    done
  fi
fi

data="${OUT}/data-peer"
rm -rf "${data}"
log="${OUT}/server-peer.log"
# shellcheck disable=SC2086
java ${SERVER_JVM} -jar "${SERVER_JAR}" --bind 127.0.0.1 --port 0 --data-dir "${data}" >"${log}" 2>&1 &
server=$!
trap 'kill "${server}" 2>/dev/null || true; wait "${server}" 2>/dev/null || true' EXIT
port=""
for _ in $(seq 1 600); do
  port="$(grep -oE 'listening on [^: ]+:[0-9]+' "${log}" | head -1 | sed 's/.*://')" || true
  [[ -n "${port}" ]] && break
  kill -0 "${server}" 2>/dev/null || { cat "${log}" >&2; exit 1; }
  sleep 0.1
done
[[ -n "${port}" ]] || { echo "server did not start (see ${log})" >&2; exit 1; }
target="127.0.0.1:${port}"
echo "server: java ${SERVER_JVM} -jar ${SERVER_JAR} --bind 127.0.0.1 --port 0 --data-dir ${data} (durable)" >>"${OUT}/peer-machine.txt"

# Warm-up, not recorded: the server's JIT compiles its hot paths here, so the first client
# measured does not pay for it (Redis, in C, needs none). One pass of the workloads is not enough
# on 2 busy cores: measured on one server, the Go client's enqueue rate climbed from 17k/s to
# 75-117k/s over its first ~20 passes of 50,000 (C2 compiles the hot paths late). So passes
# repeat until two in a row agree on the enqueue rate within 10 % (at least 4, at most 20); the
# rates go to peer-machine.txt. The Go load generator if built, else Node.
echo "run-peer-bench: warming the server up until its enqueue rate settles (not measured)" >&2
warm_rates=()
warm_start=${SECONDS}
for pass in $(seq 1 20); do
  if [[ -x "${OUT}/loadgen-go" ]]; then
    warm() { "${OUT}/loadgen-go" "${target}" "$@"; }
  else
    warm() { node bench/clients/node/loadgen.js "${target}" "$@"; }
  fi
  # A pass whose connection was refused (seen twice in six runs right after "listening on")
  # is tried again, up to 3 times, instead of ending the whole run.
  rate=""
  for attempt in 1 2 3; do
    rate="$(warm 50000 enqueue | python3 -c 'import json,sys; print(round(json.loads(sys.stdin.readline())["rate"]))')" && break
    echo "run-peer-bench: warm-up pass failed (attempt ${attempt}); trying again in 1 s" >&2
    sleep 1
  done
  [[ -n "${rate}" ]] || { echo "run-peer-bench: the server did not take the warm-up load (see ${log})" >&2; exit 1; }
  warm 20000 lifecycle >/dev/null
  warm 2000 retry,dlq >/dev/null
  warm_rates+=("${rate}")
  if ((pass >= 4)); then
    prev="${warm_rates[-2]}"
    if python3 -c 'import sys; a,b=map(float,sys.argv[1:]); sys.exit(0 if abs(a-b) <= 0.1*max(a,b) else 1)' "${prev}" "${rate}"; then
      break
    fi
  fi
done
echo "warm-up: ${#warm_rates[@]} passes in $((SECONDS - warm_start)) s; the Go client's enqueue rate per pass: ${warm_rates[*]} /s" | tee -a "${OUT}/peer-machine.txt" >&2

# The server's CPU ticks (utime + stime; USER_HZ) so far.
ticks() { awk '{print $14 + $15}' "/proc/${server}/stat"; }
# Runs one load generator for one workload and adds the server's CPU per item to its line. A
# generator that warms itself up first (the Java one: its JIT) prints {"warmed":true} when the
# measured part starts; the server's CPU is counted from there.
measure() {
  local before after line out
  before="$(ticks)"
  line=""
  while IFS= read -r out; do
    if [[ "${out}" == '{"warmed":true}' ]]; then
      before="$(ticks)"
    else
      line="${out}"
    fi
  done < <("$@")
  after="$(ticks)"
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["server_cpu_us_per_item"]=(int(sys.argv[3])-int(sys.argv[2]))*1e6/int(sys.argv[4])/d["items"]; print(json.dumps(d))' \
    "${line}" "${before}" "${after}" "$(getconf CLK_TCK)" | tee -a "${results}"
}
for c in node python go java; do
  has "${c}" || continue
  echo "run-peer-bench: ${c} client" >&2
  for w in ${workloads//,/ }; do
    case "${c}" in
      node) measure node bench/clients/node/loadgen.js "${target}" "${n}" "${w}" ;;
      python) measure .venv/bin/python bench/clients/python/loadgen.py "${target}" "${n}" "${w}" ;;
      go) measure "${OUT}/loadgen-go" "${target}" "${n}" "${w}" ;;
      java) measure java -Xms512m -Xmx512m -cp "${JAR}" dev.lightspeed.orchestrator.bench.ClientLoadGen "${target}" "${n}" "${w}" ;;
    esac
  done
done
if [[ "${timing}" == 1 ]]; then
  echo "run-peer-bench: time-driven starts (retry time, lease expiry)" >&2
  node bench/clients/node/loadgen.js "${target}" 0 retry-start,lease-start | tee -a "${results}"
fi
python3 bench/scripts/peer-table.py "${results}" "${OUT}/peer-machine.txt" >"${OUT}/peer.md"
cat "${OUT}/peer.md"
java -cp "${JAR}" dev.lightspeed.orchestrator.bench.Report write --results "${OUT}" --out BENCHMARKS.md
