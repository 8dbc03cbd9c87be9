#!/usr/bin/env bash
# The distribution archive works with nothing but a Java runtime: packs it (scripts/dist.sh),
# unpacks it into an empty temporary directory, and from a directory outside it runs
#   bin/lightspeed-server --help          (exit 0, the flags listed)
#   bin/lightspeed-server --port 0 ...    (starts; the port is read from its log)
#   bin/lightspeed pipelines list         (through a symlink, as after `ln -s .../bin/lightspeed ~/bin/`)
# Ends with "N passed, N failed"; exits non-zero if anything failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="${PWD}"

archive="$(bash scripts/dist.sh | tail -n 1)"
work="$(mktemp -d -t lightspeed-dist.XXXXXX)"
server_pid=""
cleanup() {
  if [[ -n ${server_pid} ]] && kill -0 "${server_pid}" 2>/dev/null; then
    kill "${server_pid}" 2>/dev/null || true
    wait "${server_pid}" 2>/dev/null || true
  fi
  rm -rf "${work}"
}
trap cleanup EXIT

passed=0
failed=0
check() { # NAME EXPECTED-REGEX OUTPUT
  if grep -Eq -- "$2" <<<"$3"; then
    echo "ok   $1"
    passed=$((passed + 1))
  else
    echo "FAIL $1: expected /$2/ in:"
    sed 's/^/       /' <<<"$3"
    failed=$((failed + 1))
  fi
}

tar -xzf "${root}/${archive}" -C "${work}"
home="$(echo "${work}"/lightspeed-orchestrator-*)"
listing="$(cd "${home}" && find . -type f | sort)"
for f in bin/lightspeed-server bin/lightspeed lib/lightspeed-orchestrator-server.jar \
  lib/lightspeed-orchestrator-cli.jar examples/pipelines.json README.md VERSION; do
  check "archive holds ${f}" "^\./${f}\$" "${listing}"
done

mkdir "${work}/elsewhere" "${work}/bin-link"
ln -s "${home}/bin/lightspeed" "${work}/bin-link/lightspeed"
cd "${work}/elsewhere"

status=0
out="$("${home}/bin/lightspeed-server" --help 2>&1)" || status=$?
check "lightspeed-server --help exits 0" '^0$' "${status}"
check "lightspeed-server --help lists the flags" '--port' "${out}"

"${home}/bin/lightspeed-server" --port 0 --in-memory --config "${home}/examples/pipelines.json" \
  >"${work}/server.log" 2>&1 &
server_pid=$!
address=""
for _ in $(seq 1 300); do
  address="$(sed -n 's/.*listening on \(127\.0\.0\.1:[0-9][0-9]*\).*/\1/p' "${work}/server.log" | head -n 1 || true)"
  [[ -n ${address} ]] && break
  kill -0 "${server_pid}" 2>/dev/null || break
  sleep 0.1
done
check "lightspeed-server starts" '^127\.0\.0\.1:[0-9]+$' "${address:-did not start: $(cat "${work}/server.log")}"
if [[ -n ${address} ]]; then
  out="$("${work}/bin-link/lightspeed" --target "${address}" pipelines list 2>&1 || true)"
  check "lightspeed pipelines list (through a symlink)" 'orders' "${out}"
  check "lightspeed pipelines list (through a symlink)" 'clickstream' "${out}"
fi

echo "dist: ${passed} passed, ${failed} failed"
(( failed == 0 ))
