#!/usr/bin/env bash
# Runs the Python, Go and TypeScript story examples (client-*/examples/story.*) against ONE
# real server: builds the server jar if it is missing or older than its sources, installs the
# clients' pinned tools (scripts/clients-tools.sh), starts the server on a free loopback port
# (--port 0; the port is read from its log) with a --token-file holding one random token with
# every role, runs the three examples with that token in $LIGHTSPEED_TOKEN (each sends it on
# every call, checks that a call without it is refused with UNAUTHENTICATED MISSING_CREDENTIALS,
# and creates its own uniquely named pipelines), stops the server, and ends with
# "N passed, N failed". Plaintext is fine here: the server listens on loopback only.
# Exits non-zero if any example failed or the server could not be started.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="${PWD}"

jar="${root}/server/target/lightspeed-orchestrator-server-0.1.0-SNAPSHOT-all.jar"
example_timeout="${CLIENTS_TEST_TIMEOUT:-120}"
start_s=${SECONDS}

log() { echo "clients-test: $*"; }

if [[ ! -f ${jar} ]] || [[ -n "$(find server/src proto/lightspeed pom.xml server/pom.xml proto/pom.xml -newer "${jar}" -print -quit)" ]]; then
  log "building the server jar (make build)"
  make --no-print-directory build
fi

log "installing the clients' tools"
bash scripts/clients-tools.sh

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [[ -n ${server_pid} ]] && kill -0 "${server_pid}" 2>/dev/null; then
    kill "${server_pid}" 2>/dev/null || true
    wait "${server_pid}" 2>/dev/null || true
  fi
  rm -rf "${work}"
}
trap cleanup EXIT

# Build the Go and TypeScript examples before the server starts (their time is not the server's).
log "building the Go example (go build ./examples/story)"
go_built=0
(cd client-go && go build -o "${work}/go-story" ./examples/story) && go_built=1
log "building the TypeScript package and example (tsc)"
ts_built=0
(cd client-typescript && npm run --silent build) && ts_built=1

# The server runs in a scratch directory, so whatever it writes relative to its working
# directory stays out of the repository.
# One token with every role (README: "Tokens and roles"), private to this run.
token="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
(umask 077 && printf '%s  producer,worker,operator,admin,reader  clients-test\n' "${token}" >"${work}/tokens.txt")

log "starting the server on a free loopback port, with --token-file"
: >"${work}/server.log"
(cd "${work}" && exec java -jar "${jar}" --bind 127.0.0.1 --port 0 --token-file tokens.txt \
  >"${work}/server.log" 2>&1) &
server_pid=$!
address=""
for _ in $(seq 1 600); do
  address="$(sed -n 's/.*listening on \(127\.0\.0\.1:[0-9][0-9]*\).*/\1/p' "${work}/server.log" | head -n 1 || true)"
  [[ -n ${address} ]] && break
  if ! kill -0 "${server_pid}" 2>/dev/null; then
    break
  fi
  sleep 0.1
done
if [[ -z ${address} ]]; then
  log "the server did not start; its log:"
  cat "${work}/server.log" >&2
  echo "0 passed, 4 failed"
  exit 1
fi
log "server listening on ${address} (pid ${server_pid})"
# The examples read it (as the CLI does); without it every call of theirs would be refused.
export LIGHTSPEED_TOKEN="${token}"

passed=0
failed=0
failures=()
run_example() {
  local name=$1
  shift
  log "--- ${name} example"
  local t0=${SECONDS}
  if timeout "${example_timeout}" "$@"; then
    passed=$((passed + 1))
    log "${name}: PASSED ($((SECONDS - t0)) s)"
  else
    failed=$((failed + 1))
    failures+=("${name}")
    log "${name}: FAILED ($((SECONDS - t0)) s)"
  fi
}

run_example python "${root}/.venv/bin/python" client-python/examples/story.py "${address}"
run_example python-stream-worker "${root}/.venv/bin/python" client-python/tests/stream_worker.py "${address}"
run_example python-batcher "${root}/.venv/bin/python" client-python/tests/batcher_sync_done.py
run_example python-batcher-refill "${root}/.venv/bin/python" client-python/tests/batcher_refill.py
run_example python-batcher-waited "${root}/.venv/bin/python" client-python/tests/batcher_waited.py
run_example go-unit bash -c "cd client-go && go test ./orchestrator/"
if (( go_built )); then
  run_example go "${work}/go-story" "${address}"
else
  failed=$((failed + 1)); failures+=("go (build)"); log "go: FAILED (did not build)"
fi
if (( ts_built )); then
  run_example typescript node client-typescript/dist/examples/story.js "${address}"
  run_example typescript-abort node client-typescript/dist/examples/abort-exits.js "${address}"
  run_example typescript-worker-streams node client-typescript/dist/examples/worker-streams.js "${address}"
  run_example typescript-batcher-waited node client-typescript/dist/examples/batcher-waited.js
  run_example typescript-wire-check node client-typescript/dist/examples/wire-check.js
else
  failed=$((failed + 1)); failures+=("typescript (build)"); log "typescript: FAILED (did not build)"
fi

log "stopping the server"
kill "${server_pid}" 2>/dev/null || true
server_status=0
wait "${server_pid}" 2>/dev/null || server_status=$?
server_pid=""
if grep -q -E 'Exception|ERROR' "${work}/server.log"; then
  log "the server logged errors during the run:"
  grep -E -A5 'Exception|ERROR' "${work}/server.log" | head -n 40 >&2
fi

log "done in $((SECONDS - start_s)) s${failures:+; failed: ${failures[*]}}"
echo "${passed} passed, ${failed} failed"
(( failed == 0 ))
