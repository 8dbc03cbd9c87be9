#!/usr/bin/env bash
# What the BullMQ peer needs: Debian's redis-server (apt-get, when missing) and bullmq as pinned
# in package-lock.json (npm ci, redone when the lock file changes).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if ! command -v redis-server >/dev/null; then
  echo "bullmq peer: installing Debian's redis-server (apt-get)" >&2
  sudo=()
  [[ "$(id -u)" == 0 ]] || sudo=(sudo)
  "${sudo[@]}" apt-get install -y -q redis-server >/dev/null || {
    "${sudo[@]}" apt-get update -q >/dev/null && "${sudo[@]}" apt-get install -y -q redis-server >/dev/null; }
fi
stamp="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ "$(cat node_modules/.lightspeed-stamp 2>/dev/null)" != "${stamp}" ]]; then
  echo "bullmq peer: npm ci (bullmq as pinned in package-lock.json)" >&2
  npm ci --no-audit --no-fund --loglevel=error
  echo "${stamp}" > node_modules/.lightspeed-stamp
fi
