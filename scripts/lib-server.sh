# Shared by the smoke scripts: start the real server jar on a free loopback port, stop it.
# Usage: source scripts/lib-server.sh; start_server [extra flags...]; ...; stop_server
# Sets SERVER_PORT and SERVER_ADDR; the server's log goes to $SERVER_LOG.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERVER_JAR="$REPO_ROOT/server/target/lightspeed-orchestrator-server-0.1.0-SNAPSHOT-all.jar"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start_server() {
  SERVER_ARGS=("$@")
  SERVER_DATA="${SERVER_DATA:-$(mktemp -d -t lightspeed-data.XXXXXX)}"
  if [ ! -f "$SERVER_JAR" ]; then
    echo "building the server jar (mvn install -DskipTests -DskipITs)"
    (cd "$REPO_ROOT" && mvn -B -ntp -q install -DskipTests -DskipITs)
  fi
  SERVER_PORT="$(free_port)"
  SERVER_ADDR="127.0.0.1:$SERVER_PORT"
  SERVER_LOG="$(mktemp -t lightspeed-server.XXXXXX.log)"
  java -jar "$SERVER_JAR" --bind 127.0.0.1 --port "$SERVER_PORT" --data-dir "$SERVER_DATA" "$@" \
    >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  # Generous: on a loaded 2-core machine the JVM alone can take several seconds to start.
  local tries=$((${SERVER_START_TIMEOUT:-60} * 10))
  for _ in $(seq 1 "$tries"); do
    if grep -q "listening on" "$SERVER_LOG" 2>/dev/null; then
      echo "server up on $SERVER_ADDR (pid $SERVER_PID, log $SERVER_LOG)"
      return 0
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "server exited during start-up:" >&2
      cat "$SERVER_LOG" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "server did not start within ${SERVER_START_TIMEOUT:-60} s:" >&2
  cat "$SERVER_LOG" >&2
  return 1
}

# Stops the server gracefully and starts it again on the same data directory and flags.
restart_server() {
  stop_server
  start_server "${SERVER_ARGS[@]}"
}

stop_server() {
  if [ -n "${SERVER_PID:-}" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
}
