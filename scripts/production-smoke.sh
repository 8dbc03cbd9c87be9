#!/usr/bin/env bash
# The README's "Running in production" commands, run as written against the real server jar
# (only the ports are free ones instead of 50443/50444/9464, and every address is 127.0.0.1):
# certificates with openssl, a token file, TLS + tokens + metrics, grpcurl with a token,
# curl /metrics, mutual TLS, and the refusal to listen on 0.0.0.0 without TLS and tokens.
# Prints one line per check and a closing "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib-server.sh

GRPCURL_VERSION=v1.9.3
if command -v grpcurl >/dev/null 2>&1; then
  GRPCURL="$(command -v grpcurl)"
else
  GRPCURL="$REPO_ROOT/.tools/bin/grpcurl"
  if [ ! -x "$GRPCURL" ]; then
    echo "installing grpcurl $GRPCURL_VERSION into .tools/bin (go install)"
    GOBIN="$REPO_ROOT/.tools/bin" go install "github.com/fullstorydev/grpcurl/cmd/grpcurl@$GRPCURL_VERSION"
  fi
fi
grpcurl() { "$GRPCURL" "$@"; }
JAR="$SERVER_JAR"

passed=0
failed=0
check() { # check NAME EXPECTED-REGEX OUTPUT
  if grep -Eq -- "$2" <<<"$3"; then
    echo "ok   $1"
    passed=$((passed + 1))
  else
    echo "FAIL $1: expected /$2/ in:"
    sed 's/^/       /' <<<"$3"
    failed=$((failed + 1))
  fi
}

WORK="$(mktemp -d -t lightspeed-prod.XXXXXX)"
FIRST_PID=
trap 'stop_server; [ -z "$FIRST_PID" ] || kill -TERM "$FIRST_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
cd "$WORK"

# ---- certificates (README: "TLS") ----
mkdir -p tls
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -days 365 \
  -subj "/CN=lightspeed-ca" -keyout tls/ca.key -out tls/ca.pem 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -subj "/CN=orchestrator" \
  -keyout tls/server.key -out tls/server.csr 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > tls/server.ext
openssl x509 -req -in tls/server.csr -CA tls/ca.pem -CAkey tls/ca.key -CAcreateserial \
  -days 365 -extfile tls/server.ext -out tls/server.pem 2>/dev/null

# ---- tokens (README: "Tokens and roles") ----
umask 077
ADMIN_TOKEN="$(openssl rand -hex 32)"
PRODUCER_TOKEN="$(openssl rand -hex 32)"
WORKER_TOKEN="$(openssl rand -hex 32)"
READER_TOKEN="$(openssl rand -hex 32)"
cat > tokens.txt <<EOF
# TOKEN  ROLES  NAME
$ADMIN_TOKEN     admin,operator,reader  ops-team
$PRODUCER_TOKEN  producer               ingest
$WORKER_TOKEN    worker                 workers
sha256:$(printf %s "$READER_TOKEN" | sha256sum | cut -d' ' -f1)  reader  dashboards
EOF
umask 022

# ---- start (README: "Start it") ----
METRICS_PORT="$(free_port)"
SERVER_DATA="$WORK/prod-data"
start_server --tls-cert tls/server.pem --tls-key tls/server.key --token-file tokens.txt \
  --metrics-port "$METRICS_PORT" --config "$REPO_ROOT/examples/pipelines.json"
S=lightspeed.orchestrator.v1.OrchestratorService
ADDR="$SERVER_ADDR"

check "list needs no token (reflection is open)" "^$S\$" \
  "$(grpcurl -cacert tls/ca.pem "$ADDR" list 2>&1 || true)"
check "health needs no token" '"status": "SERVING"' \
  "$(grpcurl -cacert tls/ca.pem "$ADDR" grpc.health.v1.Health/Check 2>&1 || true)"
check "plaintext is refused" 'Failed to dial' \
  "$(grpcurl -plaintext -connect-timeout 3 "$ADDR" list 2>&1 || true)"
check "no token: UNAUTHENTICATED MISSING_CREDENTIALS" 'Unauthenticated[\s\S]*MISSING_CREDENTIALS|MISSING_CREDENTIALS' \
  "$(grpcurl -cacert tls/ca.pem -d '{"pipeline": "orders"}' "$ADDR" $S/GetStatus 2>&1 || true)"
