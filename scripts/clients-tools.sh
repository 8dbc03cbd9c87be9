#!/usr/bin/env bash
# Installs, at pinned versions, everything the clients need to be generated and tested:
#   .venv/                               python3 venv: client-python/requirements.txt (grpcio-tools
#                                        1.85.1 = protoc + the Python generators, grpcio, ...) and
#                                        client-python itself (editable)
#   .tools/bin/protoc-gen-go{,-grpc}     from the Go module proxy (go install)
#   client-typescript/node_modules/      npm ci from the committed package-lock.json (ts-proto,
#                                        @grpc/grpc-js, typescript)
# Each step is skipped when what it would install is already there (a stamp of its inputs), so
# a warm run costs well under a second. Prints what it does.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PROTOC_GEN_GO_VERSION=v1.36.12     # google.golang.org/protobuf, the Go runtime pinned in client-go/go.mod
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2  # google.golang.org/grpc/cmd/protoc-gen-go-grpc

stamp_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

# Python
py_stamp="$(stamp_of client-python/requirements.txt client-python/pyproject.toml)"
if [[ ! -x .venv/bin/python || "$(cat .venv/.lightspeed-stamp 2>/dev/null)" != "${py_stamp}" ]]; then
  echo "clients-tools: python venv .venv (client-python/requirements.txt + client-python)"
  [[ -x .venv/bin/python ]] || python3 -m venv .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check -r client-python/requirements.txt
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e client-python
  echo "${py_stamp}" > .venv/.lightspeed-stamp
fi

# Go plugins
if [[ "$(.tools/bin/protoc-gen-go --version 2>/dev/null)" != "protoc-gen-go ${PROTOC_GEN_GO_VERSION}" ]]; then
  echo "clients-tools: go install protoc-gen-go@${PROTOC_GEN_GO_VERSION}"
  GOBIN="${PWD}/.tools/bin" go install "google.golang.org/protobuf/cmd/protoc-gen-go@${PROTOC_GEN_GO_VERSION}"
fi
if [[ "$(.tools/bin/protoc-gen-go-grpc --version 2>/dev/null)" != "protoc-gen-go-grpc ${PROTOC_GEN_GO_GRPC_VERSION#v}" ]]; then
  echo "clients-tools: go install protoc-gen-go-grpc@${PROTOC_GEN_GO_GRPC_VERSION}"
  GOBIN="${PWD}/.tools/bin" go install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@${PROTOC_GEN_GO_GRPC_VERSION}"
fi

# TypeScript
ts_stamp="$(stamp_of client-typescript/package-lock.json)"
if [[ "$(cat client-typescript/node_modules/.lightspeed-stamp 2>/dev/null)" != "${ts_stamp}" ]]; then
  echo "clients-tools: npm ci in client-typescript"
  (cd client-typescript && npm ci --no-audit --no-fund --loglevel=error)
  echo "${ts_stamp}" > client-typescript/node_modules/.lightspeed-stamp
fi
