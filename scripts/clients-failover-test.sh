#!/usr/bin/env bash
# Fail-over of the Python, Go and TypeScript clients between several targets, against the real
# server jar: for each client, starts two independent servers A and B on free loopback ports
# (scripts/lib-server.sh; both with the same --token-file, so the token travels with every
# call), and runs its example client-*/examples/failover.* with A, B and A's process id. The
# example gives its client [A, B], checks that calls and a continuous worker use A, kills A,
# and checks that they go on against B; then that a list of dead addresses fails UNAVAILABLE.
# (The Java client and CLI have the same test in-process: FailoverTest, CliFailoverTest.)
# Ends with "N passed, N failed"; exits non-zero if anything failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib-server.sh
root="${PWD}"
if [[ ! -f ${SERVER_JAR} ]] || [[ -n "$(find server/src proto/lightspeed pom.xml server/pom.xml proto/pom.xml -newer "${SERVER_JAR}" -print -quit)" ]]; then
  echo "clients-failover-test: building the server jar (make build)"
  make --no-print-directory build
fi
bash scripts/clients-tools.sh

work="$(mktemp -d -t lightspeed-failover.XXXXXX)"
a_pid=""
b_pid=""
stop_both() {
  local pid
  for pid in ${a_pid} ${b_pid}; do
    if kill -0 "${pid}" 2>/dev/null; then
      kill "${pid}" 2>/dev/null || true
      wait "${pid}" 2>/dev/null || true # returns at once for the disowned A
      while kill -0 "${pid}" 2>/dev/null; do sleep 0.1; done
    fi
  done
  a_pid=""
  b_pid=""
}
trap 'stop_both; rm -rf "${work}"' EXIT

(cd client-go && go build -o "${work}/go-failover" ./examples/failover)
(cd client-typescript && npm run --silent build)

token="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
(umask 077 && printf '%s  producer,worker,operator,admin,reader  failover-test\n' "${token}" >"${work}/tokens.txt")
export LIGHTSPEED_TOKEN="${token}"

passed=0
failed=0
run() { # NAME COMMAND... (A, B and A's pid are appended)
  local name=$1
  shift
  SERVER_DATA="$(mktemp -d -p "${work}")" start_server --token-file "${work}/tokens.txt"
  local a="${SERVER_ADDR}"
  a_pid="${SERVER_PID}"
  # The example kills A: disowned, bash does not report that as if something had failed.
  disown "${a_pid}"
  SERVER_DATA="$(mktemp -d -p "${work}")" start_server --token-file "${work}/tokens.txt"
  local b="${SERVER_ADDR}"
  b_pid="${SERVER_PID}"
  SERVER_PID=""
  echo "--- ${name}: A ${a} (pid ${a_pid}), B ${b} (pid ${b_pid})"
  local status=0
  timeout 120 "$@" "${a}" "${b}" "${a_pid}" || status=$?
  if (( status == 0 )); then
    echo "ok   ${name}"
    passed=$((passed + 1))
  else
    echo "FAIL ${name}"
    failed=$((failed + 1))
  fi
  stop_both
}

run python "${root}/.venv/bin/python" client-python/examples/failover.py
run go "${work}/go-failover"
run typescript node client-typescript/dist/examples/failover.js

echo "${passed} passed, ${failed} failed"
(( failed == 0 ))
