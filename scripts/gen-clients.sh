#!/usr/bin/env bash
# Generates the Python, Go and TypeScript clients' code from proto/, with ONE protoc: the
# one inside the pinned grpcio-tools (.venv), which also carries the Python generators
# (python, pyi, grpc_python exist only as protoc built-ins there). Go and TypeScript use
# their pinned plugins: .tools/bin/protoc-gen-go{,-grpc} (Go module proxy) and
# client-typescript/node_modules/.bin/protoc-gen-ts_proto (npm). `make clients` installs
# all of them (scripts/clients-tools.sh) and then runs this script.
#
# Usage: scripts/gen-clients.sh [OUT]
#   OUT  directory the client trees are written under (default: the repository root).
#        scripts/check-clients-generated.sh generates into a temporary OUT and diffs.
#
# Writes (after deleting them, so removed protos leave nothing behind):
#   OUT/client-python/gen/      lightspeed/orchestrator/v1/*_pb2.py, *_pb2.pyi, *_pb2_grpc.py
#   OUT/client-go/gen/          lightspeed/orchestrator/v1/*.pb.go, *_grpc.pb.go
#   OUT/client-typescript/src/gen/  lightspeed/orchestrator/v1/*.ts and google/{rpc,protobuf}/*.ts
# google/rpc is generated for TypeScript only: Python takes it from googleapis-common-protos,
# Go from google.golang.org/genproto/googleapis/rpc.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"
out="${1:-${root}}"
mkdir -p "${out}"
out="$(cd "${out}" && pwd)"

py="${root}/.venv/bin/python"
go_plugin="${root}/.tools/bin/protoc-gen-go"
go_grpc_plugin="${root}/.tools/bin/protoc-gen-go-grpc"
ts_plugin="${root}/client-typescript/node_modules/.bin/protoc-gen-ts_proto"
for tool in "${py}" "${go_plugin}" "${go_grpc_plugin}" "${ts_plugin}"; do
  if [[ ! -x ${tool} ]]; then
    echo "gen-clients: ${tool} is missing; run 'make clients' (it installs the pinned generators)" >&2
    exit 2
  fi
done

go_module=github.com/lightspeed-orchestrator/lightspeed/client-go/gen
wkt="$("${py}" -c 'import os, grpc_tools; print(os.path.join(os.path.dirname(grpc_tools.__file__), "_proto"))')"
mapfile -t protos < <(cd proto && find lightspeed -name '*.proto' | LC_ALL=C sort)
rpc_protos=(google/rpc/status.proto google/rpc/error_details.proto)

# orchestrator_service.proto imports google/rpc/error_details.proto without using it, on
# purpose (SPEC 4.1: so that reflection clients can decode ErrorInfo); protoc's warning about
# that is dropped, everything else it says is shown.
protoc() {
  local err status=0
  err="$(mktemp)"
  "${py}" -m grpc_tools.protoc -I proto -I proto/third_party -I "${wkt}" "$@" 2>"${err}" || status=$?
  grep -v 'warning: Import google/rpc/error_details.proto is unused' "${err}" >&2 || true
  rm -f "${err}"
  return "${status}"
}

py_out="${out}/client-python/gen"
go_out="${out}/client-go/gen"
ts_out="${out}/client-typescript/src/gen"
rm -rf "${py_out}" "${go_out}" "${ts_out}"
mkdir -p "${py_out}" "${go_out}" "${ts_out}"

echo "gen-clients: python (grpcio-tools $("${py}" -c 'from importlib.metadata import version; print(version("grpcio-tools"))'))"
protoc --python_out="${py_out}" --pyi_out="${py_out}" --grpc_python_out="${py_out}" "${protos[@]}"

echo "gen-clients: go ($("${go_plugin}" --version), $("${go_grpc_plugin}" --version))"
protoc \
  --plugin=protoc-gen-go="${go_plugin}" --go_out="${go_out}" --go_opt=module="${go_module}" \
  --plugin=protoc-gen-go-grpc="${go_grpc_plugin}" --go-grpc_out="${go_out}" --go-grpc_opt=module="${go_module}" \
  "${protos[@]}"

echo "gen-clients: typescript (ts-proto $(node -p 'require("./client-typescript/node_modules/ts-proto/package.json").version'))"
protoc \
  --plugin=protoc-gen-ts_proto="${ts_plugin}" --ts_proto_out="${ts_out}" \
  --ts_proto_opt=outputServices=grpc-js,env=node,esModuleInterop=true,oneof=unions,useOptionals=messages,exportCommonSymbols=false,useExactTypes=false \
  "${protos[@]}" "${rpc_protos[@]}"
echo "gen-clients: wrote client-python/gen, client-go/gen, client-typescript/src/gen under ${out}"
