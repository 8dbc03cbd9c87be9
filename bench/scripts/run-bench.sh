#!/usr/bin/env bash
# Runs one benchmark suite and rewrites BENCHMARKS.md from the latest results of both.
#   bench/scripts/run-bench.sh load [LoadGenerator options...]   (make bench)
#   bench/scripts/run-bench.sh jmh  [JMH options...]             (make bench-jmh)
# Results, logs and data directories go to bench/results/ (gitignored).
set -euo pipefail
cd "$(dirname "$0")/../.."

suite="${1:?usage: run-bench.sh load|jmh [options...]}"
shift
JAR=bench/target/benchmarks.jar
OUT=bench/results
# The measuring JVM (load generator or JMH's driver); the server and JMH forks set their own.
BENCH_JVM="${BENCH_JVM:--Xms1g -Xmx1g -XX:+UseG1GC}"
mkdir -p "$OUT"
if [ ! -f "$JAR" ]; then
  echo "missing $JAR: run 'make build' first" >&2
  exit 1
fi

java -cp "$JAR" dev.lightspeed.orchestrator.bench.Report machine --out "$OUT/machine-$suite.json"
case "$suite" in
  load)
    cmd=(java $BENCH_JVM -cp "$JAR" dev.lightspeed.orchestrator.bench.LoadGenerator --out "$OUT" "$@")
    ;;
  jmh)
    cmd=(java $BENCH_JVM -jar "$JAR" CoreLifecycleBenchmark -rf json -rff "$OUT/jmh.json" "$@")
    ;;
  *)
    echo "unknown suite $suite (load or jmh)" >&2
    exit 2
    ;;
esac
printf '%q ' "${cmd[@]}" | sed 's/ $//' >"$OUT/command-$suite.txt"
echo >>"$OUT/command-$suite.txt"
echo "+ $(cat "$OUT/command-$suite.txt")"
start=$(date +%s)
"${cmd[@]}" 2>&1 | tee "$OUT/$suite.log"
echo "$suite benchmarks took $(( $(date +%s) - start )) s (log: $OUT/$suite.log)"
java -cp "$JAR" dev.lightspeed.orchestrator.bench.Report write --results "$OUT" --out BENCHMARKS.md
