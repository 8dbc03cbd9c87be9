#!/usr/bin/env bash
# The dashboard's HTTP port on the real server jar: the README's curl example (JSON to the same
# OrchestratorService), the page, and a refusal shown with its reason.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib-server.sh"
trap stop_server EXIT

start_server --config examples/pipelines.json --in-memory --http-port 0
http_port="$(sed -n 's#.*dashboard on http://127.0.0.1:\([0-9]*\)/.*#\1#p' "$SERVER_LOG" | head -1)"
if [[ -z ${http_port} ]]; then
  echo "dashboard-smoke: no 'dashboard on' line in the server log:" >&2
  cat "$SERVER_LOG" >&2
  exit 1
fi
base="http://127.0.0.1:${http_port}"
first="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pipelines"][0]["name"])' examples/pipelines.json)"

# The README's command, with the port this run got instead of 8080.
out="$(curl -sS -H 'Content-Type: application/json' -d '{}' \
  "${base}/lightspeed.orchestrator.v1.OrchestratorService/ListPipelines")"
grep -q "\"name\":\"${first}\"" <<<"${out}" || { echo "ListPipelines over HTTP: ${out}" >&2; exit 1; }
echo "ok: curl JSON ListPipelines lists '${first}'"

out="$(curl -sS -w '\n%{http_code}' -H 'Content-Type: application/json' -d '{"pipeline":"nope"}' \
  "${base}/lightspeed.orchestrator.v1.OrchestratorService/GetStatus")"
grep -q '"reason":"PIPELINE_NOT_FOUND"' <<<"${out}" && [[ ${out##*$'\n'} == 404 ]] \
  || { echo "GetStatus of a missing pipeline: ${out}" >&2; exit 1; }
echo "ok: a refusal comes back 404 with reason PIPELINE_NOT_FOUND"

curl -sS -f "${base}/" | grep -q '/app.js' || { echo "the page is not served" >&2; exit 1; }
curl -sS -f -o /dev/null "${base}/app.js"
echo "ok: the page and its script are served"
