#!/usr/bin/env bash
# Runs the README's "Your first worker" blocks as written (scripts/readme_blocks.py extracts
# them: the README is the test input). For each language (or only those named as arguments:
# java python go typescript):
#   - a fresh server jar on a free loopback port with examples/pipelines.json and --metrics-port,
#   - the language's files copied into an EMPTY temporary directory,
#   - its run block executed there with bash -e, in its own process group, with
#     LIGHTSPEED_CHECKOUT (this clone) and LIGHTSPEED_TARGET (the server) exported,
#   - passes when the program printed "processing orders-..." and the server's
#     lightspeed_stage_acked_batches_total{pipeline="orders",stage="extract"} reached 1, and the
#     program ends within 60 s of a Ctrl-C (SIGINT to its process group, as a terminal sends it).
# Needs `make build` first (the Java block uses the library installed in the local Maven
# repository). Ends with "N passed, N failed"; exits non-zero if anything failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib-server.sh
root="${PWD}"
setup_timeout="${README_TEST_TIMEOUT:-600}"   # installing from the registries on a cold cache

if [[ ! -f ${SERVER_JAR} ]]; then
  make --no-print-directory build
fi

languages=("$@")
if (( ${#languages[@]} == 0 )); then
  mapfile -t languages < <(python3 scripts/readme_blocks.py README.md --list)
fi

passed=0
failed=0
work="$(mktemp -d -t lightspeed-readme.XXXXXX)"
pgid=""
cleanup() {
  if [[ -n ${pgid} ]]; then kill -KILL -- "-${pgid}" 2>/dev/null || true; fi
  stop_server
  rm -rf "${work}" "${SERVER_DATA:-}"
}
trap cleanup EXIT

acked() {
  curl -s "http://127.0.0.1:${metrics_port}/metrics" \
    | sed -n 's/^lightspeed_stage_acked_batches_total{\(.*\)} \([0-9.]*\)$/\1 \2/p' \
    | grep 'pipeline="orders"' | grep 'stage="extract"' | awk '{print int($NF)}' | head -n 1
}

run_language() {
  local lang=$1 dir="${work}/${lang}" log="${work}/${lang}.log"
  echo "--- ${lang}"
  mkdir -p "${dir}"
  python3 scripts/readme_blocks.py README.md "${lang}" "${dir}"
  metrics_port="$(free_port)"
  SERVER_DATA=
  start_server --in-memory --config "${root}/examples/pipelines.json" --metrics-port "${metrics_port}"

  # setsid: its own process group, so SIGINT reaches every process of it (go run's child,
  # Maven's JVM), as Ctrl-C in a terminal does.
  (cd "${dir}" && LIGHTSPEED_CHECKOUT="${root}" LIGHTSPEED_TARGET="${SERVER_ADDR}" \
    PYTHONUNBUFFERED=1 exec setsid bash -e .readme-run.sh) >"${log}" 2>&1 &
  local pid=$!
  pgid=${pid}
  local ok=0 t0=${SECONDS}
  while (( SECONDS - t0 < setup_timeout )); do
    if grep -q 'processing orders-' "${log}" && [[ "$(acked)" == 1 ]]; then
      ok=1
      break
    fi
    kill -0 "${pid}" 2>/dev/null || break
    sleep 1
  done
  local stopped=0
  if (( ok )); then
    kill -INT -- "-${pgid}" 2>/dev/null || true
    for _ in $(seq 1 60); do
      if ! kill -0 "${pid}" 2>/dev/null; then stopped=1; break; fi
      sleep 1
    done
  fi
  kill -KILL -- "-${pgid}" 2>/dev/null || true
  wait "${pid}" 2>/dev/null || true
  pgid=""
  stop_server
  if (( ok && stopped )); then
    echo "ok   ${lang}: a batch processed and acked, stopped by Ctrl-C ($((SECONDS - t0)) s)"
    passed=$((passed + 1))
  else
    if (( ok )); then
      echo "FAIL ${lang}: did not stop within 60 s of Ctrl-C"
    else
      echo "FAIL ${lang}: no batch was processed and acked (the commands ended, or ${setup_timeout} s passed)"
    fi
    failed=$((failed + 1))
  fi
  tail -n 25 "${log}" | sed 's/^/       /'
}

for lang in "${languages[@]}"; do
  run_language "${lang}"
done
echo "readme: ${passed} passed, ${failed} failed"
(( failed == 0 ))
