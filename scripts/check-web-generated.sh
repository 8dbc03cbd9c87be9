#!/usr/bin/env bash
# Fails when the dashboard's committed generated code (web/src/gen) differs from a fresh
# generation from proto/ with the pinned protoc-gen-es (web/package-lock.json), or when the
# page's TypeScript does not type-check (esbuild, which bundles it, does not check types).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"
if [[ ! -d web/node_modules || web/package-lock.json -nt web/node_modules/.package-lock.json ]]; then
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
fi
tmp="$(mktemp -d)"
trap 'rm -rf "${tmp}"' EXIT
web/node_modules/.bin/buf generate --template web/buf.gen.yaml -o "${tmp}"
if ! diff -r web/src/gen "${tmp}/web/src/gen"; then
  echo "check-web-generated: web/src/gen is stale; run 'cd web && npm run generate' and commit" >&2
  exit 1
fi
echo "check-web-generated: web/src/gen matches proto/"
(cd web && node_modules/.bin/tsc -p tsconfig.json)
echo "check-web-generated: web/src type-checks"
