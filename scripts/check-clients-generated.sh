#!/usr/bin/env bash
# Fails when the committed generated client code is out of date with proto/ (or with the
# pinned generators): regenerates into a temporary directory with scripts/gen-clients.sh and
# diffs it against client-python/gen, client-go/gen and client-typescript/src/gen.
# Fix a failure with `make clients` and commit the result.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tmp="$(mktemp -d)"
trap 'rm -rf "${tmp}"' EXIT
bash scripts/gen-clients.sh "${tmp}" >/dev/null 2>"${tmp}.log" || { cat "${tmp}.log" >&2; rm -f "${tmp}.log"; exit 1; }
rm -f "${tmp}.log"

stale=0
for dir in client-python/gen client-go/gen client-typescript/src/gen; do
  if ! diff -r -u -x __pycache__ -x "*.pyc" "${dir}" "${tmp}/${dir}" > "${tmp}/diff.txt"; then
    echo "check-clients: ${dir} is out of date with proto/ (committed vs regenerated; first lines):" >&2
    head -n 30 "${tmp}/diff.txt" | cut -c 1-160 >&2
    stale=1
  fi
done
if (( stale )); then
  echo "check-clients: FAILED: run 'make clients' and commit the regenerated code" >&2
  exit 1
fi
echo "check-clients: generated code in client-python/gen, client-go/gen, client-typescript/src/gen is up to date"
