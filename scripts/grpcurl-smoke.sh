#!/usr/bin/env bash
# Smoke test with grpcurl against the real server: the same commands the README shows.
# Installs a pinned grpcurl into .tools/bin if none is on PATH. Prints one line per check and a
# closing "N passed, N failed" line; exits non-zero if any check failed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib-server.sh

GRPCURL_VERSION=v1.9.3
if command -v grpcurl >/dev/null 2>&1; then
  GRPCURL=grpcurl
else
  GRPCURL="$REPO_ROOT/.tools/bin/grpcurl"
  if [ ! -x "$GRPCURL" ]; then
    echo "installing grpcurl $GRPCURL_VERSION into .tools/bin (go install)"
    GOBIN="$REPO_ROOT/.tools/bin" go install "github.com/fullstorydev/grpcurl/cmd/grpcurl@$GRPCURL_VERSION"
  fi
fi

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

trap 'stop_server; rm -rf "$SERVER_DATA"' EXIT
start_server --config examples/pipelines.json
S=lightspeed.orchestrator.v1.OrchestratorService
call() { "$GRPCURL" -plaintext -d "$2" "$SERVER_ADDR" "$S/$1" 2>&1 || true; }

check "list shows the service" "^$S\$" "$("$GRPCURL" -plaintext "$SERVER_ADDR" list)"
check "describe shows EnqueueBatch" "rpc EnqueueBatch" "$("$GRPCURL" -plaintext "$SERVER_ADDR" describe $S)"
check "health is SERVING" '"status": "SERVING"' \
  "$("$GRPCURL" -plaintext "$SERVER_ADDR" grpc.health.v1.Health/Check)"
check "example pipelines are served" '"name": "clickstream"' "$(call ListPipelines '{}')"

check "create a pipeline" '"lease_ms": "30000"' "$(call CreatePipeline '{
  "spec": {"name": "smoke", "stages": ["extract"],
           "connectors": [{"name": "src", "kind": "CONNECTOR_KIND_SOURCE", "stage": "extract"}],
           "retry": {"maxAttempts": 2, "initialBackoffMs": 0}}}')"
check "creating it again is PIPELINE_EXISTS" 'PIPELINE_EXISTS' "$(call CreatePipeline '{"spec": {"name": "smoke", "stages": ["extract"], "allowUnboundStages": true}}')"

check "enqueue b1" '^\{\}$' "$(call EnqueueBatch '{"pipeline": "smoke",
  "batch": {"key": "b1", "stage": "extract", "records": 100, "idempotencyKey": "b1-1", "sequence": 1}}')"
check "enqueue b1 again is deduplicated" '"deduplicated": true' "$(call EnqueueBatch '{"pipeline": "smoke",
  "batch": {"key": "b1", "stage": "extract", "records": 100, "idempotencyKey": "b1-1", "sequence": 1}}')"
check "enqueue b2" '^\{\}$' "$(call EnqueueBatch '{"pipeline": "smoke",
  "batch": {"key": "b2", "stage": "extract", "records": 5, "idempotencyKey": "b2-1", "sequence": 2}}')"
check "an old sequence is SEQUENCE_REGRESSION" 'SEQUENCE_REGRESSION' "$(call EnqueueBatch '{"pipeline": "smoke",
  "batch": {"key": "b3", "stage": "extract", "records": 5, "idempotencyKey": "b3-1", "sequence": 2}}')"

started="$(call StartAvailable '{"pipeline": "smoke"}')"
check "start streams b1" '"key": "b1"' "$started"
check "start streams b2" '"key": "b2"' "$started"

check "ack b1" '"processed"' "$(call AckBatch '{"pipeline": "smoke", "key": "b1", "attempt": 1}')"
check "ack b1 again is the same outcome" '"completed_at_ms"' "$(call AckBatch '{"pipeline": "smoke", "key": "b1"}')"
check "fail b2 schedules a retry" '"retry_scheduled"' \
  "$(call FailBatch '{"pipeline": "smoke", "key": "b2", "attempt": 1, "reason": "sink timeout"}')"
check "restart b2 (backoff 0)" '"attempt": 2' "$(call StartAvailable '{"pipeline": "smoke"}')"
check "fail b2 again dead-letters it" '"destination": "smoke.extract.dlq"' \
  "$(call FailBatch '{"pipeline": "smoke", "key": "b2", "attempt": 2, "reason": "sink timeout"}')"
check "dead letters list b2" '"batch_key": "b2"' "$(call ListDeadLetters '{"pipeline": "smoke"}')"
check "redrive b2" '^\{\}$' "$(call ApplyAction '{"pipeline": "smoke", "action": {"redriveDeadLetter": {"key": "b2"}}}')"
status="$(call GetStatus '{"pipeline": "smoke"}')"
check "status counts the redriven batch" '"queued_count": "1"' "$status"
check "status is valid" '"valid": true' "$status"
check "unknown pipeline is PIPELINE_NOT_FOUND" 'PIPELINE_NOT_FOUND' "$(call GetStatus '{"pipeline": "nope"}')"

signature="$(grep -o '"signature": "[0-9a-f]*"' <<<"$status")"
restart_server --config examples/pipelines.json
check "a restart keeps the pipeline's signature" "$signature" "$(call GetStatus '{"pipeline": "smoke"}')"
check "a restart keeps the redriven batch" '"key": "b2"' "$(call ListBatches '{"pipeline": "smoke"}')"

echo "grpcurl smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
