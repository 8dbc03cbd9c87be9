#!/usr/bin/env bash
# Checks the working tree's .proto files for breaking changes (buf rule set FILE, from
# buf.yaml) against an earlier version of this repository, read from the local .git (no
# network, no Buf Schema Registry).
#
# Usage: scripts/buf-breaking.sh [REF]
#   REF  a git tag, branch or commit of this repository, e.g. v0.1.0, main or a SHA.
#        Default: the newest release tag (v<major>.<minor>.<patch>..., highest version).
#        If there is no release tag yet, there is no released API to compare against:
#        the script says so and exits 0.
#
# Set BUF to use another buf binary, e.g. BUF=buf. Exits non-zero on a breaking change.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUF=${BUF:-npx --yes @bufbuild/buf@1.75.0}

ref=${1:-}
if [[ -z ${ref} ]]; then
  ref=$(git tag --list 'v[0-9]*' --sort=-version:refname | head -n 1)
  if [[ -z ${ref} ]]; then
    echo "buf breaking: no release tag (v*) yet, so there is no released API to compare against; nothing to check."
    exit 0
  fi
fi
if ! git rev-parse --verify --quiet "${ref}^{commit}" >/dev/null; then
  echo "buf breaking: '${ref}' is not a tag, branch or commit of this repository" >&2
  exit 2
fi

against=".git#ref=${ref}"
echo "+ ${BUF} breaking --against '${against}'"
${BUF} breaking --against "${against}"
echo "buf breaking: no breaking changes against ${ref}"
