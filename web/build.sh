#!/usr/bin/env bash
# Builds the web dashboard into OUT (default web/dist): installs the pinned packages from
# package-lock.json when node_modules is missing or older than the lock file (npm ci), then
# bundles with esbuild. The server's Maven build runs it into the jar's /dashboard resources.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-${here}/dist}"
cd "${here}"
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
node build.mjs "${out}"
