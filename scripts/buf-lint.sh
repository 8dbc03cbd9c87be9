#!/usr/bin/env bash
# Lints the .proto files under proto/ with buf, by the rules in buf.yaml (STANDARD plus
# COMMENTS). Needs only npm (buf comes from the npm registry, pinned); no Buf Schema
# Registry access. Set BUF to use another buf binary, e.g. BUF=buf.
# Exits non-zero and prints buf's findings if a rule is broken.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUF=${BUF:-npx --yes @bufbuild/buf@1.75.0}

echo "+ ${BUF} lint"
${BUF} lint
echo "buf lint: clean"
