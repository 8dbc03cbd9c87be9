#!/usr/bin/env bash
# Checks the working tree's .proto files for breaking changes (buf rule set FILE) against a
# baseline of the API. Runs offline: no network, no Buf Schema Registry.
#
# Usage: scripts/buf-breaking.sh [REF]
#   (no REF)  compare against proto/baseline/v1.binpb, the committed image of the API as
#             released in version 1 (SPEC version 1). `make test` runs this form, so every
#             change of the API must be an addition.
#   REF       a git tag, branch or commit of this repository (e.g. main or a SHA): compare
#             against the .proto files of that revision, read from the local .git.
#
# The workspace (buf.yaml) has two modules, proto and proto/third_party, so buf would see
# two images in the working tree but one in the baseline file; the script therefore builds
# the working tree into one image first and compares image with image.
#
# Regenerate the baseline only when a new major API version is released:
#   npx --yes @bufbuild/buf@1.75.0 build -o proto/baseline/v1.binpb   (from the repo root)
#
# Set BUF to use another buf binary, e.g. BUF=buf. Exits non-zero on a breaking change.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUF=${BUF:-npx --yes @bufbuild/buf@1.75.0}
BASELINE=proto/baseline/v1.binpb
# The breaking rules of buf.yaml, for image-against-image comparison (an image input does
# not read buf.yaml's module-scoped settings).
RULES='{"version":"v2","breaking":{"use":["FILE"]}}'

ref=${1:-}
if [[ -z ${ref} ]]; then
  against=${BASELINE}
else
  if ! git rev-parse --verify --quiet "${ref}^{commit}" >/dev/null; then
    echo "buf breaking: '${ref}' is not a tag, branch or commit of this repository" >&2
    exit 2
  fi
  against_image=$(mktemp --suffix=.binpb)
  trap 'rm -f "${against_image}" "${current_image:-}"' EXIT
  echo "+ ${BUF} build '.git#ref=${ref}' -o ${against_image}"
  ${BUF} build ".git#ref=${ref}" -o "${against_image}"
  against=${against_image}
fi

current_image=$(mktemp --suffix=.binpb)
trap 'rm -f "${against_image:-}" "${current_image}"' EXIT
${BUF} build -o "${current_image}"
echo "+ ${BUF} breaking <working tree> --against '${against}'"
${BUF} breaking "${current_image}" --against "${against}" --config "${RULES}"
echo "buf breaking: no breaking changes against ${ref:-${BASELINE}}"
