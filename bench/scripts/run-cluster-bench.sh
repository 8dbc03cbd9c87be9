#!/usr/bin/env bash
# The cluster's benchmarks (issue 17, docs/cluster.md), then BENCHMARKS.md:
#   1. fail-over: 3 nodes, SIGKILL of a group's leader 10 times and SIGSTOP 5 times under a write
#      load; the time to the first accepted write after each (ClusterBench);
#      then catch-up: a follower killed, 1M queued batches written (500k with --quick) and the log
#      purged to a snapshot, the follower restarted and timed until it has applied them all;
#   2. throughput: the same unary and bulk load cases on one durable server and on a 3-node
#      cluster, in one run (LoadGenerator --modes durable,cluster).
# Results go to bench/results/cluster/ (the single-server results are left as they are).
#   bench/scripts/run-cluster-bench.sh [--quick]   (--quick: 3 kills, 1 stop, 500k batches, short cases)
set -euo pipefail
cd "$(dirname "$0")/../.."

JAR=bench/target/benchmarks.jar
OUT=bench/results/cluster
SERVER_JAR="${SERVER_JAR:-server/target/lightspeed-orchestrator-server-0.1.0-SNAPSHOT-all.jar}"
BENCH_JVM="${BENCH_JVM:--Xms1g -Xmx1g -XX:+UseG1GC}"
quick=0
for a in "$@"; do
  case "$a" in
    --quick) quick=1 ;;
    -h | --help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-cluster-bench: unknown argument $a" >&2; exit 2 ;;
  esac
done
for f in "${JAR}" "${SERVER_JAR}"; do
  [[ -f "${f}" ]] || { echo "missing ${f}: run 'make build' first" >&2; exit 1; }
done
mkdir -p "${OUT}"
java -cp "${JAR}" dev.lightspeed.orchestrator.bench.Report machine --out "${OUT}/machine-cluster.json"

if [[ "${quick}" == 1 ]]; then
  failover=(--kills 3 --stops 1 --catch-up-records 500000)
  load=(--scale 0.1)
else
  failover=(--kills 10 --stops 5)
  load=()
fi
fo=(java ${BENCH_JVM} -cp "${JAR}" dev.lightspeed.orchestrator.bench.ClusterBench
  --server-jar "${SERVER_JAR}" --out "${OUT}" "${failover[@]}")
lg=(java ${BENCH_JVM} -cp "${JAR}" dev.lightspeed.orchestrator.bench.LoadGenerator
  --server-jar "${SERVER_JAR}" --out "${OUT}" --modes durable,cluster
  --cases unary,bulk,bulk-groups --clients 64 --recovery-records 0 "${load[@]}")
{ printf '%q ' "${fo[@]}"; echo; printf '%q ' "${lg[@]}"; echo; } | sed 's/ $//' > "${OUT}/command-cluster.txt"
start=$(date +%s)
echo "+ ${fo[*]}"
"${fo[@]}" 2>&1 | tee "${OUT}/failover.log"
echo "+ ${lg[*]}"
"${lg[@]}" 2>&1 | tee "${OUT}/load.log"
echo "cluster benchmarks took $(( $(date +%s) - start )) s (logs: ${OUT}/)"
java -cp "${JAR}" dev.lightspeed.orchestrator.bench.Report write --results bench/results --out BENCHMARKS.md