check "reader token reads" '"valid": true' \
  "$(grpcurl -cacert tls/ca.pem -H "authorization: Bearer $READER_TOKEN" \
       -d '{"pipeline": "orders"}' "$ADDR" $S/GetStatus 2>&1 || true)"
check "reader token cannot enqueue: PERMISSION_DENIED ROLE_REQUIRED" 'ROLE_REQUIRED' \
  "$(grpcurl -cacert tls/ca.pem -H "authorization: Bearer $READER_TOKEN" \
       -d '{"pipeline": "orders", "batch": {"key": "b1", "stage": "extract", "records": 10,
            "idempotencyKey": "b1", "sequence": 1}}' "$ADDR" $S/EnqueueBatch 2>&1 || true)"
check "producer token enqueues" '^\{\}$' \
  "$(grpcurl -cacert tls/ca.pem -H "authorization: Bearer $PRODUCER_TOKEN" \
       -d '{"pipeline": "orders", "batch": {"key": "b1", "stage": "extract", "records": 10,
            "idempotencyKey": "b1", "sequence": 1}}' "$ADDR" $S/EnqueueBatch 2>&1 || true)"
check "worker token starts" '"key": "b1"' \
  "$(grpcurl -cacert tls/ca.pem -H "authorization: Bearer $WORKER_TOKEN" \
       -d '{"pipeline": "orders"}' "$ADDR" $S/StartAvailable 2>&1 || true)"
check "a bad token: INVALID_CREDENTIALS" 'INVALID_CREDENTIALS' \
  "$(grpcurl -cacert tls/ca.pem -H "authorization: Bearer not-a-token-of-this-server" \
       -d '{"pipeline": "orders"}' "$ADDR" $S/GetStatus 2>&1 || true)"

metrics="$(curl -s "http://127.0.0.1:$METRICS_PORT/metrics")"
check "metrics: in-flight gauge" 'lightspeed_pipeline_in_flight_batches\{pipeline="orders"\} 1' "$metrics"
check "metrics: enqueued counter" 'lightspeed_batches_enqueued_total\{pipeline="orders"\} 1' "$metrics"
check "metrics: refusals by reason" 'lightspeed_rejections_total\{.*reason="ROLE_REQUIRED".*\} 1' "$metrics"
check "metrics: JVM" '^jvm_threads_current ' "$metrics"
check "the log names a refused token by its name" 'event=auth_refused reason=ROLE_REQUIRED .*token_name=dashboards' \
  "$(cat "$SERVER_LOG")"
if grep -qF -e "$ADMIN_TOKEN" -e "$PRODUCER_TOKEN" -e "$WORKER_TOKEN" -e "$READER_TOKEN" "$SERVER_LOG"; then
  check "no token in the log" 'never' 'a token is in the log'
else
  check "no token in the log" 'ok' 'ok'
fi
# The first server keeps running while the second starts, as the README allows: each has its own
# port and data directory.
FIRST_PID="$SERVER_PID"
SERVER_PID=

# ---- mutual TLS (README: "Client certificates") ----
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -subj "/CN=worker-1" \
  -keyout tls/client.key -out tls/client.csr 2>/dev/null
openssl x509 -req -in tls/client.csr -CA tls/ca.pem -CAkey tls/ca.key -CAcreateserial \
  -days 365 -out tls/client.pem 2>/dev/null
SERVER_DATA="$WORK/mtls-data"
start_server --tls-cert tls/server.pem --tls-key tls/server.key --tls-client-ca tls/ca.pem
ADDR="$SERVER_ADDR"
check "mTLS: a client certificate of the CA gets in" "^$S\$" \
  "$(grpcurl -cacert tls/ca.pem -cert tls/client.pem -key tls/client.key "$ADDR" list 2>&1 || true)"
check "mTLS: no client certificate, no connection" 'Failed to dial' \
  "$(grpcurl -cacert tls/ca.pem -connect-timeout 3 "$ADDR" list 2>&1 || true)"
stop_server
kill -TERM "$FIRST_PID" && wait "$FIRST_PID" 2>/dev/null || true
FIRST_PID=

# ---- the refusal (README: "Exposure") ----
refusal="$(timeout 30 java -jar "$JAR" --bind 0.0.0.0 --port 0 --in-memory 2>&1 || true)"
check "0.0.0.0 without TLS and tokens refuses to start" 'refusing to listen on 0.0.0.0.*--insecure' "$refusal"

echo "production smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
