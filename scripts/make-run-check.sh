#!/usr/bin/env bash
# `make run` as the README describes it: PORT, DATA and ARGS reach the server; the jar is rebuilt
# only when a source is newer than it; and a real `make run PORT=… DATA=…` serves on that port
# with its data where asked. Needs the server jar built (make test builds it first).
# Prints one line per check and a closing "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib-server.sh

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
check_not() { # check_not NAME UNEXPECTED-REGEX OUTPUT
  if grep -Eq -- "$2" <<<"$3"; then
    echo "FAIL $1: did not expect /$2/ in:"
    sed 's/^/       /' <<<"$3"
    failed=$((failed + 1))
  else
    echo "ok   $1"
    passed=$((passed + 1))
  fi
}

WORK="$(mktemp -d -t lightspeed-make-run.XXXXXX)"
MAKE_PID=
cleanup() {
  if [ -n "$MAKE_PID" ]; then
    for child in $(pgrep -P "$MAKE_PID" || true); do kill -TERM "$child" 2>/dev/null || true; done
    wait "$MAKE_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

dry="$(make -n run PORT=50999 DATA="$WORK/d" ARGS="--fsync never --snapshot-every 7")"
check "PORT, DATA and ARGS reach the server's command line" \
  "java .*-jar .* --port 50999 --data-dir $WORK/d .*--fsync never --snapshot-every 7" "$dry"
check "the defaults are 50051 and data" "--port 50051 --data-dir data " "$(make -n run)"
check_not "an up-to-date jar is not rebuilt" "mvn " "$dry"
check "a changed server source rebuilds the jar first, with progress (no -q)" \
  "^mvn -B -ntp -pl server -am install" \
  "$(make -n -W server/src/main/java/dev/lightspeed/orchestrator/boot/ServerMain.java run)"
check "a changed .proto rebuilds it too" "^mvn " \
  "$(make -n -W proto/lightspeed/orchestrator/v1/pipeline.proto run)"
check "make help documents PORT, DATA and ARGS" "make run PORT=.* DATA=.* ARGS=" "$(make help)"

# The real thing, on a free port and a fresh data directory.
PORT="$(free_port)"
make run PORT="$PORT" HTTP_PORT="$(free_port)" DATA="$WORK/run-data" ARGS="--shutdown-grace 1" >"$WORK/run.log" 2>&1 &
MAKE_PID=$!
for _ in $(seq 1 150); do
  grep -q "listening on" "$WORK/run.log" 2>/dev/null && break
  kill -0 "$MAKE_PID" 2>/dev/null || break
  sleep 0.2
done
log="$(cat "$WORK/run.log")"
check "make run PORT=… listens on that port" "listening on 127.0.0.1:$PORT " "$log"
check "make run DATA=… keeps its data there" "data in $WORK/run-data" "$log"
check "log lines start with an ISO-8601 time" \
  "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}" "$log"
check_not "no ANSI escapes" $'\e' "$log"

echo "make run check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
