#!/usr/bin/env bash
# Mutual TLS from every client against the real server jar: makes a CA, a server certificate and
# a client certificate with the README's openssl commands ("Running in production": "TLS",
# "Client certificates"), starts the server with --tls-cert, --tls-key and --tls-client-ca on a
# free loopback port, then runs
#   - the CLI jar (`lightspeed --ca-file ... --cert-file ... --key-file ... pipelines list`, the
#     same from $LIGHTSPEED_CERT_FILE/$LIGHTSPEED_KEY_FILE, and without a certificate: refused),
#   - client-python/examples/mtls.py, client-go/examples/mtls, client-typescript/examples/mtls.ts
#     (each: its certificate gets in, no certificate fails UNAVAILABLE, a certificate without its
#     key is refused before any call),
#   - and every client with several targets, a dead address first (TLS checks the certificate
#     for the first target's host, or for the server name given; a name it lacks is refused).
# Ends with "N passed, N failed"; exits non-zero if anything failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib-server.sh
root="${PWD}"
CLI_JAR="${root}/client-java/target/lightspeed-orchestrator-client-0.1.0-SNAPSHOT-cli.jar"
if [[ ! -f ${CLI_JAR} || ! -f ${SERVER_JAR} ]]; then
  echo "clients-mtls-test: building the jars (make build)"
  make --no-print-directory build
fi
bash scripts/clients-tools.sh

passed=0
failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; failed=$((failed + 1)); }

work="$(mktemp -d -t lightspeed-mtls.XXXXXX)"
trap 'stop_server; rm -rf "${work}" "${SERVER_DATA:-}"' EXIT

# Build the examples before the server starts.
(cd client-go && go build -o "${work}/go-mtls" ./examples/mtls)
(cd client-typescript && npm run --silent build)

cd "${work}"
mkdir -p tls
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -days 365 \
  -subj "/CN=lightspeed-ca" -keyout tls/ca.key -out tls/ca.pem 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -subj "/CN=orchestrator" \
  -keyout tls/server.key -out tls/server.csr 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > tls/server.ext
openssl x509 -req -in tls/server.csr -CA tls/ca.pem -CAkey tls/ca.key -CAcreateserial \
  -days 365 -extfile tls/server.ext -out tls/server.pem 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -subj "/CN=worker-1" \
  -keyout tls/client.key -out tls/client.csr 2>/dev/null
openssl x509 -req -in tls/client.csr -CA tls/ca.pem -CAkey tls/ca.key -CAcreateserial \
  -days 365 -out tls/client.pem 2>/dev/null

start_server --tls-cert tls/server.pem --tls-key tls/server.key --tls-client-ca tls/ca.pem \
  --config "${root}/examples/pipelines.json"
ADDR="${SERVER_ADDR}"
DEAD="127.0.0.1:$(free_port)" # nobody listens there: the first of several targets is down

lightspeed() { timeout 60 java -jar "${CLI_JAR}" "$@"; }
out="$(lightspeed --ca-file tls/ca.pem --cert-file tls/client.pem --key-file tls/client.key \
  --target "${ADDR}" pipelines list 2>&1 || true)"
if grep -q orders <<<"${out}"; then ok "cli: --cert-file/--key-file"; else fail "cli: --cert-file/--key-file: ${out}"; fi
out="$(LIGHTSPEED_CERT_FILE=tls/client.pem LIGHTSPEED_KEY_FILE=tls/client.key \
  lightspeed --ca-file tls/ca.pem --target "${ADDR}" pipelines list 2>&1 || true)"
if grep -q orders <<<"${out}"; then ok "cli: \$LIGHTSPEED_CERT_FILE/\$LIGHTSPEED_KEY_FILE"; else fail "cli: from the environment: ${out}"; fi
status=0
# The handshake fails (UNAVAILABLE); the CLI retries that for reads, so on a slow machine the
# deadline may run out first (DEADLINE_EXCEEDED). Either way: refused, exit 1, no data.
out="$(lightspeed --ca-file tls/ca.pem --target "${ADDR}" --deadline 30s pipelines list 2>&1)" || status=$?
if [[ ${status} == 1 ]] && grep -Eq '^ERROR (UNAVAILABLE|DEADLINE_EXCEEDED)' <<<"${out}"; then
  ok "cli: without a client certificate: ERROR UNAVAILABLE, exit 1"
else
  fail "cli: without a client certificate (exit ${status}): ${out}"
fi

certs=(--ca-file tls/ca.pem --cert-file tls/client.pem --key-file tls/client.key)
out="$(lightspeed "${certs[@]}" --target "${DEAD},${ADDR}" pipelines list 2>&1 || true)"
if grep -q orders <<<"${out}"; then ok "cli: TLS with --target DEAD,SERVER (the certificate checked for the first host)"; else fail "cli: TLS with --target DEAD,SERVER: ${out}"; fi
out="$(lightspeed "${certs[@]}" --target "${DEAD},${ADDR}" --server-name localhost pipelines list 2>&1 || true)"
if grep -q orders <<<"${out}"; then ok "cli: TLS with --target DEAD,SERVER --server-name localhost"; else fail "cli: --server-name localhost: ${out}"; fi
status=0
out="$(lightspeed "${certs[@]}" --target "${DEAD},${ADDR}" --server-name wrong.example --deadline 30s pipelines list 2>&1)" || status=$?
if [[ ${status} == 1 ]] && grep -Eq '^ERROR (UNAVAILABLE|DEADLINE_EXCEEDED)' <<<"${out}"; then
  ok "cli: --server-name the certificate lacks: refused, exit 1"
else
  fail "cli: --server-name wrong.example (exit ${status}): ${out}"
fi

run() { # NAME COMMAND...
  local name=$1
  shift
  if out="$(timeout 120 "$@" 2>&1)"; then
    ok "${name}"
  else
    fail "${name}"
  fi
  sed 's/^/       /' <<<"${out}"
}
run python "${root}/.venv/bin/python" "${root}/client-python/examples/mtls.py" "${ADDR}" tls "${DEAD}"
run go "${work}/go-mtls" "${ADDR}" tls "${DEAD}"
run typescript node "${root}/client-typescript/dist/examples/mtls.js" "${ADDR}" tls "${DEAD}"

echo "clients mTLS: ${passed} passed, ${failed} failed"
(( failed == 0 ))
